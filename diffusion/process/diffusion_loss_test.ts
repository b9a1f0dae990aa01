import assert from "assert";
import { initBackend, tf } from "../deps.ts";
import { diffusionLoss } from "./diffusion_loss.ts";
import { convertPrediction } from "./prediction.ts";
import { diffuse } from "./forward_process.ts";
import { alphaSigma } from "./schedule.ts";

await initBackend({ quiet: true });

Deno.test("loss: Eq. 1 in x-space with w_t, whatever the parameterisation", () => {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const lambdas = [-3, 0.5, 4];
    const shape: [number, number, number, number] = [3, 4, 4, 3];
    const x = tf.randomUniform(shape, -1, 1, "float32", 1) as tf.Tensor4D;
    const eps = tf.randomNormal(shape, 0, 1, "float32", 2) as tf.Tensor4D;
    const a = tf.tensor4d(lambdas.map((l) => alphaSigma(l).alpha), [3, 1, 1, 1]);
    const s = tf.tensor4d(lambdas.map((l) => alphaSigma(l).sigma), [3, 1, 1, 1]);
    const zt = diffuse(x, eps, { alpha: a, sigma: s });
    const epsHat = tf.add(eps, tf.randomNormal(shape, 0, 0.3, "float32", 3)) as tf.Tensor4D;
    // Reference: x̂ from ε̂, then w_t · mean (x̂ − x)² by hand.
    const xHat = convertPrediction(epsHat, { from: "epsilon", to: "x", zt, alpha: a, sigma: s });
    const perEx = tf.mean(tf.square(tf.sub(xHat, x)), [1, 2, 3]).dataSync();
    for (
      const [weighting, w] of [
        ["epsilon", (l: number) => Math.exp(l)],
        ["minSnr", (l: number) => Math.min(Math.exp(l), 5)],
        ["v", (l: number) => Math.exp(l) + 1],
        ["x", () => 1],
      ] as const
    ) {
      const ref = lambdas.reduce((acc, l, i) => acc + w(l) * perEx[i], 0) / 3;
      for (const prediction of ["epsilon", "x", "v"] as const) {
        const pred = convertPrediction(epsHat, {
          from: "epsilon",
          to: prediction,
          zt,
          alpha: a,
          sigma: s,
        });
        const got =
          diffusionLoss(pred, { prediction, xStart: x, noise: eps, logSnr: lambdas, weighting })
            .dataSync()[0];
        assert.ok(
          Math.abs(got - ref) < 1e-3 * Math.max(1, ref),
          `${weighting}/${prediction}: ${got} vs ${ref}`,
        );
      }
    }
    // Uniform-in-ε weighting is exactly the usual ‖ε̂ − ε‖².
    const mseEps = tf.mean(tf.square(tf.sub(epsHat, eps))).dataSync()[0];
    const l = diffusionLoss(epsHat, {
      prediction: "epsilon",
      xStart: x,
      noise: eps,
      logSnr: lambdas,
      weighting: "epsilon",
    });
    assert.ok(Math.abs(l.dataSync()[0] - mseEps) < 1e-6);
  });
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("loss: wrong logSnr length fails naming it", () => {
  const x = tf.zeros([2, 1, 1, 1]) as tf.Tensor4D;
  assert.throws(
    () => diffusionLoss(x, { prediction: "x", xStart: x, noise: x, logSnr: [0] }),
    /'logSnr' must have one value per example \(2\): current length is 1/,
  );
  x.dispose();
});

Deno.test("loss: pixelWeights give Σ w·err / Σ w per example (hand-computed); all-ones is the plain mean", () => {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    // x-prediction and weighting "x": the loss is the mean over examples of the weighted error.
    // Example 0: errors 1, 4, 9, 16 (one channel) with weights 1, 1, 3, 5 → (1 + 4 + 27 + 80) / 10.
    // Example 1: errors 0, 0, 0, 4 with weights 2, 2, 2, 2 → 1.
    const x = tf.zeros([2, 2, 2, 1]) as tf.Tensor4D;
    const pred = tf.tensor4d([1, 2, 3, 4, 0, 0, 0, 2], [2, 2, 2, 1]);
    const pw = tf.tensor4d([1, 1, 3, 5, 2, 2, 2, 2], [2, 2, 2, 1]);
    const opts = {
      prediction: "x" as const,
      xStart: x,
      noise: x,
      logSnr: [0, 0],
      weighting: "x" as const,
    };
    const got = diffusionLoss(pred, { ...opts, pixelWeights: pw }).dataSync()[0];
    assert.ok(Math.abs(got - (112 / 10 + 1) / 2) < 1e-5, `${got}`);
    const plain = diffusionLoss(pred, opts).dataSync()[0];
    const ones = diffusionLoss(pred, {
      ...opts,
      pixelWeights: tf.ones([2, 2, 2, 1]) as tf.Tensor4D,
    });
    assert.ok(Math.abs(ones.dataSync()[0] - plain) < 1e-6);
    // With 3 channels the weight is shared by the channels of a pixel.
    const x3 = tf.zeros([1, 1, 2, 3]) as tf.Tensor4D;
    const p3 = tf.tensor4d([1, 1, 1, 2, 2, 2], [1, 1, 2, 3]);
    const w3 = tf.tensor4d([1, 3], [1, 1, 2, 1]);
    const got3 = diffusionLoss(p3, {
      ...opts,
      xStart: x3,
      noise: x3,
      logSnr: [0],
      pixelWeights: w3,
    });
    assert.ok(Math.abs(got3.dataSync()[0] - (1 * 3 + 3 * 12) / (4 * 3)) < 1e-5);
    assert.throws(
      () => diffusionLoss(pred, { ...opts, pixelWeights: tf.ones([2, 2, 2, 3]) as tf.Tensor4D }),
      /'pixelWeights' must have shape \[2, 2, 2, 1\]/,
    );
  });
  assert.equal(tf.memory().numTensors, before);
});
