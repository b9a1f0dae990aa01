/**
 * Private to experiments/: image-quality figures of the SR leave-one-out experiment — PSNR and errors on a Laplacian band.
 *
 * @module
 */
import type { RgbImage } from "../data/mod.ts";

/** PSNR in dB of `a` against `b` (both in [−1, 1], same size), on the [0, 1] scale. */
export function psnr(a: RgbImage, b: RgbImage): number {
  let se = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = (a.data[i] - b.data[i]) / 2;
    se += d * d;
  }
  const mse = se / a.data.length;
  return mse === 0 ? Infinity : -10 * Math.log10(mse);
}

/** The Laplacian band (x − mean of its 4 neighbours, edges replicated), per channel, on [0, 1]. */
export function laplacian(im: RgbImage): Float32Array {
  const { width: w, height: h, data } = im;
  const out = new Float32Array(data.length);
  const at = (y: number, x: number, c: number) =>
    data[(Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))) * 3 + c] / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        out[(y * w + x) * 3 + c] = at(y, x, c) -
          (at(y - 1, x, c) + at(y + 1, x, c) + at(y, x - 1, c) + at(y, x + 1, c)) / 4;
      }
    }
  }
  return out;
}

/**
 * High-frequency figures of `out` against the truth: the RMS error of their Laplacian bands
 * (lower is better) and the ratio of their Laplacian energies (1 = as much fine detail as the
 * truth; < 1 blurred, > 1 hallucinated detail).
 */
export function highFrequency(out: RgbImage, truth: RgbImage): { error: number; ratio: number } {
  const a = laplacian(out), b = laplacian(truth);
  let se = 0, ea = 0, eb = 0;
  for (let i = 0; i < a.length; i++) {
    se += (a[i] - b[i]) ** 2;
    ea += a[i] * a[i];
    eb += b[i] * b[i];
  }
  return { error: Math.sqrt(se / a.length), ratio: Math.sqrt(ea / Math.max(eb, 1e-12)) };
}
