import assert from "assert";
import { initBackend, tf } from "../deps.ts";
import {
  type Denoiser,
  dynamicThreshold,
  guide,
  sampleImages,
  type SamplerKind,
  timeGrid,
} from "./sampler.ts";
import { createSchedule, DEFAULT_SCHEDULE } from "./schedule.ts";
import { UNet } from "../model/unet.ts";
import { unetDenoiser } from "../model/unet_denoiser.ts";
import { T5Encoder } from "../model/t5_encoder.ts";
import { WordTokenizer } from "../text/word_tokenizer.ts";

await initBackend({ quiet: true });

const SHAPE: [number, number, number, number] = [2, 8, 8, 3];
const KINDS: SamplerKind[] = ["ddim", "ancestral"];

/** A tiny text-conditional UNet with random weights, its text and a denoiser. */
function tinyModel() {
  const tok = new WordTokenizer(["a", "dog", "cat"]);
  const enc = new T5Encoder({
    vocabSize: 6,
    dModel: 16,
    dKv: 8,
    numHeads: 2,
    dFf: 32,
    numLayers: 1,
    maxLength: 4,
  });
  const unet = new UNet({
    imageSize: 8,
    channels: 8,
    channelMult: [1, 2],
    numResBlocks: [1, 1],
    attentionResolutions: [4],
    crossAttentionResolutions: [4],
    headChannels: 8,
    textDim: 16,
    prediction: "epsilon",
  }, { seed: 5 });
  // Non-zero output layers so that the model's output depends on its input and the condition.
  for (const name of ["out.conv.weight", "mid.attn.cross.out.weight"]) {
    const v = unet.params.get(name);
    tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.1, "float32", 9)));
  }
  const text = enc.encodePrompts(tok, ["a dog", "a cat"]);
  enc.dispose();
  return {
    unet,
    text,
    dispose() {
      unet.dispose();
      text.tokens.dispose();
      text.pooled.dispose();
      text.mask.dispose();
    },
  };
}

for (const kind of KINDS) {
  Deno.test(`sampler conformance (${kind}): shapes, time grid, range, seeds, guidance 1 = none, no leaks`, async () => {
    const m = tinyModel();
    try {
      const denoiser = unetDenoiser(m.unet, { text: m.text });
      const before = tf.memory().numTensors;
      const run = async (seed: number, guidance: number, d: Denoiser = denoiser) => {
        const steps: number[] = [];
        const r = await sampleImages(d, {
          shape: SHAPE,
          schedule: DEFAULT_SCHEDULE,
          sampler: { kind, steps: 5, guidance },
          seed,
          onStep: (i) => steps.push(i),
        });
        assert.deepEqual(steps, [1, 2, 3, 4, 5]);
        const data = r.images.dataSync().slice();
        assert.deepEqual(r.images.shape, SHAPE);
        r.images.dispose();
        return { data, grid: r.timeGrid };
      };
      const a = await run(7, 1);
      assert.deepEqual(Array.from(a.grid), [1, 0.8, 0.6, 0.4, 0.19999999999999996, 0]);
      assert.deepEqual(Array.from(a.grid), Array.from(timeGrid(5)));
      assert.ok(a.data.every((v) => v >= -1 && v <= 1 && Number.isFinite(v)));
      // Same seed → the same bits; another seed → other images.
      const b = await run(7, 1);
      assert.deepEqual(new Uint32Array(a.data.buffer), new Uint32Array(b.data.buffer));
      const c = await run(8, 1);
      assert.notDeepEqual(Array.from(a.data), Array.from(c.data));
      // Guidance 1 is no guidance: equal to sampling with explicit guidance x_u + 1·(x_c − x_u).
      const explicit: Denoiser = {
        prediction: denoiser.prediction,
        predict(zt, logSnr) {
          return tf.tidy(() => {
            const out = denoiser.predict(zt, logSnr, { unconditional: true });
            return { conditional: guide(out.conditional, out.unconditional!, { guidance: 1 }) };
          });
        },
      };
      const e = await run(7, 1, explicit);
      let maxDiff = 0;
      for (let i = 0; i < a.data.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(a.data[i] - e.data[i]));
      }
      assert.ok(maxDiff < 1e-4, `guidance 1 vs explicit: ${maxDiff}`);
      // Guidance ≠ 1 uses the null condition and changes the result; still deterministic.
      const g = await run(7, 3);
      const g2 = await run(7, 3);
      assert.deepEqual(Array.from(g.data), Array.from(g2.data));
      assert.notDeepEqual(Array.from(g.data), Array.from(a.data));
      assert.equal(tf.memory().numTensors, before);
    } finally {
      m.dispose();
    }
  });
}

Deno.test("samplers: an exact x-predictor of one image returns that image (DDIM and ancestral, thresholded)", async () => {
  const target = tf.tidy(() =>
    tf.mul(tf.tanh(tf.randomNormal(SHAPE, 0, 1, "float32", 3)), 0.9)
  ) as tf.Tensor4D;
  const denoiser: Denoiser = {
    prediction: "x",
    predict: () => ({ conditional: tf.clone(target) }),
  };
  for (const kind of KINDS) {
    for (const schedule of [DEFAULT_SCHEDULE, createSchedule({ kind: "linear" })]) {
      const { images } = await sampleImages(denoiser, {
        shape: SHAPE,
        schedule,
        sampler: { kind, steps: 4 },
      });
      const err = tf.tidy(() => tf.max(tf.abs(tf.sub(images, target))).dataSync()[0]);
      assert.ok(err < 1e-6, `${kind}/${schedule.kind}: ${err}`);
      images.dispose();
    }
  }
  target.dispose();
});

Deno.test("dynamicThreshold: per-example percentile s = max(p-quantile |x|, 1), x → clip(x, −s, s)/s", async () => {
  const before = tf.memory().numTensors;
  // Example 0: |x| ≤ 1 → unchanged. Example 1: values 0..4, p = 0.75 of [0, 1, 2, 3, 4] → s = 3.
  const x = tf.tensor4d([0.5, -0.5, 1, 0, 0, 0, 1, 2, 3, -4], [2, 5, 1, 1]);
  const y = await dynamicThreshold(x, { percentile: 0.75 });
  const v = Array.from(y.dataSync());
  const expected = [0.5, -0.5, 1, 0, 0, 0, 1 / 3, 2 / 3, 1, -1];
  v.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) < 1e-6, `${i}: ${a} vs ${expected[i]}`));
  x.dispose();
  y.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("dynamicThreshold: maxValue caps s (diffusers' sample_max_value)", async () => {
  // |x| quantile 3 capped at 1.5: x → clip(x, −1.5, 1.5)/1.5.
  const x = tf.tensor4d([0, 1, 2, 3, -4], [1, 5, 1, 1]);
  const y = await dynamicThreshold(x, { percentile: 0.75, maxValue: 1.5 });
  const expected = [0, 1 / 1.5, 1, 1, -1];
  Array.from(y.dataSync()).forEach((a, i) =>
    assert.ok(Math.abs(a - expected[i]) < 1e-6, `${i}: ${a}`)
  );
  await assert.rejects(
    () => dynamicThreshold(x, { maxValue: 0.5 }),
    /'maxValue' must be at least 1: current value is 0.5/,
  );
  tf.dispose([x, y]);
});

Deno.test("sampler: invalid settings fail naming the value", async () => {
  const d: Denoiser = { prediction: "x", predict: (z) => ({ conditional: tf.zerosLike(z) }) };
  await assert.rejects(
    () => sampleImages(d, { shape: SHAPE, schedule: DEFAULT_SCHEDULE, sampler: { steps: 0 } }),
    /Cannot sample as 'steps' must be a positive integer: current value is 0/,
  );
  await assert.rejects(
    () =>
      sampleImages(d, {
        shape: SHAPE,
        schedule: DEFAULT_SCHEDULE,
        sampler: { kind: "euler" as "ddim" },
      }),
    /'kind' must be one of "ddim", "ancestral"/,
  );
});
