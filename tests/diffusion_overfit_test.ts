/**
 * Acceptance 2 of issue 3: tiny models overfit and reconstruct — a base model one image from its
 * caption, two images from two captions (text conditioning works), an SR model a 4× upsampling.
 */
import assert from "assert";
import { initBackend, tf } from "../backend/mod.ts";
import {
  createCascadeConfig,
  presetConfig,
  sampleImages,
  T5Encoder,
  UNet,
  unetDenoiser,
  WordTokenizer,
} from "../diffusion/mod.ts";
import { StageTrainer } from "../trainer/mod.ts";
import { psnr, testImage } from "./_diffusion_fixtures.ts";

const report = await initBackend({ quiet: true });
const tiny = createCascadeConfig(presetConfig("tiny"));
const base = tiny.stages[0];
const tokenizer = new WordTokenizer(tiny.tokenizer.kind === "words" ? tiny.tokenizer.words : []);

async function overfitBase(captions: string[], steps: number) {
  using enc = new T5Encoder(tiny.textEncoder, { seed: 1 });
  using unet = new UNet(base.unet, { seed: 2 });
  const n = captions.length;
  const images = tf.tensor4d(Float32Array.from(captions.flatMap((_, k) => [...testImage(k)])), [
    n,
    32,
    32,
    3,
  ]);
  const text = enc.encodePrompts(tokenizer, captions);
  const t0 = performance.now();
  {
    using trainer = new StageTrainer(unet, {
      schedule: base.schedule,
      beta2: 0.999,
      gradClip: 0,
      learningRate: 5e-3,
      weighting: "x",
      condDropout: 0,
      seed: 3,
    });
    for (let i = 0; i < steps; i++) trainer.trainStep({ xStart: images, text });
  }
  const trainS = (performance.now() - t0) / 1000;
  // psnrs[k][j]: caption k's sample against image j.
  const psnrs: number[][] = [];
  for (let k = 0; k < n; k++) {
    const one = enc.encodePrompts(tokenizer, [captions[k]]);
    const { images: out } = await sampleImages(unetDenoiser(unet, { text: one }), {
      shape: [1, 32, 32, 3],
      schedule: base.schedule,
      sampler: { kind: "ddim", steps: 20 },
      seed: 11,
    });
    psnrs.push(
      captions.map((_, j) =>
        tf.tidy(() => psnr(out, tf.slice(images, [j, 0, 0, 0], [1, 32, 32, 3])))
      ),
    );
    out.dispose();
    for (const t of Object.values(one)) t.dispose();
  }
  for (const t of Object.values(text)) t.dispose();
  images.dispose();
  console.log(
    `  ${report.name}: ${steps} steps in ${trainS.toFixed(1)} s; PSNR ${
      JSON.stringify(psnrs.map((r) => r.map((v) => +v.toFixed(1))))
    }`,
  );
  return psnrs;
}

Deno.test("overfit: a tiny base model reconstructs one 32×32 image from its caption with PSNR ≥ 25 dB", async () => {
  const before = tf.memory().numTensors;
  const [[p]] = await overfitBase(["a photo of a red dog"], 80);
  assert.ok(p >= 25, `PSNR ${p.toFixed(2)} dB < 25 dB`);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("overfit: two captions reconstruct their own images (≥ 10 dB closer than to the other)", async () => {
  const psnrs = await overfitBase(["a photo of a red dog", "a photo of a blue cat"], 70);
  for (let k = 0; k < 2; k++) {
    const own = psnrs[k][k];
    const other = psnrs[k][1 - k];
    assert.ok(
      own - other >= 10,
      `caption ${k}: own ${own.toFixed(2)} dB vs other ${other.toFixed(2)} dB`,
    );
  }
});

Deno.test("overfit: a tiny SR model learns a 4× upsampling (8 → 32) of one image from random crops", async () => {
  const before = tf.memory().numTensors;
  const sr = tiny.stages[1];
  const unet = new UNet({ ...sr.unet, imageSize: 32 }, { seed: 4 });
  const hi = tf.tensor4d(testImage(1), [1, 32, 32, 3]);
  const lo = tf.tidy(() => tf.avgPool(hi, 4, 4, "valid")) as tf.Tensor4D; // [1, 8, 8, 3]
  const steps = 100;
  const t0 = performance.now();
  {
    using trainer = new StageTrainer(unet, {
      schedule: sr.schedule,
      beta2: 0.999,
      gradClip: 0,
      learningRate: 5e-3,
      weighting: "x",
      condDropout: 0,
      maxAugLevel: 0.1,
      cropSize: 16,
      seed: 5,
    });
    for (let i = 0; i < steps; i++) trainer.trainStep({ xStart: hi, lowRes: lo });
  }
  const trainS = (performance.now() - t0) / 1000;
  // Sampling conditions on the nearest-upsampled low-res image without augmentation (t_aug = 0).
  const up = tf.image.resizeNearestNeighbor(lo, [32, 32]);
  const { images } = await sampleImages(
    unetDenoiser(unet, { lowRes: up, augLogSnr: sr.schedule.logSnrMax }),
    { shape: [1, 32, 32, 3], schedule: sr.schedule, sampler: { steps: 10 }, seed: 6 },
  );
  up.dispose();
  const baseline = tf.tidy(() => psnr(tf.image.resizeBilinear(lo, [32, 32]), hi));
  const p = psnr(images, hi);
  console.log(
    `  ${report.name}: ${steps} steps in ${trainS.toFixed(1)} s; SR PSNR ${
      p.toFixed(1)
    } dB, bilinear ${baseline.toFixed(1)} dB`,
  );
  assert.ok(p >= 25, `SR PSNR ${p.toFixed(2)} dB < 25 dB`);
  assert.ok(
    p >= baseline + 3,
    `SR PSNR ${p.toFixed(2)} dB is not ≥ 3 dB above bilinear (${baseline.toFixed(2)} dB)`,
  );
  images.dispose();
  hi.dispose();
  lo.dispose();
  unet.dispose();
  assert.equal(tf.memory().numTensors, before);
});
