import assert from "assert";
import { downsampleImages, initBackend, tf, upsampleNearest } from "./deps.ts";
import { makeSrPairs } from "./sr_pairs.ts";

await initBackend({ quiet: true });

function image(side: number, seed: number) {
  const data = new Float32Array(side * side * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = (s / 2 ** 32) * 2 - 1;
  }
  return { data, width: side, height: side };
}

Deno.test("makeSrPairs: both halves come from the cascade's own downsampling (diffusion's downsampleImages)", () => {
  const ims = [image(64, 1), image(64, 2)];
  const before = tf.memory().numTensors;
  const pairs = makeSrPairs(ims, { highSize: 32, lowSize: 8 });
  const full = tf.tensor4d(Float32Array.from([...ims[0].data, ...ims[1].data]), [2, 64, 64, 3]);
  const high = downsampleImages(full, 2);
  const low = downsampleImages(high, 4);
  assert.deepEqual(pairs.high.dataSync(), high.dataSync());
  assert.deepEqual(pairs.low.dataSync(), low.dataSync());
  // The low-res half is what the SR stage's nearest upsampling inverts exactly.
  const err = tf.tidy(() =>
    tf.max(tf.abs(tf.sub(downsampleImages(upsampleNearest(pairs.low, 4), 4), pairs.low)))
      .dataSync()[0]
  );
  assert.ok(err < 1e-6);
  tf.dispose([full, high, low]);
  pairs.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("makeSrPairs validates sizes and names the value", () => {
  assert.throws(
    () => makeSrPairs([], { highSize: 8, lowSize: 2 }),
    /'images' must be a non-empty array/,
  );
  assert.throws(
    () => makeSrPairs([image(12, 1)], { highSize: 8, lowSize: 2 }),
    /multiple of 'highSize' \(8\)/,
  );
  assert.throws(
    () => makeSrPairs([image(16, 1)], { highSize: 8, lowSize: 3 }),
    /'lowSize' \(3\) must divide/,
  );
  assert.throws(
    () => makeSrPairs([image(16, 1), image(8, 1)], { highSize: 8, lowSize: 2 }),
    /images\[1\] must be 16×16/,
  );
});
