import assert from "assert";
import { initBackend, tf } from "../deps.ts";
import { convertPrediction, PREDICTIONS } from "./prediction.ts";
import { diffuse } from "./forward_process.ts";
import { alphaSigma } from "./schedule.ts";

await initBackend({ quiet: true });

Deno.test("prediction: every conversion recovers x, ε and v of a known z_t, and they invert", () => {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    for (const lambda of [-6, -1, 0, 2.5, 7]) {
      const { alpha, sigma } = alphaSigma(lambda);
      const x = tf.randomNormal([2, 3, 3, 2], 0, 1, "float32", 1);
      const eps = tf.randomNormal([2, 3, 3, 2], 0, 1, "float32", 2);
      const zt = diffuse(x, eps, { alpha, sigma });
      const v = tf.sub(tf.mul(alpha, eps), tf.mul(sigma, x)); // v = α ε − σ x
      const truth = { x, epsilon: eps, v };
      for (const from of PREDICTIONS) {
        for (const to of PREDICTIONS) {
          const got = convertPrediction(truth[from], { from, to, zt, alpha, sigma });
          const back = convertPrediction(got, { from: to, to: from, zt, alpha, sigma });
          // Dividing by a small α or σ amplifies float32 rounding: allow for it.
          const tol = 1e-4 / Math.min(alpha, sigma);
          const err = tf.max(tf.abs(tf.sub(got, truth[to]))).dataSync()[0];
          const err2 = tf.max(tf.abs(tf.sub(back, truth[from]))).dataSync()[0];
          assert.ok(err < tol, `${from}→${to} at λ=${lambda}: error ${err}`);
          assert.ok(err2 < tol, `${from}→${to}→${from} at λ=${lambda}: error ${err2}`);
        }
      }
    }
  });
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("prediction: a bad parameterisation fails naming it", () => {
  const z = tf.zeros([1]);
  assert.throws(
    () => convertPrediction(z, { from: "score" as "x", to: "x", zt: z, alpha: 1, sigma: 0 }),
    /'from' must be one of "epsilon", "x", "v": current value is "score"/,
  );
  z.dispose();
});
