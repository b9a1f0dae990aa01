import assert from "assert";
import { initBackend, tf } from "../deps.ts";
import { attention } from "./_layers.ts";

await initBackend({ quiet: true });

Deno.test("attention split by query rows (a GPU's binding limit) equals one block: values, gradients", () => {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const [b, n, m, heads, d] = [2, 7, 5, 2, 3];
    const q = tf.randomNormal([b, n, heads * d], 0, 1, "float32", 1);
    const k = tf.randomNormal([b, m, heads * d], 0, 1, "float32", 2);
    const v = tf.randomNormal([b, m, heads * d], 0, 1, "float32", 3);
    const r = tf.randomNormal([b, n, heads * d], 0, 1, "float32", 4);
    for (
      const bias of [
        null,
        tf.randomNormal([1, heads, n, m], 0, 1, "float32", 5), // position bias: rows sliced
        tf.randomNormal([b, 1, 1, m], 0, 1, "float32", 6), // key mask: broadcast
      ]
    ) {
      const f = (limit: number) => (a: tf.Tensor, bk: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.mul(attention(a, bk, c, heads, { bias, maxScoreElements: limit }), r));
      const whole = tf.grads(f(Infinity))([q, k, v]);
      // 3 rows of 20 per block: blocks of 3, 3, 1 rows.
      const split = tf.grads(f(3 * b * heads * m))([q, k, v]);
      const y1 = attention(q, k, v, heads, { bias });
      const y2 = attention(q, k, v, heads, { bias, maxScoreElements: 1 }); // one row per block
      for (const [a, c] of [[y1, y2], ...whole.map((g, i) => [g, split[i]])]) {
        const err = tf.max(tf.abs(tf.sub(a, c))).dataSync()[0];
        assert.ok(err < 1e-5, `${bias?.shape ?? "no bias"}: ${err}`);
      }
    }
  });
  assert.equal(tf.memory().numTensors, before);
});
