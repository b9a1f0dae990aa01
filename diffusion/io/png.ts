/**
 * The conversion from model output tensors in [−1, 1] to 8-bit images (common/'s `encodePng` and
 * `writePng` write them; re-exported here).
 *
 * @module
 */
import type { Rgb8Image, tf } from "../deps.ts";
export { encodePng, type Rgb8Image, writePng } from "../deps.ts";

/**
 * Converts images in [−1, 1] to 8-bit RGB: round((x + 1) · 127.5), clipped.
 *
 * @param images `[B, H, W, 3]` (borrowed).
 * @returns One {@link Rgb8Image} per example.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { tf } from "../deps.ts";
 * import { tensorToImages } from "./png.ts";
 * const [img] = await tensorToImages(tf.tensor4d([-1, 0, 1], [1, 1, 1, 3]));
 * console.log(img.data); // Uint8Array(3) [ 0, 128, 255 ]
 * ```
 */
export async function tensorToImages(images: tf.Tensor4D): Promise<Rgb8Image[]> {
  const [b, h, w, c] = images.shape;
  if (c !== 3) {
    throw new RangeError(
      `Cannot convert to RGB images as the tensor must have 3 channels: current shape is [${images.shape}]`,
    );
  }
  const data = (await images.data()) as Float32Array;
  const out: Rgb8Image[] = [];
  const n = h * w * 3;
  for (let i = 0; i < b; i++) {
    const px = new Uint8Array(n);
    for (let j = 0; j < n; j++) {
      px[j] = Math.max(0, Math.min(255, Math.round((data[i * n + j] + 1) * 127.5)));
    }
    out.push({ width: w, height: h, data: px });
  }
  return out;
}
