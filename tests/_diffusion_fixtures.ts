/** Private fixtures of the diffusion tests: synthetic images and PSNR. @module */
import { tf } from "../backend/mod.ts";

/** A smooth colour pattern (k = 0) or a coloured checkerboard (k = 1), `[size·size·3]` in [−1, 1]. */
export function testImage(k: number, size = 32): Float32Array {
  const d = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        const u = (x * 32) / size;
        const v = (y * 32) / size;
        d[(y * size + x) * 3 + c] = k === 0
          ? 0.9 * Math.sin(u / 5 + 2 * c) * Math.cos(v / 7 - c)
          : (((u >> 3) + (v >> 3) + c) % 2 ? 0.8 : -0.8);
      }
    }
  }
  return d;
}

/** PSNR in dB between images in [−1, 1] (measured on the [0, 1] scale). */
export function psnr(a: tf.Tensor, b: tf.Tensor): number {
  const mse = tf.tidy(() => tf.mean(tf.square(tf.mul(tf.sub(a, b), 0.5))).dataSync()[0]);
  return 10 * Math.log10(1 / mse);
}
