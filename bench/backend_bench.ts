/**
 * `deno task bench backend`: kernel throughput and training-step time of the reference UNet on
 * tfjs's cpu backend, plain wasm, and wasm with the BLAS kernels, in one run (so that the figures
 * share the machine's load at the time; they print it). Also times raw `cblas_sgemm` 512³ on
 * plain arrays: the ceiling the kernels can reach on this machine right now.
 *
 * Kernels: matMul 512³; conv 3×3 64→64 at 32², batch 8, "same": forward (Conv2D), backward input
 * (Conv2DBackpropInput) and backward filter (Conv2DBackpropFilter), each run alone through
 * `tf.engine().runKernel`. Step: `createReferenceUnet()` (channels 32/64/128, batch 8, 32²×3,
 * Adam), median of `--steps` steps after two warm-up steps.
 *
 * The cpu backend is ~100× slower: by default its convolutions run at batch 1 and its training
 * step at batch 1 (one step, reported as measured and ×8); `--cpu-full` times one batch-8 step
 * (~3 minutes), `--skip-cpu` leaves cpu out.
 *
 * Same-machine baseline: when Debian's PyTorch is installed (`apt-get install python3-torch`;
 * `/usr/bin/python3 -c "import torch"` works), the run ends by timing the same step in
 * `bench/torch_reference_step.py` (the PyTorch twin of the reference UNet, same weights count) at
 * 2 threads and 1 thread, and prints the ratio of the wasm+BLAS step to PyTorch's faster one.
 *
 * The `native` column is the native CPU engine (`setupNativeEngine`: tensors outside wasm, C and
 * OpenBLAS kernels), when it is available.
 *
 * With `--small-preset` it also times the shipped `small` preset's base-stage training step (the
 * UNet and the T5-style text encoder trained together, batch 16 of 32², as pretraining takes it
 * through `StageTrainer`) on wasm+BLAS and native, and its PyTorch twin
 * `bench/torch_small_preset_step.py` (parameter count asserted equal), and prints that ratio too.
 *
 * Flags: `--steps N` (default 5), `--cpu-full`, `--skip-cpu`, `--skip-wasm`, `--skip-torch`,
 * `--small-preset`.
 *
 * @module
 */
import { declareParams, parseCliOrExit } from "../params/mod.ts";
import {
  createReferenceUnet,
  initBackend,
  openBlas,
  setNativeKernels,
  setupNativeEngine,
  tf,
} from "../backend/mod.ts";
import { createCascadeConfig, presetConfig, T5Encoder, UNet } from "../diffusion/mod.ts";
import { StageTrainer } from "../trainer/mod.ts";

const values = parseCliOrExit(Deno.args, {
  params: declareParams("bench", {
    steps: { type: "integer", min: 1, max: 100_000, default: 5, help: "timed steps per backend" },
    cpuFull: { type: "boolean", default: false, help: "time the slow cpu backend in full" },
    skipCpu: { type: "boolean", default: false, help: "skip the cpu backend" },
    skipTorch: { type: "boolean", default: false, help: "skip the PyTorch reference" },
    skipWasm: { type: "boolean", default: false, help: "skip the wasm backend" },
    smallPreset: {
      type: "boolean",
      default: false,
      help: "also time the small preset's base-stage step (UNet + text encoder, batch 16)",
    },
  }),
  usage: "deno run -A bench/backend_bench.ts [options]",
});
const steps = values.steps;

const load = () => {
  try {
    return Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  } catch {
    return "?";
  }
};
let peakRss = 0;
const rss = () => {
  peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
};
console.log(
  `machine: ${navigator.hardwareConcurrency} cores, load average ${load()} (other processes ` +
    `share these cores: figures are noisy; compare columns of one run)`,
);

/** Best-of and median seconds of `reps` runs of `f` after `warm` warm-up runs. */
function time(f: () => void, reps: number, warm = 1): { best: number; median: number } {
  for (let i = 0; i < warm; i++) f();
  const runs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    f();
    runs.push((performance.now() - t) / 1e3);
    rss();
  }
  runs.sort((a, b) => a - b);
  return { best: runs[0], median: runs[Math.floor(runs.length / 2)] };
}

// Raw sgemm 512³ on plain arrays.
const blas = openBlas();
if (blas !== null) {
  const n = 512, a = new Float32Array(n * n).fill(0.5), c = new Float32Array(n * n);
  const t = time(() => blas.sgemm(101, 111, 111, n, n, n, 1, a, n, a, n, 0, c, n), 20, 3);
  console.log(
    `raw cblas_sgemm 512³ (${blas.description}): ${(2 * n ** 3 / t.best / 1e9).toFixed(0)} ` +
      `GFLOP/s best, ${(2 * n ** 3 / t.median / 1e9).toFixed(0)} median`,
  );
} else {
  console.log("raw cblas_sgemm: no BLAS library (the wasm+BLAS column will be plain wasm)");
}

const SMALL_ROW = "small preset base step, batch 16 (s)";
let smallParams = 0;

/**
 * The `small` preset's base stage trained as pretraining trains it (UNet + text encoder through
 * `StageTrainer`, batch 16 of 32², 24-token captions): median and best seconds per step.
 */
function smallPresetStep(): { best: number; median: number } {
  const config = createCascadeConfig(presetConfig("small"));
  const stage = config.stages[0];
  using unet = new UNet({ ...stage.unet, imageSize: stage.imageSize }, { seed: 0 });
  using encoder = new T5Encoder(config.textEncoder, { seed: 1, trainable: true });
  smallParams = unet.numParams + encoder.numParams;
  using trainer = new StageTrainer(unet, {
    schedule: stage.schedule,
    textEncoder: encoder,
    trainTextEncoder: true,
  });
  const b = 16, len = config.textEncoder.maxLength;
  const ids = new Int32Array(b * len), mask = new Uint8Array(b * len);
  for (let i = 0; i < b * len; i++) {
    ids[i] = (i * 7919) % config.textEncoder.vocabSize;
    mask[i] = i % len < 4 + (i / len | 0) % (len - 3) ? 1 : 0;
  }
  const xStart = tf.randomUniform([b, 32, 32, 3], -1, 1, "float32", 8) as tf.Tensor4D;
  try {
    return time(() => trainer.trainStep({ xStart, tokens: { ids, mask } }), steps, 2);
  } finally {
    xStart.dispose();
  }
}

type Mode = "cpu" | "wasm" | "wasm+BLAS" | "native";
const engine = await setupNativeEngine();
const modes: Mode[] = [
  ...(values.skipCpu ? [] : ["cpu" as const]),
  ...(values.skipWasm ? [] : ["wasm" as const]),
  "wasm+BLAS",
  ...(engine.active ? ["native" as const] : []),
];
if (!engine.active) console.log(`native engine: off (${engine.detail})`);
const rows: Record<string, Record<Mode, string>> = {};
const put = (row: string, mode: Mode, text: string) => {
  rows[row] ??= { cpu: "—", wasm: "—", "wasm+BLAS": "—", native: "—" };
  rows[row][mode] = text;
};

async function use(mode: Mode) {
  if (mode === "cpu") await initBackend({ prefer: "cpu", quiet: true });
  else if (mode === "native") await initBackend({ prefer: "native", quiet: true });
  else {
    await initBackend({ prefer: "wasm", quiet: true });
    if (mode === "wasm+BLAS") setNativeKernels(true);
  }
}

for (const mode of modes) {
  await use(mode);
  const slow = mode === "cpu";
  const reps = slow ? 1 : 10;
  // matMul 512³
  {
    const a = tf.randomNormal([512, 512], 0, 1, "float32", 1);
    const b = tf.randomNormal([512, 512], 0, 1, "float32", 2);
    const t = time(() => tf.matMul(a, b).dispose(), slow ? 2 : 20);
    put("matMul 512³ (GFLOP/s)", mode, (2 * 512 ** 3 / t.best / 1e9).toFixed(1));
    tf.dispose([a, b]);
  }
  // conv 3×3 64→64 at 32², batch 8 (cpu: batch 1)
  {
    const batch = slow ? 1 : 8;
    const x = tf.randomNormal([batch, 32, 32, 64], 0, 1, "float32", 3) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 64, 64], 0, 0.1, "float32", 4) as tf.Tensor4D;
    const dy = tf.randomNormal([batch, 32, 32, 64], 0, 1, "float32", 5) as tf.Tensor4D;
    const flops = 2 * batch * 32 * 32 * 64 * 64 * 9;
    const e = tf.engine();
    const conv = { strides: 1, pad: "same", dataFormat: "NHWC", dilations: 1 };
    const passes: [string, () => void][] = [
      ["forward", () => (e.runKernel("Conv2D", { x, filter: w }, conv) as tf.Tensor).dispose()],
      ["backward input", () =>
        (e.runKernel("Conv2DBackpropInput", { dy, filter: w }, {
          ...conv,
          inputShape: x.shape,
        }) as tf.Tensor).dispose()],
      ["backward filter", () =>
        (e.runKernel("Conv2DBackpropFilter", { x, dy }, {
          ...conv,
          filterShape: w.shape,
        }) as tf.Tensor).dispose()],
    ];
    for (const [name, f] of passes) {
      const t = time(f, reps);
      put(
        `conv 3×3 64→64 32² b8 ${name} (GFLOP/s)`,
        mode,
        (flops / t.best / 1e9).toFixed(slow ? 2 : 1) + (slow ? " (b1)" : ""),
      );
    }
    tf.dispose([x, w, dy]);
  }
  // Reference UNet training step.
  {
    const full = !slow || values.cpuFull;
    const batch = full ? 8 : 1;
    const unet = createReferenceUnet();
    const x0 = tf.randomUniform([batch, 32, 32, 3], -1, 1, "float32", 7) as tf.Tensor4D;
    let i = 0;
    const t = time(() => unet.trainStep(x0, i++), slow ? 1 : steps, slow ? 0 : 2);
    put(
      "reference UNet step, batch 8 (s)",
      mode,
      full
        ? t.median.toFixed(3) + (slow ? "" : ` (best ${t.best.toFixed(3)})`)
        : `${(t.median * 8).toFixed(0)} (×8 of one b1 step: ${t.median.toFixed(1)})`,
    );
    if (mode === "wasm+BLAS") {
      console.log(`reference UNet: ${unet.parameterCount} weights`);
    }
    unet.dispose();
    x0.dispose();
  }
  if (values.smallPreset && (mode === "wasm+BLAS" || mode === "native")) {
    const t = smallPresetStep();
    put(SMALL_ROW, mode, `${t.median.toFixed(3)} (best ${t.best.toFixed(3)})`);
  }
  console.log(`done: ${mode} (load average ${load()})`);
}
setNativeKernels(false);

const width = Math.max(...Object.keys(rows).map((r) => r.length));
console.log(`\n${"".padEnd(width)} | ${modes.map((m) => m.padStart(14)).join(" | ")}`);
for (const [row, cells] of Object.entries(rows)) {
  console.log(`${row.padEnd(width)} | ${modes.map((m) => cells[m].padStart(14)).join(" | ")}`);
}
console.log(
  `targets (quiet machine): matMul ≥200, each conv pass ≥80 GFLOP/s, step ≤0.25 s; ` +
    `PyTorch 1.13 CPU did the step in 0.073 s on DESIGN.md's Zen 5 machine`,
);

/** Median and best seconds of a PyTorch twin's step at `threads`, or null when torch is absent. */
async function torchStep(
  threads: number,
  twin = "torch_reference_step.py",
): Promise<{ median: number; best: number; params: number } | null> {
  const script = new URL(`./${twin}`, import.meta.url).pathname;
  let out;
  try {
    out = await new Deno.Command("/usr/bin/python3", {
      args: [script, "--threads", String(threads), "--steps", String(steps)],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch {
    return null;
  }
  const text = new TextDecoder().decode(out.stdout);
  const m = text.match(/\(s\): ([0-9.]+) median \(best ([0-9.]+)\)/);
  if (!out.success && twin !== "torch_reference_step.py") {
    console.log(
      `${twin} failed: ${new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)}`,
    );
  }
  const params = Number(text.match(/: (\d+) weights/)?.[1] ?? NaN);
  return out.success && m ? { median: Number(m[1]), best: Number(m[2]), params } : null;
}
if (!values.skipTorch) {
  const two = await torchStep(2);
  if (two === null) {
    console.log(
      "PyTorch twin: skipped (/usr/bin/python3 cannot import torch; apt-get install python3-torch)",
    );
  } else {
    const one = (await torchStep(1))!;
    const ours = (mode: Mode) => {
      const cell = rows["reference UNet step, batch 8 (s)"]?.[mode];
      return cell === undefined || cell === "—" ? NaN : Number(cell.split(" ")[0]);
    };
    const fastest = Math.min(two.median, one.median);
    console.log(
      `PyTorch 1.13 twin (bench/torch_reference_step.py), same run: step ${
        two.median.toFixed(3)
      } s (best ${two.best.toFixed(3)}) at 2 threads, ${one.median.toFixed(3)} s (best ${
        one.best.toFixed(3)
      }) at 1 thread; wasm+BLAS / PyTorch's faster = ${
        (ours("wasm+BLAS") / fastest).toFixed(2)
      }×, ` +
        `native / PyTorch's faster = ${(ours("native") / fastest).toFixed(2)}× the time ` +
        `(load average ${load()})`,
    );
  }
}
if (!values.skipTorch && values.smallPreset) {
  const two = await torchStep(2, "torch_small_preset_step.py");
  const one = two === null ? null : await torchStep(1, "torch_small_preset_step.py");
  if (two === null || one === null) {
    console.log("small-preset PyTorch twin: skipped (see above, or no torch)");
  } else {
    const ours = (mode: Mode) => Number((rows[SMALL_ROW]?.[mode] ?? "NaN").split(" ")[0]);
    const fastest = Math.min(two.median, one.median);
    console.log(
      `PyTorch 1.13 twin of the small preset's base step (bench/torch_small_preset_step.py, ` +
        `${two.params} weights; ours ${smallParams}${
          two.params === smallParams ? ", equal" : ", DIFFERENT"
        }), same run: ${two.median.toFixed(3)} s (best ${two.best.toFixed(3)}) at 2 threads, ` +
        `${one.median.toFixed(3)} s (best ${one.best.toFixed(3)}) at 1 thread; wasm+BLAS / ` +
        `PyTorch's faster = ${(ours("wasm+BLAS") / fastest).toFixed(2)}×, native / PyTorch's ` +
        `faster = ${(ours("native") / fastest).toFixed(2)}× the time (load average ${load()})`,
    );
  }
}
console.log(`peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB; load average at the end ${load()}`);
