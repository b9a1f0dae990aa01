/**
 * superres/ on the tiny preset: the augmentation level reaches the model, the pairs are built with
 * the cascade's own downsampling, a stopped run resumes to the same weights, no tensors leak.
 */
import assert from "assert";
import { initBackend, tf, upsampleNearest } from "../backend/mod.ts";
import {
  type Cascade,
  createPreset,
  downsampleImages,
  loadCheckpoint,
  scheduleAt,
} from "../diffusion/mod.ts";
import {
  createSrFineTuneConfig,
  createSrFineTuneJob,
  fineTuneSuperRes,
  makeSrPairs,
} from "../superres/mod.ts";

await initBackend({ quiet: true });

/** Fresh UNets output zeros (zero-initialised output layers): give those layers weights. */
function perturb(cascade: Cascade): void {
  for (const s of cascade.stages) {
    for (const [name, v] of s.unet.params.vars) {
      if (/(out|conv2|out\.conv)\.weight$/.test(name)) {
        tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.05, "float32", 1)));
      }
    }
  }
}

function image(side: number, seed: number) {
  const data = new Float32Array(side * side * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.013 + seed) * 0.8;
  return { data, width: side, height: side };
}

const IMAGES = [image(128, 1), image(128, 2), image(128, 3)];
const FAST = { steps: 4, batchSize: 1, cropSize: { "1": 32 }, sampleSteps: 0, log: () => {} };

Deno.test("superres: the augmentation level reaches the SR UNet (changing t_aug changes its output and the loss)", async () => {
  using cascade = await createPreset("tiny", { seed: 1 });
  perturb(cascade);
  const unet = cascade.stages[1].unet;
  const sched = cascade.stages[1].schedule;
  const [z, low] = [
    tf.randomNormal([1, 128, 128, 3], 0, 1, "float32", 2) as tf.Tensor4D,
    tf.randomUniform([1, 128, 128, 3], -1, 1, "float32", 3) as tf.Tensor4D,
  ];
  const out = (tAug: number) =>
    tf.tidy(() =>
      unet.apply(z, {
        logSnr: tf.tensor1d([0]),
        text: null,
        lowRes: low,
        augLogSnr: tf.tensor1d([scheduleAt(sched, tAug).logSnr]),
      }).dataSync()
    );
  assert.notDeepEqual(out(1e-5), out(1e-3));
  tf.dispose([z, low]);
  // Same weights, data and seed: only t_aug differs → a different first-step loss.
  using pairs = makeSrPairs(IMAGES, { highSize: 128, lowSize: 32 });
  const loss = async (augLevel: number) => {
    using c = await createPreset("tiny", { seed: 1 });
    perturb(c);
    const config = createSrFineTuneConfig({ augLevel, batchSize: 1, cropSize: { "1": 32 } });
    using job = createSrFineTuneJob(c, pairs, { config, stage: 1 });
    return (await job.trainStep()).loss;
  };
  assert.notEqual(await loss(1e-5), await loss(1e-3));
  assert.equal(await loss(1e-5), await loss(1e-5));
});

Deno.test("superres: the job trains on pairs made by the cascade's own downsampling", async () => {
  using cascade = await createPreset("tiny", { seed: 1 });
  const big = [image(256, 4)];
  using pairs = makeSrPairs(big, { highSize: 128, lowSize: 32 });
  const full = tf.tensor4d(big[0].data, [1, 256, 256, 3]);
  const high = downsampleImages(full, 2), low = downsampleImages(high, 4);
  assert.deepEqual(pairs.high.dataSync(), high.dataSync());
  assert.deepEqual(pairs.low.dataSync(), low.dataSync());
  // The SR stage's own input is up(low): the cascade's nearest upsampling of exactly these pixels.
  const up = upsampleNearest(pairs.low, 4);
  assert.deepEqual(downsampleImages(up, 4).dataSync(), low.dataSync());
  tf.dispose([full, high, low, up]);
  const config = createSrFineTuneConfig({ batchSize: 1 });
  assert.throws(
    () => createSrFineTuneJob(cascade, pairs, { config, stage: 2 }),
    /SR stages 1…1/,
  );
});

Deno.test("superres: a stopped run resumes to the same weights as an uninterrupted one; no leaks", async () => {
  const root = await Deno.makeTempDir();
  try {
    using a = await createPreset("tiny", { seed: 1 });
    const before = tf.memory().numTensors;
    const ra = await fineTuneSuperRes(a, { ...FAST, images: IMAGES, runDir: `${root}/a` });
    assert.equal(tf.memory().numTensors, before);
    assert.ok(ra.done);
    assert.deepEqual(ra.augLevels, [0, 1e-5]);
    assert.equal(ra.stages[0].summary.step, 4);

    // Stopped after step 2 (abort → checkpoint), then resumed in a fresh cascade.
    const controller = new AbortController();
    {
      using b = await createPreset("tiny", { seed: 1 });
      const rb = await fineTuneSuperRes(b, {
        ...FAST,
        images: IMAGES,
        runDir: `${root}/b`,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.step === 2) controller.abort();
          assert.ok(p.etaSeconds >= 0);
        },
      });
      assert.equal(rb.done, false);
      assert.equal(rb.cascadePath, null);
      assert.equal(rb.stages[0].summary.reason, "interrupted");
      assert.equal(rb.stages[0].summary.step, 2);
    }
    using c = await createPreset("tiny", { seed: 1 });
    await assert.rejects(
      () => fineTuneSuperRes(c, { ...FAST, images: IMAGES, runDir: `${root}/b` }),
      /already has a checkpoint/,
    );
    const rc = await fineTuneSuperRes(c, {
      ...FAST,
      images: IMAGES,
      runDir: `${root}/b`,
      resume: true,
    });
    assert.ok(rc.done);
    assert.equal(rc.stages[0].summary.startStep, 2);
    const wa = a.stages[1].unet.variables, wc = c.stages[1].unet.variables;
    wa.forEach((v, i) => assert.deepEqual(v.dataSync(), wc[i].dataSync()));
    // The saved personalised cascade samples its SR stage at the fine-tuning level.
    const saved = await loadCheckpoint(rc.cascadePath!);
    assert.equal((saved.model as Cascade).stages[1].augLevel, 1e-5);
    saved.model.dispose();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("superres: a non-finite loss stops the run, keeps no new checkpoint and saves no cascade (NaN guard)", async () => {
  const root = await Deno.makeTempDir();
  try {
    using cascade = await createPreset("tiny", { seed: 1 });
    const bad = { ...IMAGES[0], data: IMAGES[0].data.map((v, i) => (i === 5 ? NaN : v)) };
    const lines: string[] = [];
    const r = await fineTuneSuperRes(cascade, {
      ...FAST,
      images: [bad],
      runDir: `${root}/nan`,
      cropSize: { "1": 0 },
      log: (l) => lines.push(l),
    });
    assert.equal(r.done, false);
    assert.equal(r.cascadePath, null);
    assert.equal(r.stages[0].summary.reason, "non-finite loss");
    assert.ok(lines.some((l) => /loss is not finite/.test(l)));
    // The borrowed cascade is left with finite weights (restored after the failed update).
    for (const v of cascade.stages[1].unet.variables) {
      assert.ok(v.dataSync().every(Number.isFinite), `${v.name} is not finite`);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
