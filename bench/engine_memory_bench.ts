/**
 * `deno run -A bench/engine_memory_bench.ts`: issue 30's memory acceptance. Builds the reference
 * UNet (backend/reference_unet.ts) at a width whose parameters plus Adam state exceed 6 GiB
 * (default channels 464/928/1856: ~400 M parameters, about DeepFloyd IF stage I "M"), random
 * weights, and trains `--steps` Adam steps at `--size`² (default 64), batch 1, on the native CPU
 * engine. Prints s/step, the peak RSS, and the bytes of weights + gradients + Adam's two moments
 * (16 bytes per parameter) with their ratio. Needs ~10 GiB free: it refuses to start with less
 * than `--min-free-gib` (default 12) available.
 *
 * Flags: `--channels a,b,c`, `--size N`, `--steps N`, `--backend NAME` (default native),
 * `--min-free-gib G`.
 *
 * @module
 */
import { declareParams, parseCliOrExit } from "../params/mod.ts";
import { createReferenceUnet, initBackend, parseBackendName, tf } from "../backend/mod.ts";
import { backendParam } from "../diffusion/mod.ts";
import { availableMemoryBytes } from "./_memory.ts";

const values = parseCliOrExit(Deno.args, {
  params: declareParams("bench", {
    channels: {
      type: "string",
      pattern: /^\d+(,\d+)*$/,
      default: "464,928,1856",
      metavar: "LIST",
      help: "UNet channels per level",
    },
    size: { type: "integer", min: 1, max: 4096, default: 64, help: "image side" },
    steps: { type: "integer", min: 1, max: 10_000, default: 3, help: "timed steps" },
    backend: { ...backendParam, default: "native" },
    minFreeGib: {
      type: "number",
      min: 0,
      max: 100_000,
      default: 12,
      metavar: "G",
      help: "refuse to start with less free memory",
    },
  }),
  usage: "deno run -A bench/engine_memory_bench.ts [options]",
});
const channels = values.channels.split(",").map(Number);
const { size, steps } = values;
const available = availableMemoryBytes();
if (available < values.minFreeGib * 2 ** 30) {
  console.log(
    `skipped: ${
      (available / 2 ** 30).toFixed(1)
    } GiB available, --min-free-gib ${values.minFreeGib}`,
  );
  Deno.exit(0);
}
const gib = (b: number) => (b / 2 ** 30).toFixed(2);
let peak = 0;
const sample = () => (peak = Math.max(peak, Deno.memoryUsage().rss));
const timer = setInterval(sample, 100);
const report = await initBackend({ prefer: parseBackendName(values.backend) ?? "native" });
const t0 = performance.now();
const unet = createReferenceUnet({ channels, seed: 1 });
const state = unet.parameterCount * 16;
console.log(
  `reference UNet channels [${channels}]: ${
    (unet.parameterCount / 1e6).toFixed(1)
  } M parameters; ` +
    `weights + gradients + Adam m, v = ${gib(state)} GiB; built in ${
      ((performance.now() - t0) / 1e3).toFixed(1)
    } s; ` +
    `RSS ${gib(Deno.memoryUsage().rss)} GiB`,
);
const x0 = tf.randomUniform([1, size, size, 3], -1, 1, "float32", 7) as tf.Tensor4D;
const times: number[] = [];
for (let i = 0; i < steps; i++) {
  const t = performance.now();
  const loss = unet.trainStep(x0, i);
  times.push((performance.now() - t) / 1e3);
  sample();
  console.log(
    `step ${i + 1}/${steps}: loss ${loss.toFixed(4)}, ${times.at(-1)!.toFixed(1)} s, ` +
      `RSS ${gib(Deno.memoryUsage().rss)} GiB, tensors ${tf.memory().numTensors}`,
  );
}
clearInterval(timer);
let load = "?";
try {
  load = Deno.loadavg().map((x) => x.toFixed(1)).join(" ");
} catch { /* no --allow-sys */ }
console.log(
  `${report.name}: ${size}², batch 1, ${steps} steps: ${
    (times.reduce((a, b) => a + b) / steps).toFixed(1)
  } s/step ` +
    `(first ${times[0].toFixed(1)} s); peak RSS ${gib(peak)} GiB = ${
      (peak / state).toFixed(2)
    }× the ` +
    `${gib(state)} GiB of weights + gradients + Adam state; load average ${load}`,
);
unet.dispose();
x0.dispose();
