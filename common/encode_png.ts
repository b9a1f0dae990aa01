/**
 * The one PNG writer of the project: a tiny encoder (8-bit RGB, zlib via node:zlib, no other
 * dependency) and an atomic write of its output. diffusion/ writes model samples with it, data/ its
 * image files and grids.
 *
 * @module
 */
import { deflateSync } from "node:zlib";
import { writeFileAtomic } from "./write_file_atomic.ts";

/** An 8-bit RGB image, row-major, 3 bytes per pixel (data/'s `RgbImage` holds floats in [−1, 1]). */
export interface Rgb8Image {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width · height · 3` bytes. */
  data: Uint8Array;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Encodes an RGB image as PNG bytes.
 *
 * @param image The {@link Rgb8Image}.
 * @param options `compressionLevel` 0–9 (default: zlib's, 6).
 * @returns The PNG file's bytes.
 *
 * @example
 * ```ts
 * import { encodePng } from "./encode_png.ts";
 * const png = encodePng({ width: 1, height: 1, data: new Uint8Array([255, 0, 0]) });
 * console.log(png.subarray(1, 4)); // Uint8Array(3) [ 80, 78, 71 ]
 * ```
 */
export function encodePng(
  image: Rgb8Image,
  options: { compressionLevel?: number } = {},
): Uint8Array {
  const level = options.compressionLevel;
  if (level !== undefined && (!Number.isInteger(level) || level < 0 || level > 9)) {
    throw new RangeError(
      `Cannot encode a PNG as 'compressionLevel' must be an integer in 0–9: current value is ${level}`,
    );
  }
  const { width, height, data } = image;
  if (data.length !== width * height * 3) {
    throw new RangeError(
      `Cannot encode a PNG as 'data' must hold width·height·3 = ${
        width * height * 3
      } bytes: current length is ${data.length}`,
    );
  }
  const raw = new Uint8Array(height * (width * 3 + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0; // filter: none
    raw.set(data.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  }
  const idat = new Uint8Array(deflateSync(raw, level === undefined ? {} : { level }));
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, RGB, deflate, no filter method, no interlace
  const chunks: [string, Uint8Array][] = [["IHDR", ihdr], ["IDAT", idat], [
    "IEND",
    new Uint8Array(),
  ]];
  const size = 8 + chunks.reduce((a, [, d]) => a + 12 + d.length, 0);
  const out = new Uint8Array(size);
  out.set([137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(out.buffer);
  let at = 8;
  for (const [type, body] of chunks) {
    view.setUint32(at, body.length);
    const typed = new Uint8Array(4 + body.length);
    typed.set(new TextEncoder().encode(type));
    typed.set(body, 4);
    out.set(typed, at + 4);
    view.setUint32(at + 8 + body.length, crc32(typed));
    at += 12 + body.length;
  }
  return out;
}

/**
 * Writes an RGB image as a PNG file (atomically: temporary file + rename).
 *
 * @param path Destination path.
 * @param image The {@link Rgb8Image}.
 * @param options `compressionLevel` 0–9 (default: zlib's, 6).
 * @returns A promise that resolves when the file is written.
 *
 * @example
 * ```ts
 * import { writePng } from "./encode_png.ts";
 * const path = await Deno.makeTempFile({ suffix: ".png" });
 * await writePng(path, { width: 1, height: 1, data: new Uint8Array(3) });
 * await Deno.remove(path);
 * ```
 */
export async function writePng(
  path: string,
  image: Rgb8Image,
  options: { compressionLevel?: number } = {},
): Promise<void> {
  await writeFileAtomic(path, encodePng(image, options));
}
