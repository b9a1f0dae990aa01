import assert from "assert";
import "npm:@tensorflow/tfjs-backend-cpu@4.22.0";
import { initBackend, tf } from "./mod.ts";

Deno.test("wasm UnsortedSegmentSum (registered by backend/) equals the cpu kernel, and the gather gradient works", async () => {
  const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const ids = [2, 0, 2, -1, 5, 0];
  const run = () =>
    tf.tidy(() => {
      const s = tf.unsortedSegmentSum(tf.tensor2d(x, [6, 2]), tf.tensor1d(ids, "int32"), 4);
      const table = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
      const g = tf.grad((t: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.gather(t, tf.tensor1d([0, 2, 2], "int32")),
            tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]),
          ),
        )
      )(table);
      return [Array.from(s.dataSync()), Array.from(g.dataSync())];
    });
  await tf.setBackend("cpu");
  const ref = run();
  await initBackend({ prefer: "wasm", quiet: true });
  const before = tf.memory().numTensors;
  const got = run();
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(got, ref);
  // Hand-computed: segment 0 = rows 1 and 5, segment 2 = rows 0 and 2, out-of-range ids dropped.
  assert.deepEqual(got[0], [3 + 11, 4 + 12, 0, 0, 1 + 5, 2 + 6, 0, 0]);
});
