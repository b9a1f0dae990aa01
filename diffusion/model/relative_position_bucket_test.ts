import assert from "assert";
import { relativePositionBucket } from "./relative_position_bucket.ts";

Deno.test("relativePositionBucket: values derived by hand from the T5 definition", () => {
  // Bidirectional, 32 buckets, max distance 128: 16 buckets per direction, offsets 0–7 exact, then
  // 8 + ⌊log(|d|/8) / log(128/8) · 8⌋ capped at 15; positive offsets (keys after the query) add 16.
  const cases: [number, number][] = [
    [0, 0],
    [-1, 1],
    [-7, 7],
    [-8, 8], // log(1) = 0
    [-12, 9], // log(1.5)/log(16) · 8 = 1.17
    [-16, 10], // log(2)/log(16) · 8 = 2
    [-32, 12], // 4
    [-64, 14], // 6
    [-127, 15], // 7.977
    [-128, 15], // 8 → capped at 15
    [-1000, 15],
    [1, 17],
    [7, 23],
    [8, 24],
    [16, 26],
    [100, 31], // 16 + 8 + ⌊log(12.5)/log(16) · 8⌋ = 16 + 8 + 7
    [200, 31],
  ];
  for (const [d, expected] of cases) {
    assert.equal(relativePositionBucket(d), expected, `offset ${d}`);
  }
});

Deno.test("relativePositionBucket: unidirectional (decoder) and other sizes", () => {
  // Unidirectional: only keys before the query count (n = max(−d, 0)); 32 buckets, 16 exact.
  assert.equal(relativePositionBucket(5, { bidirectional: false }), 0);
  assert.equal(relativePositionBucket(-5, { bidirectional: false }), 5);
  // 16 + ⌊log(20/16)/log(128/16) · 16⌋ = 16 + ⌊1.717⌋ = 17
  assert.equal(relativePositionBucket(-20, { bidirectional: false }), 17);
  // 8 buckets, max distance 16, bidirectional: 4 per side, 2 exact: −3 → 2 + ⌊log(1.5)/log(8) · 2⌋ = 2.
  assert.equal(relativePositionBucket(-3, { numBuckets: 8, maxDistance: 16 }), 2);
  assert.equal(relativePositionBucket(-16, { numBuckets: 8, maxDistance: 16 }), 3);
  assert.equal(relativePositionBucket(3, { numBuckets: 8, maxDistance: 16 }), 6);
});

Deno.test("relativePositionBucket: a non-integer offset fails naming it", () => {
  assert.throws(
    () => relativePositionBucket(1.5),
    /'relativePosition' must be an integer: current value is 1.5/,
  );
});
