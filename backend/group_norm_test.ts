import assert from "assert";
import { tf } from "./deps.ts";
import { groupNorm } from "./group_norm.ts";
import { initBackend } from "./init_backend.ts";
import { relativeErrors } from "./_test_util.ts";

/** GroupNorm composed from tfjs ops (rank ≤ 4), the reference. */
function composed(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, groups: number, eps: number) {
  const [b, h, w, c] = x.shape;
  const xr = tf.reshape(x, [b, h * w, groups, c / groups]);
  const { mean, variance } = tf.moments(xr, [1, 3], true);
  const y = tf.div(tf.sub(xr, mean), tf.sqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(tf.reshape(y, [b, h, w, c]), gamma), beta);
}

for (const prefer of ["cpu", "wasm"] as const) {
  Deno.test(`groupNorm equals the composed ops, values and gradients, on ${prefer}`, async () => {
    await initBackend({ prefer, quiet: true });
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.add(
        tf.mul(tf.randomNormal([3, 5, 7, 12], 0, 1, "float32", 1), 3),
        1,
      ) as tf.Tensor4D;
      const gamma = tf.randomNormal([12], 1, 0.5, "float32", 2) as tf.Tensor1D;
      const beta = tf.randomNormal([12], 0, 0.5, "float32", 3) as tf.Tensor1D;
      const r = tf.randomNormal([3, 5, 7, 12], 0, 1, "float32", 4);
      for (const groups of [1, 4, 12]) {
        const f = (fused: boolean) => (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(
            fused
              ? groupNorm(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, { groups })
              : composed(a as tf.Tensor4D, g, b, groups, 1e-5),
            r,
          ));
        const ours = tf.grads(f(true))([x, gamma, beta]);
        const ref = tf.grads(f(false))([x, gamma, beta]);
        const y = groupNorm(x, gamma, beta, { groups });
        const yRef = composed(x, gamma, beta, groups, 1e-5);
        for (const [i, [a, b]] of [[y, yRef], ...ours.map((g, k) => [g, ref[k]])].entries()) {
          const [maxErr] = relativeErrors(a.dataSync(), b.dataSync());
          assert.ok(maxErr < 1e-4, `groups ${groups}, output ${i}: ${maxErr}`);
        }
      }
    });
    assert.equal(tf.memory().numTensors, before);
  });
}

Deno.test("groupNorm outside tidy leaks nothing, and rejects bad groups with a message", async () => {
  await initBackend({ prefer: "wasm", quiet: true });
  const x = tf.randomNormal([1, 2, 2, 4]) as tf.Tensor4D;
  const g = tf.ones([4]) as tf.Tensor1D, b = tf.zeros([4]) as tf.Tensor1D;
  const before = tf.memory().numTensors;
  const y = groupNorm(x, g, b, { groups: 2 });
  y.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(
    () => groupNorm(x, g, b, { groups: 3 }),
    /'groups' must be a positive divisor of C=4: current value is 3/,
  );
  tf.dispose([x, g, b]);
});
