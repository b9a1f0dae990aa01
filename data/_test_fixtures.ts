// Private test fixtures: small images made with sharp in a temporary folder.
import { sharp } from "./deps.ts";

/** Solid-colour halves: left `a`, right `b`, as raw RGB. */
export function halves(w: number, h: number, a: number[], b: number[], channels = 3): Uint8Array {
  const px = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) px.set(x < w / 2 ? a : b, (y * w + x) * channels);
  }
  return px;
}

/** Writes raw pixels as an image file with sharp (format from the options). */
export async function writeImage(
  path: string,
  px: Uint8Array,
  w: number,
  h: number,
  channels: 1 | 3 | 4,
  format: "png" | "jpeg" | "webp",
  orientation?: number,
): Promise<void> {
  let p = sharp(px, { raw: { width: w, height: h, channels } });
  if (format === "png") p = p.png();
  if (format === "jpeg") p = p.jpeg({ quality: 95 });
  if (format === "webp") p = p.webp({ lossless: true });
  if (orientation !== undefined) p = p.withMetadata({ orientation });
  await Deno.writeFile(path, new Uint8Array(await p.toBuffer()));
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A PNG whose header claims width×height (its pixel data is truncated: never decode it). */
export function hugePngHeader(width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    chunk("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), o += p.length;
  return out;
}
