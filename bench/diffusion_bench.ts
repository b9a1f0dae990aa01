/**
 * `deno task bench diffusion`: parameters, seconds per training step and per sampling step for each
 * preset stage, peak memory, and the paper-shaped 64 → 256 → 1024 cascade's parameter counts per
 * stage plus one forward pass of a width-scaled copy. Prints figures; never gates CI.
 *
 * Options (environment): DIFFUSION_BENCH_STEPS (timed steps, default 3), DIFFUSION_BENCH_PRESETS
 * (default "tiny,small"), DIFFUSION_BENCH_PAPER_SCALE (width scale of the constructed paper
 * cascade, default 0.125; 0 skips it), DIFFUSION_BENCH_BACKEND (default auto).
 *
 * @module
 */
import { createReferenceUnet, initBackend, parseBackendName, tf } from "../backend/mod.ts";
import {
  createCascadeConfig,
  createPreset,
  paperCascadeConfig,
  type PresetName,
  type T5Config,
  T5Encoder,
  UNet,
  unetDenoiser,
} from "../diffusion/mod.ts";
import { StageTrainer } from "../trainer/mod.ts";

const STEPS = Number(Deno.env.get("DIFFUSION_BENCH_STEPS") ?? 3);
const PRESETS = (Deno.env.get("DIFFUSION_BENCH_PRESETS") ?? "tiny,small").split(",").filter(
  Boolean,
) as PresetName[];
const PAPER_SCALE = Number(Deno.env.get("DIFFUSION_BENCH_PAPER_SCALE") ?? 0.125);
const report = await initBackend({
  prefer: parseBackendName(Deno.env.get("DIFFUSION_BENCH_BACKEND")),
});

let peakRss = 0;
let peakTensorBytes = 0;
function sampleMemory() {
  peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
  peakTensorBytes = Math.max(peakTensorBytes, tf.memory().numBytes);
}
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
const fmtParams = (n: number) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} B`
    : n >= 1e6
    ? `${(n / 1e6).toFixed(2)} M`
    : `${(n / 1e3).toFixed(1)} k`;

/** Median seconds of `fn` over STEPS runs after one warm-up. */
async function time(fn: () => unknown | Promise<unknown>): Promise<number> {
  await fn();
  sampleMemory();
  const times: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
    sampleMemory();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

// Baseline in the same run (load from other processes varies a lot): backend/'s 1.9 M-weight reference UNet training step (batch 8, 32×32), whose
// quiet-machine figure is in DESIGN.md and backend's bench; our figures scale with it.
const ref = createReferenceUnet();
const refX = tf.randomUniform([8, 32, 32, 3], -1, 1, "float32", 7) as tf.Tensor4D;
let refStep = 0;
const refS = await time(() => ref.trainStep(refX, refStep++));
ref.dispose();
refX.dispose();
console.log(
  `backend ${report.name}; load average ${
    Deno.loadavg().map((x) => x.toFixed(1)).join(" ")
  }; ${STEPS} timed steps (median)`,
);
console.log(
  `baseline: backend reference UNet (${ref.parameterCount} weights) train step batch 8: ${
    refS.toFixed(3)
  } s`,
);

for (const name of PRESETS) {
  using cascade = await createPreset(name, { seed: 0 });
  const enc = cascade.textEncoder;
  const prompts = Array.from({ length: 8 }, (_, i) => `a photo of a sks dog number ${i}`);
  const encS = await time(() => {
    const e = enc.encodePrompts(cascade.tokenizer, prompts);
    e.tokens.dataSync();
    tf.dispose([e.tokens, e.pooled, e.mask]);
  });
  console.log(
    `\n[${name}] text encoder: ${
      fmtParams(enc.numParams)
    } params, encode 8 prompts × ${enc.config.maxLength} tokens: ${encS.toFixed(3)} s`,
  );
  for (const [i, stage] of cascade.stages.entries()) {
    const sr = i > 0;
    const batch = sr ? 4 : 8;
    const crop = sr ? Math.max(16, Math.min(stage.imageSize / 2, 128)) : 0; // training/ uses ≤ 128² crops
    const size = sr ? crop : stage.imageSize;
    const hiSize = stage.imageSize;
    const lowSize = sr ? cascade.stages[i - 1].imageSize : 0;
    const text = enc.encodePrompts(cascade.tokenizer, prompts.slice(0, batch));
    const xStart = tf.randomUniform([batch, hiSize, hiSize, 3], -1, 1) as tf.Tensor4D;
    const lowRes = sr ? tf.randomUniform([batch, lowSize, lowSize, 3], -1, 1) as tf.Tensor4D : null;
    const trainer = new StageTrainer(stage.unet, {
      schedule: stage.schedule,
      cropSize: crop,
      learningRate: 1e-4,
    });
    const trainS = await time(() => trainer.trainStep({ xStart, text, lowRes }));
    trainer.dispose();
    // One sampling step = one guided model evaluation (cond + null batched) at batch 1.
    const one = enc.encodePrompts(cascade.tokenizer, prompts.slice(0, 1));
    const zt = tf.randomNormal([1, hiSize, hiSize, 3]) as tf.Tensor4D;
    const low = sr ? tf.randomNormal([1, hiSize, hiSize, 3]) as tf.Tensor4D : null;
    const denoiser = unetDenoiser(stage.unet, { text: one, lowRes: low, augLogSnr: 0 });
    const sampleS = await time(() => {
      const out = denoiser.predict(zt, 0, { unconditional: true });
      out.conditional.dataSync();
      tf.dispose([out.conditional, out.unconditional!]);
    });
    console.log(
      `[${name}] stage ${i} (${sr ? `SR ${lowSize}→${hiSize}` : `base ${hiSize}×${hiSize}`}): ${
        fmtParams(stage.unet.numParams)
      } params; ` +
        `train step batch ${batch}${sr ? ` on ${size}×${size} crops` : ""}: ${
          trainS.toFixed(3)
        } s; ` +
        `sampling step (guided, batch 1): ${sampleS.toFixed(3)} s`,
    );
    tf.dispose([xStart, text.tokens, text.pooled, text.mask, one.tokens, one.pooled, one.mask, zt]);
    if (lowRes) lowRes.dispose();
    if (low) low.dispose();
  }
}

// The paper-shaped cascade: parameter counts at full width, without allocating.
function t5Params(c: T5Config): number {
  const inner = c.numHeads * c.dKv;
  const ff = c.feedForwardProj === "gated-gelu" ? 3 : 2;
  return c.vocabSize * c.dModel + c.relativeAttentionNumBuckets * c.numHeads + c.dModel +
    c.numLayers * (4 * c.dModel * inner + ff * c.dModel * c.dFf + 2 * c.dModel);
}
const paper = createCascadeConfig(paperCascadeConfig());
console.log(
  `\n[paper] parameter counts at full width (Imagen: T5-XXL 4.6 B, base 2 B, SR 600 M / 400 M):`,
);
console.log(`[paper] text encoder (T5-XXL shape): ${fmtParams(t5Params(paper.textEncoder))}`);
for (const [i, s] of paper.stages.entries()) {
  console.log(
    `[paper] stage ${i} (${i === 0 ? "base" : "SR"} ${s.imageSize}×${s.imageSize}): ${
      fmtParams(UNet.countParams(s.unet))
    }`,
  );
}

if (PAPER_SCALE > 0) {
  // Constructed at reduced width (same depth, resolutions and stage structure) and run once.
  const scaled = createCascadeConfig(paperCascadeConfig({ widthScale: PAPER_SCALE }));
  console.log(`\n[paper ×${PAPER_SCALE} width] one forward pass per stage, batch 1:`);
  const enc = new T5Encoder(scaled.textEncoder);
  const ids = new Int32Array(scaled.textEncoder.maxLength).fill(0);
  ids.set([71, 1712, 13, 3, 9, 1782, 1]);
  const mask = new Uint8Array(ids.length).fill(1, 0, 7);
  let t0 = performance.now();
  const text = enc.encode(ids, mask);
  text.tokens.dataSync();
  sampleMemory();
  console.log(
    `[paper ×${PAPER_SCALE}] text encoder ${fmtParams(enc.numParams)}: ${
      ((performance.now() - t0) / 1000).toFixed(2)
    } s`,
  );
  enc.dispose();
  for (const [i, s] of scaled.stages.entries()) {
    const unet = new UNet(s.unet);
    // The 1024² stage runs on a 256² crop, its training crop size in Imagen (it is fully
    // convolutional): a full 1024² forward exhausts tfjs-backend-wasm's heap ("memory access out
    // of bounds", or a crash with the native kernels) and takes > 10 min on the cpu backend.
    const size = Math.min(s.imageSize, 256);
    if (size < s.imageSize) {
      console.log(
        `[paper ×${PAPER_SCALE}] stage ${i}: forward on a ${size}×${size} crop of its ${s.imageSize}×${s.imageSize} input`,
      );
    }
    t0 = performance.now();
    const y = tf.tidy(() =>
      unet.apply(tf.randomNormal([1, size, size, 3]) as tf.Tensor4D, {
        logSnr: tf.tensor1d([0]),
        text,
        lowRes: i > 0 ? tf.randomNormal([1, size, size, 3]) as tf.Tensor4D : null,
        augLogSnr: i > 0 ? tf.tensor1d([5]) : null,
      })
    );
    y.dataSync();
    sampleMemory();
    console.log(
      `[paper ×${PAPER_SCALE}] stage ${i} ${size}×${size}: ${
        fmtParams(unet.numParams)
      } params, forward ${((performance.now() - t0) / 1000).toFixed(2)} s`,
    );
    y.dispose();
    unet.dispose();
  }
  tf.dispose([text.tokens, text.pooled, text.mask]);
}
sampleMemory();
console.log(`\npeak RSS ${mb(peakRss)}; peak tfjs tensor memory ${mb(peakTensorBytes)}`);
