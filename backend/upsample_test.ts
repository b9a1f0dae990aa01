import assert from "assert";
import "npm:@tensorflow/tfjs-backend-cpu@4.22.0";
import { tf, upsampleNearest } from "./mod.ts";

Deno.test("upsampleNearest matches resizeNearestNeighbor forward and has the right gradient for batch > 1", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const x = tf.randomNormal([3, 3, 5, 2], 0, 1, "float32", 1) as tf.Tensor4D;
    const y = upsampleNearest(x, 2);
    const ref = tf.image.resizeNearestNeighbor(x, [6, 10]);
    assert.deepEqual(Array.from(y.dataSync()), Array.from(ref.dataSync()));
    // d/dx sum(w ⊙ up(x)) = sum of w over each pixel's 2×2 block (computed by hand below).
    const w = tf.randomNormal([3, 6, 10, 2], 0, 1, "float32", 2);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(upsampleNearest(a as tf.Tensor4D, 2), w)))(x);
    const wv = w.arraySync() as number[][][][];
    const expected: number[] = [];
    for (let b = 0; b < 3; b++) {
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 5; j++) {
          for (let c = 0; c < 2; c++) {
            expected.push(
              wv[b][2 * i][2 * j][c] + wv[b][2 * i + 1][2 * j][c] + wv[b][2 * i][2 * j + 1][c] +
                wv[b][2 * i + 1][2 * j + 1][c],
            );
          }
        }
      }
    }
    const got = Array.from(g.dataSync());
    for (let k = 0; k < got.length; k++) assert.ok(Math.abs(got[k] - expected[k]) < 1e-5);
  });
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("upsampleNearest rejects a bad factor with a message naming it", () => {
  const x = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
  assert.throws(
    () => upsampleNearest(x, 0),
    /'factor' must be a positive integer: current value is 0/,
  );
  x.dispose();
});
