// Private: resizing RGB images (Float32Array [H, W, 3]) to a square side in plain JavaScript.
import type { RgbImage } from "./deps.ts";

/** Checks that `image` is an RgbImage with consistent data; `what` names it in errors. */
export function checkImage(image: RgbImage, what: string): void {
  if (
    image === null || typeof image !== "object" || !(image.data instanceof Float32Array) ||
    !Number.isInteger(image.width) || !Number.isInteger(image.height) || image.width < 1 ||
    image.height < 1 || image.data.length !== image.width * image.height * 3
  ) {
    throw new TypeError(
      `Cannot use ${what} as it must be { data: Float32Array [H, W, 3], width, height } with ` +
        `data.length = H·W·3`,
    );
  }
}

/**
 * Resizes to `size`×`size` (no crop: callers pass square images; others are stretched): area
 * averaging when shrinking by an integer factor, bilinear otherwise. Writes into `out` at `offset`.
 */
export function resizeInto(
  image: RgbImage,
  size: number,
  out: Float32Array,
  offset = 0,
): void {
  const { width: w, height: h, data } = image;
  if (w === size && h === size) {
    out.set(data, offset);
    return;
  }
  if (w % size === 0 && h % size === 0) {
    const fx = w / size, fy = h / size, inv = 1 / (fx * fy);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let r = 0, g = 0, b = 0;
        for (let dy = 0; dy < fy; dy++) {
          let i = ((y * fy + dy) * w + x * fx) * 3;
          for (let dx = 0; dx < fx; dx++, i += 3) {
            r += data[i];
            g += data[i + 1];
            b += data[i + 2];
          }
        }
        const o = offset + (y * size + x) * 3;
        out[o] = r * inv;
        out[o + 1] = g * inv;
        out[o + 2] = b * inv;
      }
    }
    return;
  }
  for (let y = 0; y < size; y++) {
    const sy = Math.min(h - 1, Math.max(0, (y + 0.5) * h / size - 0.5));
    const y0 = Math.floor(sy), y1 = Math.min(h - 1, y0 + 1), ty = sy - y0;
    for (let x = 0; x < size; x++) {
      const sx = Math.min(w - 1, Math.max(0, (x + 0.5) * w / size - 0.5));
      const x0 = Math.floor(sx), x1 = Math.min(w - 1, x0 + 1), tx = sx - x0;
      const o = offset + (y * size + x) * 3;
      for (let c = 0; c < 3; c++) {
        const a = data[(y0 * w + x0) * 3 + c], b = data[(y0 * w + x1) * 3 + c];
        const d = data[(y1 * w + x0) * 3 + c], e = data[(y1 * w + x1) * 3 + c];
        out[o + c] = (a + (b - a) * tx) * (1 - ty) + (d + (e - d) * tx) * ty;
      }
    }
  }
}

/**
 * Resizes one image to `size`×`size`: area averaging when shrinking by an integer factor, bilinear
 * otherwise (no crop: a non-square image is stretched). The image the evaluators see.
 *
 * @param image The image, `{ data: Float32Array [H, W, 3], width, height }`.
 * @param size The side of the result in pixels (a positive integer).
 * @returns A new image, `size`×`size`.
 * @example
 * ```ts
 * import { resizeImage } from "./mod.ts";
 * const small = resizeImage({ data: new Float32Array(4 * 4 * 3).fill(0.5), width: 4, height: 4 }, 2);
 * console.log(small.width, small.data[0]); // 2 0.5
 * ```
 */
export function resizeImage(image: RgbImage, size: number): RgbImage {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(
      `Cannot resize as 'size' must be a positive integer: current value is ${size}`,
    );
  }
  const data = new Float32Array(size * size * 3);
  resizeInto(image, size, data);
  return { data, width: size, height: size };
}
