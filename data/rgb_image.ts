/**
 * An RGB image as plain typed arrays (data/ does not depend on tfjs; callers convert).
 *
 * `data` is row-major `[H, W, 3]` with values in [-1, 1] (−1 black, 1 white), the range the
 * diffusion models train on. Convert to a tensor with `tf.tensor3d(image.data, [height, width, 3])`.
 */
export interface RgbImage {
  /** Pixels `[H, W, 3]`, row-major, values in [-1, 1]. */
  data: Float32Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/**
 * Checks that a value is a well-formed {@link RgbImage} (right length, finite values).
 *
 * @param image The value to check.
 * @param what How to name the operation in the error message (default `"use image"`).
 * @returns Nothing; throws a `TypeError` or `RangeError` naming the problem.
 *
 * @example
 * ```ts
 * import { assertRgbImage } from "./rgb_image.ts";
 * assertRgbImage({ data: new Float32Array(12), width: 2, height: 2 }); // ok
 * ```
 */
export function assertRgbImage(image: RgbImage, what = "use image"): void {
  if (image === null || typeof image !== "object" || !(image.data instanceof Float32Array)) {
    throw new TypeError(`Cannot ${what} as 'image.data' must be a Float32Array [H, W, 3]`);
  }
  const { width, height, data } = image;
  if (!Number.isInteger(width) || width < 1) {
    throw new RangeError(
      `Cannot ${what} as 'image.width' must be a positive integer: current value is ${width}`,
    );
  }
  if (!Number.isInteger(height) || height < 1) {
    throw new RangeError(
      `Cannot ${what} as 'image.height' must be a positive integer: current value is ${height}`,
    );
  }
  if (data.length !== width * height * 3) {
    throw new RangeError(
      `Cannot ${what} as 'image.data' must have width·height·3 = ${
        width * height * 3
      } values: current length is ${data.length}`,
    );
  }
}
