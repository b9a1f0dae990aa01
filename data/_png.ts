// Private PNG encoding and atomic writes shared by savePng, saveImageGrid and the caches.
import { sharp } from "./deps.ts";
import { dirname } from "node:path";

/** Encodes uint8 RGB pixels as PNG bytes. */
export async function encodeRgbPng(
  rgb: Uint8Array,
  width: number,
  height: number,
  compressionLevel = 9,
): Promise<Uint8Array> {
  const buf = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel, adaptiveFiltering: true })
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Writes bytes to a temporary file beside `path`, then renames it over `path`. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await Deno.mkdir(dirname(path) || ".", { recursive: true });
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, path);
}
