/**
 * `deno run -A bench/if_real_shapes_bench.ts`: issue 31, acceptance 3. Writes DeepFloyd IF folders
 * with the real shapes and random weights (deepfloyd/'s presets `if-i-m`, `if-ii-m`,
 * `t5-v1_1-xxl`; UNets as one fp32 `diffusion_pytorch_model.safetensors`, the T5-XXL encoder in
 * bf16 as two shards with an index, like the hub's) under `--dir` (default /tmp, 12.8 GB), then
 * runs each measurement in its own subprocess, one at a time, so that each peak RSS (VmHWM, the
 * kernel's high-water mark of that process) is its own:
 *
 * - `load-i`, `load-ii`: `loadIFStage` of the stage I / stage II folder;
 * - `sample-i`: one stage I sampling step at 64² (classifier-free guidance 7: a batch-2 forward);
 * - `sample-ii`: one stage II step at 256² from a 64² image (guidance 4, noise level 250);
 * - `lora-i`, `full-i`: one stage I DreamBooth step, batch 1 instance + 1 class image at 64²
 *   (prior-preservation loss, Adam), LoRA rank 4 on the attention projections / every weight;
 * - `t5`: the full 24-block T5-XXL encode of a 77-token prompt, streamed from the shards.
 *
 * Prompt embeddings of the UNet measurements are random `[1, 77, 4096]` tensors (the T5 cost is
 * its own row). Each step's time excludes loading; its peak includes it. Before each measurement
 * the bench waits (up to `--wait-s`) for enough available memory. The folder is deleted at the
 * end unless `--keep`. Prints a markdown table with the date, CPU and load average.
 *
 * Flags: `--dir D`, `--only a,b`, `--keep`, `--backend NAME`, `--wait-s S`.
 *
 * @module
 */
import { declareParams, parseCliOrExit } from "../params/mod.ts";
import { createAdam, initBackend, parseBackendName, tf } from "../backend/mod.ts";
import { backendParam } from "../diffusion/mod.ts";
import { availableMemoryBytes } from "./_memory.ts";
import {
  encodeIFPromptsStreaming,
  ifPreset,
  ifUNetConfigFromDiffusers,
  ifUNetParameterShapes,
  loadIFStage,
  sampleIF,
  t5EncoderParameterShapes,
} from "../deepfloyd/mod.ts";
import { ifDreamBoothStep } from "../dreambooth/mod.ts";
import { SentencePieceProcessor } from "../tokenizer/mod.ts";

const MEASUREMENTS = ["load-i", "load-ii", "sample-i", "sample-ii", "lora-i", "full-i", "t5"];
/** GiB of available memory each measurement waits for (its measured peak + ~1 GiB, 2026-12-08). */
const NEEDS: Record<string, number> = {
  "load-i": 4,
  "load-ii": 4,
  "sample-i": 5,
  "sample-ii": 9,
  "lora-i": 11,
  "full-i": 12,
  "t5": 4,
};

const values = parseCliOrExit(Deno.args, {
  params: declareParams("bench", {
    dir: {
      type: "string",
      default: "/tmp/if_real_shapes_bench",
      metavar: "D",
      help: "folder for the weights",
    },
    only: {
      type: "string",
      default: MEASUREMENTS.join(","),
      metavar: "LIST",
      help: "measurements to run",
    },
    measure: { type: "string", default: "", metavar: "NAME", help: "(internal) run one" },
    keep: { type: "boolean", default: false, help: "keep the weights folder" },
    waitS: { type: "integer", min: 0, max: 3600, default: 300, help: "wait for free memory" },
    backend: { ...backendParam, default: "native" },
  }),
  usage: "deno run -A bench/if_real_shapes_bench.ts [options]",
});
const dir = values.dir;
const gib = (b: number) => (b / 2 ** 30).toFixed(2);
const secs = (ms: number) => (ms / 1000).toFixed(1);

function procStatusKb(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(
    Deno.readTextFileSync("/proc/self/status"),
  );
  return m ? Number(m[1]) * 1024 : NaN;
}

// ---------------------------------------------------------------- writing the folders

/** 4 Mi uniform values in [−1, 1] (xorshift32), reused at shifting offsets for every tensor. */
const POOL = (() => {
  const p = new Float32Array(1 << 22);
  let x = 2463534242;
  for (let i = 0; i < p.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    p[i] = (x >>> 0) / 4294967296 * 2 - 1;
  }
  return p;
})();

type Spec = { name: string; shape: number[]; scale: number };

/** Writes one safetensors file, generating each tensor's data in 1 Mi-value chunks. */
async function writeSafetensorsStreaming(
  path: string,
  specs: Spec[],
  dtype: "F32" | "BF16",
): Promise<number> {
  const bytesPer = dtype === "F32" ? 4 : 2;
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let off = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1) * bytesPer;
    header[s.name] = { dtype, shape: s.shape, data_offsets: [off, off + n] };
    off += n;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - json.length % 8) % 8);
  const h = new TextEncoder().encode(json);
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(h.length), true);
    await f.write(len);
    await f.write(h);
    const chunk = new Float32Array(1 << 20);
    const half = new Uint16Array(chunk.buffer);
    const bf = new Uint16Array(chunk.length);
    let shift = 0;
    for (const s of specs) {
      let left = s.shape.reduce((a, b) => a * b, 1);
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        shift = (shift + 7919) % (POOL.length - chunk.length);
        for (let i = 0; i < n; i++) chunk[i] = s.scale < 0 ? -s.scale : POOL[shift + i] * s.scale;
        let bytes: Uint8Array;
        if (dtype === "F32") bytes = new Uint8Array(chunk.buffer, 0, n * 4);
        else {
          for (let i = 0; i < n; i++) bf[i] = half[2 * i + 1]; // little-endian: the high half
          bytes = new Uint8Array(bf.buffer, 0, n * 2);
        }
        let done = 0;
        while (done < bytes.length) done += await f.write(bytes.subarray(done));
        left -= n;
      }
    }
  } finally {
    f.close();
  }
  return off;
}

/** Scale for a random weight: ±√(3/fan-in) (unit variance out); norms 1 (−1 = constant); biases 0. */
function scaleFor(name: string, shape: number[]): number {
  if (shape.length === 1) return /norm.*weight$|layer_norm\.weight$/.test(name) ? -1 : 0;
  return Math.sqrt(3 / shape.slice(1).reduce((a, b) => a * b, 1));
}

function t5Scale(name: string, shape: number[]): number {
  if (name === "shared.weight") return 1.5;
  if (name.endsWith("relative_attention_bias.weight")) return 0.5;
  if (name.endsWith(".q.weight")) return 0.002; // T5 does not scale q·k: keep logits small
  return shape.length === 1 ? -1 : 0.03;
}

async function writeJson(path: string, v: unknown): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(v, null, 2));
}

async function writeStage(preset: "if-i-m" | "if-ii-m", withText: boolean): Promise<number> {
  const p = ifPreset(preset);
  const root = `${dir}/${preset}`;
  const entry = (lib: string, cls: string) => [lib, cls];
  await writeJson(`${root}/model_index.json`, {
    _class_name: p.pipelineClass,
    _diffusers_version: "0.21.4",
    feature_extractor: [null, null],
    safety_checker: [null, null],
    watermarker: [null, null],
    requires_safety_checker: false,
    scheduler: entry("diffusers", "DDPMScheduler"),
    unet: entry("diffusers", "UNet2DConditionModel"),
    text_encoder: withText ? entry("transformers", "T5EncoderModel") : [null, null],
    tokenizer: entry("transformers", "T5Tokenizer"),
    ...(p.imageNoisingScheduler
      ? { image_noising_scheduler: entry("diffusers", "DDPMScheduler") }
      : {}),
  });
  await writeJson(`${root}/unet/config.json`, p.config);
  await writeJson(`${root}/scheduler/scheduler_config.json`, p.scheduler);
  if (p.imageNoisingScheduler) {
    await writeJson(
      `${root}/image_noising_scheduler/scheduler_config.json`,
      p.imageNoisingScheduler,
    );
  }
  await Deno.mkdir(`${root}/tokenizer`, { recursive: true });
  await Deno.copyFile(
    new URL("../tokenizer/assets/t5_spiece.model", import.meta.url).pathname,
    `${root}/tokenizer/spiece.model`,
  );
  const shapes = ifUNetParameterShapes(ifUNetConfigFromDiffusers(p.config));
  const specs = [...shapes].map(([name, shape]) => ({
    name,
    shape,
    scale: scaleFor(name, shape),
  }));
  let bytes = await writeSafetensorsStreaming(
    `${root}/unet/diffusion_pytorch_model.safetensors`,
    specs,
    "F32",
  );
  if (withText) bytes += await writeT5(`${root}/text_encoder`);
  return bytes;
}

/** T5-XXL in bf16: shard 1 = embedding + blocks 0–11, shard 2 = blocks 12–23 + final norm. */
async function writeT5(root: string): Promise<number> {
  const p = ifPreset("t5-v1_1-xxl");
  await writeJson(`${root}/config.json`, p.config);
  const all = [...t5EncoderParameterShapes(p.config)];
  const half = (p.config.num_layers as number) / 2;
  const second = (name: string) => {
    const m = /^encoder\.block\.(\d+)\./.exec(name);
    return m ? Number(m[1]) >= half : name.startsWith("encoder.final");
  };
  const files = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (let k = 0; k < 2; k++) {
    const specs = all.filter(([n]) => second(n) === (k === 1)).map(([name, shape]) => {
      weightMap[name] = files[k];
      return { name, shape, scale: t5Scale(name, shape) };
    });
    total += await writeSafetensorsStreaming(`${root}/${files[k]}`, specs, "BF16");
  }
  await writeJson(`${root}/model.safetensors.index.json`, {
    metadata: { total_size: total },
    weight_map: weightMap,
  });
  return total;
}

// ---------------------------------------------------------------- one measurement (child)

const PROMPT =
  "a photo of a sks dog wearing a red knitted scarf, sitting on a wooden bench in a sunny park " +
  "in autumn, orange and yellow leaves on the ground, a lake and mountains in the background, " +
  "highly detailed, sharp focus, soft morning light, shallow depth of field, 35mm film photograph";

async function measure(name: string): Promise<Record<string, unknown>> {
  const backend = await initBackend({
    quiet: true,
    prefer: parseBackendName(values.backend) ?? "native",
  });
  const out: Record<string, unknown> = { backend: backend.name };
  const emb = (seed: number) =>
    tf.randomNormal([1, 77, 4096], 0, 1, "float32", seed) as tf.Tensor3D;
  const img = (size: number, seed: number) =>
    tf.tidy(() =>
      tf.tanh(tf.randomNormal([1, size, size, 3], 0, 1, "float32", seed))
    ) as tf.Tensor4D;
  const t0 = performance.now();
  if (name === "t5") {
    const tok = await SentencePieceProcessor.load(
      await Deno.readFile(`${dir}/if-i-m/tokenizer/spiece.model`),
    );
    out.tokensInPrompt = tok.encode(PROMPT).length + 1;
    const e = await encodeIFPromptsStreaming(`${dir}/if-i-m/text_encoder`, tok, [PROMPT], {
      maxLength: 77,
    });
    const data = await e.data();
    out.finite = data.every(Number.isFinite);
    e.dispose();
    out.stepS = (performance.now() - t0) / 1000;
    return out;
  }
  const stageDir = `${dir}/${name.endsWith("-ii") ? "if-ii-m" : "if-i-m"}`;
  using stage = await loadIFStage(stageDir);
  out.loadS = (performance.now() - t0) / 1000;
  out.params = stage.unet.numParams;
  out.rssAfterLoad = Deno.memoryUsage().rss;
  if (name.startsWith("load")) return out;
  const t1 = performance.now();
  if (name === "sample-i" || name === "sample-ii") {
    const pos = emb(1), neg = emb(2);
    const low = name === "sample-ii" ? img(64, 3) : undefined;
    const { images } = await sampleIF(stage.unet, stage.scheduler, {
      promptEmbeds: pos,
      negativeEmbeds: neg,
      guidanceScale: name === "sample-ii" ? 4 : 7,
      steps: 1,
      seed: 1,
      lowRes: low,
      noiseLevel: 250,
      imageNoisingScheduler: stage.imageNoisingScheduler ?? undefined,
    });
    out.shape = images.shape;
    out.finite = (await images.data()).every(Number.isFinite);
    tf.dispose([pos, neg, low, images]);
  } else {
    const instance = { images: img(64, 4), promptEmbeds: emb(5) };
    const prior = { images: img(64, 6), promptEmbeds: emb(7) };
    let variables: tf.Variable[];
    if (name === "lora-i") {
      stage.unet.initLoRA({ rank: 4, seed: 1 });
      variables = stage.unet.loraVariables();
    } else variables = stage.unet.trainableWeights();
    out.trainable = variables.reduce((a, v) => a + v.size, 0);
    using adam = createAdam({ learningRate: name === "lora-i" ? 1e-4 : 5e-6 });
    out.loss = await ifDreamBoothStep(stage.unet, adam, stage.scheduler, { instance, prior }, {
      seed: 1,
      variables,
    });
    tf.dispose([instance.images, instance.promptEmbeds, prior.images, prior.promptEmbeds]);
  }
  out.stepS = (performance.now() - t1) / 1000;
  return out;
}

if (values.measure) {
  const r = await measure(values.measure);
  r.peakRss = procStatusKb("VmHWM");
  console.log(`RESULT ${JSON.stringify(r)}`);
  Deno.exit(0);
}

// ---------------------------------------------------------------- the parent

const only = values.only.split(",").filter((s) => s);
for (const m of only) {
  if (!MEASUREMENTS.includes(m)) {
    console.error(`unknown measurement '${m}' in --only: known are ${MEASUREMENTS.join(", ")}`);
    Deno.exit(2);
  }
}
const cpu = /^model name\s*:\s*(.*)$/m.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "?";
const cores = navigator.hardwareConcurrency;
const loadavg = () => Deno.loadavg().map((x) => x.toFixed(1)).join(" ");
console.log(`${new Date().toISOString()}  ${cpu}, ${cores} cores; load average ${loadavg()}`);
const marker = `${dir}/.complete`;
let wrote = "reused";
if (!(await Deno.stat(marker).then(() => true, () => false))) {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  const t = performance.now();
  const bytes = await writeStage("if-i-m", true) + await writeStage("if-ii-m", false);
  wrote = `${gib(bytes)} GiB in ${secs(performance.now() - t)} s`;
  await Deno.writeTextFile(marker, "");
}
console.log(`weights under ${dir}: ${wrote}`);

const rows: string[] = [];
for (const m of only) {
  const need = NEEDS[m] * 2 ** 30;
  const until = performance.now() + values.waitS * 1000;
  while (availableMemoryBytes() < need && performance.now() < until) {
    await new Promise((r) => setTimeout(r, 5000));
  }
  if (availableMemoryBytes() < need) {
    rows.push(`| ${m} | skipped: ${gib(availableMemoryBytes())} GiB available | | | |`);
    console.log(rows.at(-1));
    continue;
  }
  const before = loadavg();
  const t = performance.now();
  const child = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--measure",
      m,
      "--dir",
      dir,
      "--backend",
      values.backend,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const wall = (performance.now() - t) / 1000;
  const text = new TextDecoder().decode(child.stdout);
  const line = text.split("\n").find((l) => l.startsWith("RESULT "));
  if (!child.success || !line) {
    rows.push(`| ${m} | failed (exit ${child.code}) | | | ${before} |`);
    console.log(text.slice(-2000));
    continue;
  }
  const r = JSON.parse(line.slice(7));
  const step = r.stepS !== undefined ? `${r.stepS.toFixed(1)} s` : "";
  const load = r.loadS !== undefined ? `${r.loadS.toFixed(1)} s` : "";
  const extra = [
    r.params ? `${(r.params / 1e6).toFixed(1)} M params` : "",
    r.trainable ? `${(r.trainable / 1e6).toFixed(2)} M trained` : "",
    r.loss !== undefined ? `loss ${Number(r.loss).toFixed(3)}` : "",
    r.tokensInPrompt !== undefined ? `${r.tokensInPrompt} prompt tokens` : "",
    r.finite === false ? "NON-FINITE output" : "",
    `wall ${wall.toFixed(0)} s`,
    r.backend,
  ].filter((s) => s).join(", ");
  rows.push(`| ${m} | ${load} | ${step} | ${gib(r.peakRss)} | ${before} | ${extra} |`);
  console.log(rows.at(-1));
}
console.log(
  `\n| measurement | load | step | peak RSS (GiB) | load avg before | notes |\n|---|---|---|---|---|---|`,
);
for (const r of rows) console.log(r);
console.log(`load average at the end: ${loadavg()}`);
if (!values.keep) {
  await Deno.remove(dir, { recursive: true });
  console.log(`removed ${dir}`);
}
