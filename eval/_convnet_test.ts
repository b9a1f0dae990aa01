import assert from "assert";
import { gatherBatch } from "./_convnet.ts";

// 2 scenes of 2×2 px: values 0..23, so every pixel and channel is distinct.
const pixels = Uint8Array.from({ length: 2 * 2 * 2 * 3 }, (_, i) => i);
const f = (v: number) => v / 127.5 - 1;

Deno.test("gatherBatch: picks scenes in order and maps bytes to [-1, 1]", () => {
  const out = gatherBatch(pixels, 2, [1, 0]);
  assert.equal(out.length, 24);
  assert.ok(Math.abs(out[0] - f(12)) < 1e-7);
  assert.ok(Math.abs(out[12] - f(0)) < 1e-7);
  assert.ok(
    Math.abs(gatherBatch(Uint8Array.of(0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 2, [0])[1] - 1) <
      1e-7,
  );
});

Deno.test("gatherBatch: flip mirrors each row left-right, channels kept", () => {
  const out = gatherBatch(pixels, 2, [0], { flip: true, rand: () => 0 });
  // Row 0 was pixels (0,1,2) (3,4,5); mirrored it reads (3,4,5) (0,1,2).
  assert.deepEqual(Array.from(out.subarray(0, 6), (v) => Math.round((v + 1) * 127.5)), [
    3,
    4,
    5,
    0,
    1,
    2,
  ]);
  assert.deepEqual(Array.from(out.subarray(6, 12), (v) => Math.round((v + 1) * 127.5)), [
    9,
    10,
    11,
    6,
    7,
    8,
  ]);
  const kept = gatherBatch(pixels, 2, [0], { flip: true, rand: () => 0.9 });
  assert.deepEqual(
    Array.from(kept, (v) => Math.round((v + 1) * 127.5)),
    Array.from(pixels.subarray(0, 12)),
  );
});

Deno.test("gatherBatch: blur averages 2×2 blocks", () => {
  const out = gatherBatch(pixels, 2, [0], { blurFraction: 1, rand: () => 0 });
  // Channel 0 of the 4 pixels: 0, 3, 6, 9 → mean 4.5 everywhere.
  for (let p = 0; p < 4; p++) assert.ok(Math.abs(out[p * 3] - f(4.5)) < 1e-6);
});

Deno.test("gatherBatch: shift translates with edge replication", () => {
  // rand() = 1 - ε: dx = dy = +1 → output (x, y) reads source (min(x + 1, 1), min(y + 1, 1)).
  const out = gatherBatch(pixels, 2, [0], { shift: 1, rand: () => 0.999 });
  const bytes = Array.from(out, (v) => Math.round((v + 1) * 127.5));
  for (let p = 0; p < 4; p++) assert.deepEqual(bytes.slice(p * 3, p * 3 + 3), [9, 10, 11]);
});
