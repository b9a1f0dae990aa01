import { sharp } from "./deps.ts";
import { errorMessage, uint8ToRgbImage } from "./_pixels.ts";
import type { RgbImage } from "./rgb_image.ts";

/** Options of {@link loadImage}. */
export interface LoadImageOptions {
  /** Output side in pixels (a square image). Default: the image's own size, no crop or resize. */
  size?: number;
  /**
   * How a non-square image becomes square: `"center"` (default) crops the centre square,
   * `"pad"` fits the whole image and pads with white.
   */
  crop?: "center" | "pad";
  /**
   * Largest accepted image in pixels (width·height), checked from the header before decoding.
   * Default 64,000,000 (64 MP): larger photos are refused with an error naming the file.
   */
  maxPixels?: number;
  /**
   * Smallest accepted short side in pixels, checked from the header before decoding; a smaller
   * image is refused with a `RangeError` naming the file. Default 1 (any size).
   */
  minSide?: number;
}

/** Default of {@link LoadImageOptions.maxPixels}: 64 megapixels. *
 * @example
 * ```ts
 * import { DEFAULT_MAX_PIXELS } from "./mod.ts";
 * console.log(DEFAULT_MAX_PIXELS / 1e6); // 64
 * ```
 */
export const DEFAULT_MAX_PIXELS = 64_000_000;

/**
 * Loads a JPEG, PNG, WebP (or any format sharp decodes) as an RGB image in [-1, 1].
 *
 * - EXIF orientation is honoured (the image is turned upright first).
 * - Alpha is flattened onto white (transparent pixels become white).
 * - Greyscale (and CMYK, 16-bit, palette) images are converted to 8-bit sRGB with 3 channels.
 * - With `size`, the image is centre-cropped to a square (or padded, `crop: "pad"`) and resized
 *   with a Lanczos filter to `size`×`size`.
 *
 * @param path Path of the image file.
 * @param options See {@link LoadImageOptions}.
 * @returns `{ data: Float32Array [H, W, 3] in [-1, 1], width, height }`.
 *
 * @example
 * ```ts
 * import { loadImage, savePng } from "./mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".png" });
 * await savePng(path, { data: new Float32Array(4 * 2 * 3), width: 4, height: 2 });
 * const image = await loadImage(path, { size: 2 });
 * console.log(image.width, image.height); // 2 2
 * await Deno.remove(path);
 * ```
 */
export async function loadImage(path: string, options: LoadImageOptions = {}): Promise<RgbImage> {
  const { size, crop = "center", maxPixels = DEFAULT_MAX_PIXELS, minSide = 1 } = options;
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      `Cannot load image as 'path' must be a non-empty string: current value is ${path}`,
    );
  }
  if (size !== undefined && (!Number.isInteger(size) || size < 1)) {
    throw new RangeError(
      `Cannot load image as 'size' must be a positive integer: current value is ${size}`,
    );
  }
  if (crop !== "center" && crop !== "pad") {
    throw new RangeError(
      `Cannot load image as 'crop' must be "center" or "pad": current value is ${crop}`,
    );
  }
  if (!Number.isInteger(minSide) || minSide < 1) {
    throw new RangeError(
      `Cannot load image as 'minSide' must be a positive integer: current value is ${minSide}`,
    );
  }
  if (!(maxPixels > 0)) {
    throw new RangeError(
      `Cannot load image as 'maxPixels' must be a positive number: current value is ${maxPixels}`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(`Cannot load image '${path}': file not found`);
    }
    throw new Error(`Cannot load image '${path}': ${errorMessage(err)}`);
  }
  let meta;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new Error(
      `Cannot load image '${path}': not an image sharp can decode (JPEG, PNG, WebP, …): ${
        errorMessage(err)
      }`,
    );
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > maxPixels) {
    throw new RangeError(
      `Cannot load image '${path}' as it has ${meta.width}×${meta.height} = ${
        (pixels / 1e6).toFixed(1)
      } megapixels, more than 'maxPixels' (${
        (maxPixels / 1e6).toFixed(1)
      } MP): downscale it first or raise 'maxPixels'`,
    );
  }
  const shortSide = Math.min(meta.width ?? 0, meta.height ?? 0);
  if (shortSide < minSide) {
    throw new RangeError(
      `Cannot load image '${path}' as it is ${meta.width}×${meta.height} pixels, smaller than ${minSide} px on its short side ('minSide'): use a larger photo`,
      { cause: { width: meta.width, height: meta.height, minSide } },
    );
  }
  try {
    let pipeline = sharp(bytes, { limitInputPixels: maxPixels, failOn: "error" })
      .autoOrient()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace("srgb");
    if (size !== undefined) {
      pipeline = pipeline.resize(size, size, {
        fit: crop === "center" ? "cover" : "contain",
        position: "centre",
        background: { r: 255, g: 255, b: 255 },
        kernel: "lanczos3",
      });
    }
    const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const { width, height, channels } = info;
    let rgb = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (channels === 1) {
      const expanded = new Uint8Array(width * height * 3);
      for (let i = 0; i < width * height; i++) {
        expanded[3 * i] = expanded[3 * i + 1] = expanded[3 * i + 2] = rgb[i];
      }
      rgb = expanded;
    } else if (channels !== 3) {
      throw new Error(`unexpected ${channels} channels after conversion to sRGB`);
    }
    return uint8ToRgbImage(rgb, width, height);
  } catch (err) {
    throw new Error(`Cannot load image '${path}': ${errorMessage(err)}`);
  }
}
