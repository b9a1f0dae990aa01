// Private pixel conversions shared by the image I/O and the scene renderer.
import type { RgbImage } from "./rgb_image.ts";

/** uint8 RGB `[H, W, 3]` → float in [-1, 1]. */
export function uint8ToRgbImage(bytes: Uint8Array, width: number, height: number): RgbImage {
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = bytes[i] / 127.5 - 1;
  return { data, width, height };
}

/** float in [-1, 1] → uint8 RGB (rounded, clamped). */
export function rgbImageToUint8(image: RgbImage): Uint8Array {
  const out = new Uint8Array(image.data.length);
  const d = image.data;
  for (let i = 0; i < d.length; i++) {
    const v = Math.round((d[i] + 1) * 127.5);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/** Turns an unknown thrown value into a message. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * An 8-bit RGB image (such as diffusion's `Cascade.sample` output) as a float image in [-1, 1].
 *
 * @param image `{ data: Uint8Array /* [H, W, 3] *\/, width, height }` (borrowed).
 * @returns A new {@link RgbImage}.
 *
 * @example
 * ```ts
 * import { rgbImageFromUint8 } from "./mod.ts";
 * const im = rgbImageFromUint8({ data: new Uint8Array([0, 255, 255]), width: 1, height: 1 });
 * console.log(Array.from(im.data)); // [-1, 1, 1]
 * ```
 */
export function rgbImageFromUint8(
  image: { data: Uint8Array; width: number; height: number },
): RgbImage {
  return uint8ToRgbImage(image.data, image.width, image.height);
}
