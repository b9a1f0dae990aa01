/**
 * The cascade's downsampling: area (box) averaging by an integer factor, the exact counterpart of
 * the nearest-neighbour upsampling every SR stage applies to its low-res input (so that
 * `upsampleNearest(downsampleImages(x, f), f)` is the projection of `x` onto f×f-constant images,
 * and `downsampleImages(upsampleNearest(y, f), f) = y`). EmojiScenes renders small sizes the same
 * way (a supersampled canvas averaged in f×f boxes). Super-resolution training pairs built from
 * real images (superres/) use it to make the low-res half.
 *
 * @module
 */
import { tf } from "../deps.ts";

/**
 * Averages `[B, H, W, C]` images over non-overlapping `factor`×`factor` boxes.
 *
 * @param images The images `[B, H, W, C]` (borrowed); H and W must be multiples of `factor`.
 * @param factor The integer downsampling factor (≥ 1; 1 returns a copy).
 * @returns The images `[B, H/factor, W/factor, C]`, owned by the caller.
 * @throws {RangeError} When `factor` is not a positive integer or does not divide H and W.
 *
 * @example
 * ```ts
 * import { initBackend, tf } from "../deps.ts";
 * import { downsampleImages } from "./downsample.ts";
 * await initBackend({ quiet: true });
 * const x = tf.tensor4d([0, 1, 2, 3], [1, 2, 2, 1]);
 * const y = downsampleImages(x, 2);
 * console.log(y.shape, y.dataSync()[0]); // [ 1, 1, 1, 1 ] 1.5
 * tf.dispose([x, y]);
 * ```
 */
export function downsampleImages(images: tf.Tensor4D, factor: number): tf.Tensor4D {
  const [b, h, w, c] = images.shape;
  if (!Number.isInteger(factor) || factor < 1) {
    throw new RangeError(
      `Cannot downsample as 'factor' must be a positive integer: current value is ${factor}`,
    );
  }
  if (h % factor !== 0 || w % factor !== 0) {
    throw new RangeError(
      `Cannot downsample as 'factor' (${factor}) must divide the image size (${h}×${w})`,
    );
  }
  if (factor === 1) return tf.clone(images);
  return tf.tidy(() => {
    // Rank ≤ 4 throughout (rank-5 tensors are slow on wasm): rows, then columns.
    const rows = tf.sum(tf.reshape(images, [b * (h / factor), factor, w, c]), 1); // [B·H/f, W, C]
    const cols = tf.sum(tf.reshape(rows, [b * (h / factor), w / factor, factor, c]), 2); // [B·H/f, W/f, C]
    return tf.reshape(tf.div(cols, factor * factor), [b, h / factor, w / factor, c]);
  });
}
