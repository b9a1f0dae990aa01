/**
 * Leak tests without an enclosing tf.tidy: each tensor-producing export, called bare, leaves exactly
 * its output behind, which the caller disposes.
 */
import assert from "assert";
import { initBackend, tf } from "./deps.ts";
import { convertPrediction, PREDICTIONS } from "./process/prediction.ts";
import { diffuse } from "./process/forward_process.ts";
import { diffusionLoss, LOSS_WEIGHTINGS } from "./process/diffusion_loss.ts";
import { dynamicThreshold, guide } from "./process/sampler.ts";
import { UNet } from "./model/unet.ts";
import { unetDenoiser } from "./model/unet_denoiser.ts";
import { T5Encoder } from "./model/t5_encoder.ts";
import { WordTokenizer } from "./text/word_tokenizer.ts";

await initBackend({ quiet: true });

/** Asserts that `fn` leaves exactly the tensors it returns, then disposes them. */
async function leavesOnlyOutput(
  what: string,
  fn: () => tf.Tensor | tf.Tensor[] | Promise<tf.Tensor>,
) {
  const before = tf.memory().numTensors;
  const out = await fn();
  const outs = Array.isArray(out) ? out : [out];
  assert.equal(tf.memory().numTensors, before + outs.length, `${what} leaked tensors`);
  tf.dispose(outs);
  assert.equal(tf.memory().numTensors, before, `${what}: output not freed`);
}

Deno.test("no leaks: schedules' tensor helpers, loss, guidance, thresholding", async () => {
  const x = tf.randomUniform([2, 4, 4, 3], -1, 1, "float32", 1) as tf.Tensor4D;
  const eps = tf.randomNormal([2, 4, 4, 3], 0, 1, "float32", 2) as tf.Tensor4D;
  const a = tf.tensor4d([0.6, 0.8], [2, 1, 1, 1]);
  const s = tf.tensor4d([0.8, 0.6], [2, 1, 1, 1]);
  await leavesOnlyOutput("diffuse", () => diffuse(x, eps, { alpha: a, sigma: s }));
  const zt = diffuse(x, eps, { alpha: a, sigma: s });
  for (const from of PREDICTIONS) {
    for (const to of PREDICTIONS) {
      await leavesOnlyOutput(
        `convertPrediction ${from}→${to}`,
        () => convertPrediction(eps, { from, to, zt, alpha: a, sigma: s }),
      );
    }
  }
  for (const weighting of LOSS_WEIGHTINGS) {
    for (const prediction of PREDICTIONS) {
      await leavesOnlyOutput(
        `diffusionLoss ${weighting}/${prediction}`,
        () =>
          diffusionLoss(eps, { prediction, xStart: x, noise: eps, logSnr: [0.5, -1], weighting }),
      );
    }
  }
  await leavesOnlyOutput("guide", () => guide(x, eps, { guidance: 3 }));
  const big = tf.mul(eps, 3) as tf.Tensor4D;
  await leavesOnlyOutput("dynamicThreshold", () => dynamicThreshold(big));
  tf.dispose([x, eps, a, s, zt, big]);
});

Deno.test("no leaks: UNet.apply (base with text and null mixing, SR), unetDenoiser, T5Encoder.encode", async () => {
  using enc = new T5Encoder({
    vocabSize: 8,
    dModel: 8,
    dKv: 4,
    numHeads: 2,
    dFf: 16,
    numLayers: 1,
    maxLength: 4,
  });
  const tok = new WordTokenizer(["dog", "cat"]);
  await leavesOnlyOutput("T5Encoder.encodePrompts", () => {
    const e = enc.encodePrompts(tok, ["dog", "cat"]);
    return [e.tokens, e.pooled, e.mask];
  });
  const text = enc.encodePrompts(tok, ["dog", "cat"]);
  using base = new UNet({
    imageSize: 8,
    channels: 8,
    channelMult: [1, 2],
    numResBlocks: [1, 1],
    attentionResolutions: [4],
    crossAttentionResolutions: [8, 4],
    headChannels: 8,
    textDim: 8,
  });
  using sr = new UNet({
    imageSize: 8,
    channels: 8,
    channelMult: [1, 2],
    numResBlocks: [1, 1],
    textDim: 8,
    lowResChannels: 3,
    crossAttentionResolutions: [],
  });
  const zt = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
  const logSnr = tf.tensor1d([0, 1]);
  const keep = tf.tensor1d([1, 0]);
  await leavesOnlyOutput("UNet.apply base", () => base.apply(zt, { logSnr, text, keep }));
  await leavesOnlyOutput("UNet.apply base null", () => base.apply(zt, { logSnr }));
  await leavesOnlyOutput(
    "UNet.apply SR",
    () => sr.apply(zt, { logSnr, text, lowRes: zt, augLogSnr: logSnr }),
  );
  await leavesOnlyOutput("unetDenoiser guided", () => {
    const out = unetDenoiser(base, { text }).predict(zt, 0.5, { unconditional: true });
    return [out.conditional, out.unconditional!];
  });
  tf.dispose([zt, logSnr, keep, text.tokens, text.pooled, text.mask]);
});
