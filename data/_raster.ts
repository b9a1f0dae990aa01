// Private cache of emoji rasters: each drawing rendered by sharp (librsvg) once per size on a
// geometric ladder, trimmed to its opaque bounding box, stored premultiplied as float RGBA.
import { sharp } from "./deps.ts";
import type { EmojiDrawing } from "./emoji_catalog.ts";

export interface Raster {
  /** Premultiplied RGBA in [0, 1], [h, w, 4]. */
  rgba: Float32Array;
  w: number;
  h: number;
}

/** Render sizes (longer side of the artwork's viewBox, pixels): ~√2 steps, finer when small. */
const LADDER = [
  8,
  10,
  12,
  14,
  16,
  19,
  22,
  26,
  32,
  38,
  45,
  54,
  64,
  76,
  90,
  108,
  128,
  152,
  181,
  215,
  256,
  304,
  362,
  431,
  512,
  609,
  724,
  861,
  1024,
  1448,
  2048,
];

export function ladderSize(px: number): number {
  for (const s of LADDER) if (s >= px) return s;
  return LADDER[LADDER.length - 1];
}

export class RasterCache {
  #map = new Map<string, Promise<Raster>>();
  #bytes = new Map<string, number>();
  #total = 0;
  readonly budget: number;
  constructor(budgetBytes = 256 * 2 ** 20) {
    this.budget = budgetBytes;
  }

  /** The drawing rendered with its viewBox's longer side at `size` pixels, then trimmed. */
  get(drawing: EmojiDrawing, size: number): Promise<Raster> {
    const key = `${drawing.id}|${size}`;
    const hit = this.#map.get(key);
    if (hit !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, hit);
      return hit;
    }
    const p = rasterize(drawing, size).then((r) => {
      const bytes = r.rgba.byteLength;
      this.#bytes.set(key, bytes);
      this.#total += bytes;
      this.#evict();
      return r;
    });
    this.#map.set(key, p);
    return p;
  }

  #evict(): void {
    for (const key of this.#map.keys()) {
      if (this.#total <= this.budget || this.#map.size <= 1) break;
      const b = this.#bytes.get(key);
      if (b === undefined) continue; // still rendering
      this.#map.delete(key);
      this.#bytes.delete(key);
      this.#total -= b;
    }
  }
}

async function rasterize(drawing: EmojiDrawing, size: number): Promise<Raster> {
  const w = drawing.aspect >= 1 ? size : Math.max(1, Math.round(size * drawing.aspect));
  const h = drawing.aspect >= 1 ? Math.max(1, Math.round(size / drawing.aspect)) : size;
  const svg = drawing.svg.replace("<svg ", `<svg width="${w}" height="${h}" `);
  const { data, info } = await sharp(new TextEncoder().encode(svg), { density: 72 })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const W = info.width, H = info.height;
  let x0 = W, y0 = H, x1 = -1, y1 = -1;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (data[(y * W + x) * 4 + 3] > 4) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return { rgba: new Float32Array(4), w: 1, h: 1 };
  const tw = x1 - x0 + 1, th = y1 - y0 + 1;
  const rgba = new Float32Array(tw * th * 4);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const s = ((y + y0) * W + x + x0) * 4, d = (y * tw + x) * 4;
      const a = data[s + 3] / 255;
      rgba[d] = data[s] / 255 * a;
      rgba[d + 1] = data[s + 1] / 255 * a;
      rgba[d + 2] = data[s + 2] / 255 * a;
      rgba[d + 3] = a;
    }
  }
  return { rgba, w: tw, h: th };
}
