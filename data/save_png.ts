import { rgbImageToUint8 } from "./_pixels.ts";
import { writePng } from "./deps.ts";
import { assertRgbImage, type RgbImage } from "./rgb_image.ts";

/** Options of {@link savePng}. */
export interface SavePngOptions {
  /** zlib compression level 0–9 (default 9: smallest files). */
  compressionLevel?: number;
}

/**
 * Writes an RGB image (values in [-1, 1], clamped) as an 8-bit PNG, creating parent folders.
 * The file is written atomically (temporary file + rename). The bytes depend only on the pixels.
 *
 * @param path Destination path.
 * @param image The image (borrowed).
 * @param options See {@link SavePngOptions}.
 * @returns Resolves when the file is written.
 *
 * @example
 * ```ts
 * import { savePng } from "./mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".png" });
 * await savePng(path, { data: new Float32Array(2 * 2 * 3).fill(1), width: 2, height: 2 });
 * await Deno.remove(path);
 * ```
 */
export async function savePng(
  path: string,
  image: RgbImage,
  options: SavePngOptions = {},
): Promise<void> {
  assertRgbImage(image, "save PNG");
  const { compressionLevel = 9 } = options;
  if (!Number.isInteger(compressionLevel) || compressionLevel < 0 || compressionLevel > 9) {
    throw new RangeError(
      `Cannot save PNG as 'compressionLevel' must be an integer in 0–9: current value is ${compressionLevel}`,
    );
  }
  await writePng(path, { width: image.width, height: image.height, data: rgbImageToUint8(image) }, {
    compressionLevel,
  });
}
