import assert from "assert";
import { initBackend, tf, upsampleNearest } from "../deps.ts";
import { downsampleImages } from "./downsample.ts";

await initBackend({ quiet: true });

Deno.test("downsampleImages averages f×f boxes and inverts nearest upsampling", () => {
  const x = tf.randomUniform([2, 8, 12, 3], -1, 1, "float32", 4) as tf.Tensor4D;
  const y = downsampleImages(x, 4);
  assert.deepEqual(y.shape, [2, 2, 3, 3]);
  const xs = x.arraySync() as number[][][][];
  let sum = 0;
  for (let i = 4; i < 8; i++) for (let j = 4; j < 8; j++) sum += xs[1][i][j][2];
  assert.ok(Math.abs((y.arraySync() as number[][][][])[1][1][1][2] - sum / 16) < 1e-6);
  const up = upsampleNearest(y, 4);
  const back = downsampleImages(up, 4);
  assert.ok(tf.max(tf.abs(tf.sub(back, y))).dataSync()[0] < 1e-6);
  tf.dispose([x, y, up, back]);
});

Deno.test("downsampleImages validates the factor and leaks nothing", () => {
  const x = tf.zeros([1, 6, 6, 3]) as tf.Tensor4D;
  assert.throws(() => downsampleImages(x, 4), /'factor' \(4\) must divide/);
  assert.throws(() => downsampleImages(x, 0), /'factor' must be a positive integer/);
  const before = tf.memory().numTensors;
  const y = downsampleImages(x, 3);
  assert.equal(tf.memory().numTensors, before + 1);
  y.dispose();
  const z = downsampleImages(x, 1);
  z.dispose();
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});
