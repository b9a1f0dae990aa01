import assert from "assert";
import { offsetNoise } from "./offset_noise.ts";

Deno.test("offsetNoise: shifts each image's channel mean by strength·δ and leaves the rest", () => {
  const B = 2, H = 3, W = 3, C = 3;
  const noise = new Float32Array(B * H * W * C).map((_, i) => Math.sin(i));
  const before = noise.slice();
  const offsets = new Float32Array([1, -2, 0.5, 3, 0, -1]);
  offsetNoise(noise, { offsets, channels: C, strength: 0.1 });
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < H * W; p++) {
        const i = (b * H * W + p) * C + c;
        assert.ok(Math.abs(noise[i] - before[i] - 0.1 * offsets[b * C + c]) < 1e-6);
      }
    }
  }
  assert.throws(() => offsetNoise(noise, { offsets, channels: C, strength: -1 }), /'strength'/);
});
