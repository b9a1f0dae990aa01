/**
 * Private: conversions between `[B, H, W, 3]` tensors and data/'s float images.
 *
 * @module
 */
import { type Rgb8Image, type RgbImage, tf } from "./deps.ts";
import { rgbImageFromUint8 } from "./deps.ts";

/**
 * Reads a `[B, H, W, 3]` tensor (borrowed) into float images in [−1, 1] (values clipped).
 *
 * @param t The images, `[B, H, W, 3]`.
 * @returns One image per batch row.
 * @example
 * ```ts
 * import { initBackend, tf } from "../backend/mod.ts";
 * import { imagesFromTensor } from "./mod.ts";
 * await initBackend({ quiet: true });
 * const t = tf.fill([2, 4, 4, 3], 2) as tf.Tensor4D;
 * const [a] = await imagesFromTensor(t);
 * t.dispose();
 * console.log(a.width, a.data[0]); // 4 1
 * ```
 */
export async function imagesFromTensor(t: tf.Tensor4D): Promise<RgbImage[]> {
  const [b, h, w] = t.shape;
  const data = await t.data() as Float32Array;
  const px = h * w * 3;
  return Array.from({ length: b }, (_, k) => ({
    data: Float32Array.from(
      data.subarray(k * px, (k + 1) * px),
      (v) => Math.max(-1, Math.min(1, v)),
    ),
    width: w,
    height: h,
  }));
}

/** 8-bit images (e.g. `Cascade.sample`'s) as float images in [−1, 1]. */
export function floatImage(im: Rgb8Image): RgbImage {
  return rgbImageFromUint8(im);
}

/** Float images (same size) as one `[B, H, W, 3]` tensor, owned by the caller. */
export function tensorFromImages(images: readonly RgbImage[]): tf.Tensor4D {
  const { width: w, height: h } = images[0];
  const data = new Float32Array(images.length * w * h * 3);
  images.forEach((im, i) => data.set(im.data, i * w * h * 3));
  return tf.tensor4d(data, [images.length, h, w, 3]);
}
