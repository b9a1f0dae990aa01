/**
 * `deno run -A bench/t5_streaming_bench.ts`: issue 31, deliver 2. Writes a T5 v1.1 encoder with
 * T5-XXL's shapes (d_model 4096, d_ff 10240, 64 heads × 64, vocabulary 32128) but only `--layers`
 * blocks (default 2; XXL has 24) as bf16 safetensors, one shard per block as HF shards them, with
 * random weights; then encodes one `--tokens`-token prompt (default 77) with
 * `encodeT5Streaming` (one block's weights in memory at a time) and prints the time and the peak
 * RSS above the process's RSS before encoding. Since only one block is held at a time, the peak
 * does not grow with the number of blocks: a 2-block run bounds the 24-block one (the time grows
 * linearly; the printed estimate scales it to 24 blocks).
 *
 * Flags: `--layers N`, `--tokens N`, `--backend NAME`, `--keep` (keep the files in runs/).
 *
 * @module
 */
import { declareParams, parseCliOrExit } from "../params/mod.ts";
import { initBackend, parseBackendName, tf } from "../backend/mod.ts";
import { backendParam, encodeT5Streaming } from "../diffusion/mod.ts";
import { openDiffusersWeights } from "../deepfloyd/mod.ts";

const values = parseCliOrExit(Deno.args, {
  params: declareParams("bench", {
    layers: { type: "integer", min: 1, max: 24, default: 2, help: "XXL-shaped blocks to encode" },
    tokens: { type: "integer", min: 1, max: 512, default: 77, help: "prompt tokens" },
    backend: backendParam,
    keep: { type: "boolean", default: false, help: "keep the weights in runs/t5_streaming_bench" },
  }),
  usage: "deno run -A bench/t5_streaming_bench.ts [options]",
});
const { layers, tokens } = values;
const report = await initBackend({ quiet: true, prefer: parseBackendName(values.backend) });
const XXL = { vocab: 32128, d: 4096, ff: 10240, heads: 64, dkv: 64, buckets: 32, maxDistance: 128 };

/** bf16 bits of uniform values in [−scale, scale] (xorshift32, seeded). */
function randomBf16(count: number, scale: number, seed: number): Uint8Array {
  const out = new Uint16Array(count);
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    f[0] = ((x >>> 0) / 4294967296 * 2 - 1) * scale;
    out[i] = u[0] >>> 16;
  }
  return new Uint8Array(out.buffer);
}

/** Writes one bf16 safetensors shard. */
async function writeShard(path: string, tensors: [string, number[], number][]): Promise<void> {
  const header: Record<string, unknown> = {};
  let off = 0;
  const blobs: Uint8Array[] = [];
  let seed = path.length;
  for (const [name, shape, scale] of tensors) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = scale === 1 && shape.length === 1
      ? new Uint8Array(new Uint16Array(n).fill(0x3f80).buffer) // ones
      : randomBf16(n, scale, seed++);
    header[name] = { dtype: "BF16", shape, data_offsets: [off, off + data.length] };
    blobs.push(data);
    off += data.length;
  }
  let h = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - h.length % 8) % 8;
  h = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(pad));
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(h.length), true);
  await f.write(len);
  await f.write(h);
  for (const b of blobs) {
    let done = 0;
    while (done < b.length) done += await f.write(b.subarray(done));
  }
  f.close();
}

const dir = values.keep ? "runs/t5_streaming_bench" : await Deno.makeTempDir();
await Deno.mkdir(dir, { recursive: true });
const weightMap: Record<string, string> = {};
const shards: { file: string; tensors: [string, number[], number][] }[] = [];
const total = layers + 1;
const name = (k: number) =>
  `model-${String(k + 1).padStart(5, "0")}-of-${String(total).padStart(5, "0")}.safetensors`;
shards.push({
  file: name(0),
  tensors: [["shared.weight", [XXL.vocab, XXL.d], 1.5], [
    "encoder.final_layer_norm.weight",
    [XXL.d],
    1,
  ]],
});
const inner = XXL.heads * XXL.dkv;
for (let i = 0; i < layers; i++) {
  const a = `encoder.block.${i}.layer.0.`, f = `encoder.block.${i}.layer.1.`;
  const t: [string, number[], number][] = [
    [`${a}layer_norm.weight`, [XXL.d], 1],
    [`${a}SelfAttention.q.weight`, [inner, XXL.d], 0.002],
    [`${a}SelfAttention.k.weight`, [inner, XXL.d], 0.03],
    [`${a}SelfAttention.v.weight`, [inner, XXL.d], 0.03],
    [`${a}SelfAttention.o.weight`, [XXL.d, inner], 0.03],
    [`${f}layer_norm.weight`, [XXL.d], 1],
    [`${f}DenseReluDense.wi_0.weight`, [XXL.ff, XXL.d], 0.03],
    [`${f}DenseReluDense.wi_1.weight`, [XXL.ff, XXL.d], 0.03],
    [`${f}DenseReluDense.wo.weight`, [XXL.d, XXL.ff], 0.02],
  ];
  if (i === 0) {
    t.push([`${a}SelfAttention.relative_attention_bias.weight`, [XXL.buckets, XXL.heads], 0.5]);
  }
  shards.push({ file: name(i + 1), tensors: t });
}
const t0 = performance.now();
for (const s of shards) {
  await writeShard(`${dir}/${s.file}`, s.tensors);
  for (const [n] of s.tensors) weightMap[n] = s.file;
}
await Deno.writeTextFile(
  `${dir}/model.safetensors.index.json`,
  JSON.stringify({ metadata: {}, weight_map: weightMap }),
);
const bytes = shards.reduce((a, s) => a + Deno.statSync(`${dir}/${s.file}`).size, 0);
console.log(
  `wrote ${layers}-block XXL-shaped encoder: ${(bytes / 2 ** 30).toFixed(2)} GiB bf16 in ${
    ((performance.now() - t0) / 1000).toFixed(1)
  } s`,
);

const config = {
  vocabSize: XXL.vocab,
  dModel: XXL.d,
  dKv: XXL.dkv,
  numHeads: XXL.heads,
  dFf: XXL.ff,
  numLayers: layers,
  relativeAttentionNumBuckets: XXL.buckets,
  relativeAttentionMaxDistance: XXL.maxDistance,
  feedForwardProj: "gated-gelu" as const,
  maxLength: tokens,
};
const ids = Int32Array.from({ length: tokens }, (_, i) => (i * 7919 + 3) % 32000);
const mask = new Uint8Array(tokens).fill(1);
/** The kernel's peak-RSS high-water mark (VmHWM), reset first where Linux allows it. */
function highWaterMark(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
try {
  Deno.writeTextFileSync("/proc/self/clear_refs", "5"); // resets VmHWM to the current RSS
} catch { /* not Linux, or not allowed: the sampled peak still counts */ }
const base = Deno.memoryUsage().rss;
let peak = base;
const timer = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss)), 20);
const t1 = performance.now();
{
  using w = await openDiffusersWeights(dir);
  const e = await encodeT5Streaming(w, config, { ids, mask });
  const v = await e.tokens.data();
  tf.dispose([e.tokens, e.pooled, e.mask]);
  if (!v.every(Number.isFinite)) throw new Error("non-finite encoder output");
}
const secs = (performance.now() - t1) / 1000;
peak = Math.max(peak, Deno.memoryUsage().rss, highWaterMark() ?? 0);
clearInterval(timer);
const gib = (b: number) => (b / 2 ** 30).toFixed(2);
console.log(
  `backend ${report.name}; ${tokens} tokens, ${layers} blocks: ${secs.toFixed(1)} s ` +
    `(≈ ${(secs / layers * 24).toFixed(0)} s for XXL's 24), RSS before ${gib(base)} GiB, peak ${
      gib(peak)
    } GiB ` +
    `(+${gib(peak - base)} GiB); one block in float32 is ${
      gib((4 * inner * XXL.d + 3 * XXL.ff * XXL.d) * 4)
    } GiB`,
);
if (!values.keep) await Deno.remove(dir, { recursive: true });
