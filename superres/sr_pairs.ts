/**
 * Super-resolution training pairs from a subject's own images: the high-res image at a stage's
 * output size and its low-res version made by the cascade's own downsampling
 * (`downsampleImages` from diffusion/: area averaging, the counterpart of the nearest-neighbour
 * upsampling the SR stage applies to its input).
 *
 * @module
 */
import { downsampleImages, type RgbImage, tf } from "./deps.ts";

/** High-res images and their low-res versions; owns both tensors (`dispose()`). */
export interface SrPairs {
  /** High-res images in [−1, 1]: `[N, highSize, highSize, 3]`. */
  readonly high: tf.Tensor4D;
  /** `downsampleImages(high, highSize / lowSize)`: `[N, lowSize, lowSize, 3]`. */
  readonly low: tf.Tensor4D;
  /** Frees both tensors. */
  dispose(): void;
  /** Frees both tensors (`using`). */
  [Symbol.dispose](): void;
}

/**
 * Builds SR training pairs: each square image is brought to `highSize` by the cascade's area
 * downsampling (its side must be a multiple of `highSize`), and the low-res half is the same
 * downsampling again by `highSize / lowSize`.
 *
 * @param images Square images in [−1, 1] whose side is a multiple of `highSize` (e.g. a subject
 * folder loaded at the cascade's largest size).
 * @param options `highSize` (the stage's output size) and `lowSize` (the previous stage's size;
 * must divide `highSize`).
 * @returns The {@link SrPairs}, owned by the caller.
 * @throws {RangeError} When there are no images, an image is not square, or the sizes do not divide.
 *
 * @example
 * ```ts
 * import { initBackend } from "./deps.ts";
 * import { makeSrPairs } from "./sr_pairs.ts";
 * await initBackend({ quiet: true });
 * const im = { data: new Float32Array(16 * 16 * 3), width: 16, height: 16 };
 * using pairs = makeSrPairs([im, im], { highSize: 8, lowSize: 2 });
 * console.log(pairs.high.shape, pairs.low.shape); // [ 2, 8, 8, 3 ] [ 2, 2, 2, 3 ]
 * ```
 */
export function makeSrPairs(
  images: readonly RgbImage[],
  options: { highSize: number; lowSize: number },
): SrPairs {
  const { highSize, lowSize } = options;
  const act = "make SR pairs";
  if (!Array.isArray(images) || images.length === 0) {
    throw new RangeError(`Cannot ${act} as 'images' must be a non-empty array`);
  }
  for (const [k, v] of Object.entries({ highSize, lowSize })) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(
        `Cannot ${act} as '${k}' must be a positive integer: current value is ${v}`,
      );
    }
  }
  if (highSize % lowSize !== 0) {
    throw new RangeError(
      `Cannot ${act} as 'lowSize' (${lowSize}) must divide 'highSize' (${highSize})`,
    );
  }
  const side = images[0].width;
  images.forEach((im, i) => {
    if (im.width !== side || im.height !== side || im.data.length !== side * side * 3) {
      throw new RangeError(
        `Cannot ${act} as images[${i}] must be ${side}×${side} RGB like images[0]: current size is ${im.width}×${im.height}`,
      );
    }
  });
  if (side % highSize !== 0) {
    throw new RangeError(
      `Cannot ${act} as the images' side (${side}) must be a multiple of 'highSize' (${highSize})`,
    );
  }
  const data = new Float32Array(images.length * side * side * 3);
  images.forEach((im, i) => data.set(im.data, i * side * side * 3));
  const [high, low] = tf.tidy(() => {
    const full = tf.tensor4d(data, [images.length, side, side, 3]);
    const h = downsampleImages(full, side / highSize);
    return [h, downsampleImages(h, highSize / lowSize)];
  });
  return {
    high,
    low,
    dispose() {
      high.dispose();
      low.dispose();
    },
    [Symbol.dispose]() {
      this.dispose();
    },
  };
}
