import { sharp } from "./deps.ts";
import { Buffer } from "node:buffer";
import { rgbImageToUint8 } from "./_pixels.ts";
import { writePng } from "./deps.ts";
import { assertRgbImage, type RgbImage } from "./rgb_image.ts";

/** Options of {@link saveImageGrid}. */
export interface SaveImageGridOptions {
  /** Images per row (default: ⌈√n⌉). */
  columns?: number;
  /** One caption per image, drawn under it (optional; wrapped to at most 3 lines). */
  labels?: string[];
  /** Gap between cells in pixels (default 4). */
  padding?: number;
  /** Font size of the labels in pixels (default: cell width / 11, at least 9). */
  fontSize?: number;
  /** Integer nearest-neighbour magnification of every image, e.g. 4 for 32 px samples (default 1). */
  scale?: number;
}

/**
 * Writes images as one PNG grid, row by row, on a white background, with an optional caption under
 * each image (rendered with sharp's SVG text; the fonts come from the system). Images may differ in
 * size: each cell is as large as the largest image.
 *
 * @param path Destination PNG path (parent folders are created; written atomically).
 * @param images The images (borrowed), values in [-1, 1].
 * @param options See {@link SaveImageGridOptions}.
 * @returns Resolves when the file is written.
 *
 * @example
 * ```ts
 * import { saveImageGrid } from "./mod.ts";
 * const black = { data: new Float32Array(8 * 8 * 3).fill(-1), width: 8, height: 8 };
 * const path = await Deno.makeTempFile({ suffix: ".png" });
 * await saveImageGrid(path, [black, black, black], { columns: 2, labels: ["a", "b", "c"] });
 * await Deno.remove(path);
 * ```
 */
export async function saveImageGrid(
  path: string,
  images: RgbImage[],
  options: SaveImageGridOptions = {},
): Promise<void> {
  if (!Array.isArray(images) || images.length === 0) {
    throw new RangeError(
      `Cannot save image grid as 'images' must be a non-empty array: current length is ${images?.length}`,
    );
  }
  images.forEach((im, i) => assertRgbImage(im, `save image grid (image ${i})`));
  const { scale = 1 } = options;
  if (!Number.isInteger(scale) || scale < 1 || scale > 64) {
    throw new RangeError(
      `Cannot save image grid as 'scale' must be an integer in 1–64: current value is ${scale}`,
    );
  }
  if (scale > 1) images = images.map((im) => magnify(im, scale));
  const n = images.length;
  const { columns = Math.ceil(Math.sqrt(n)), labels, padding = 4 } = options;
  if (!Number.isInteger(columns) || columns < 1) {
    throw new RangeError(
      `Cannot save image grid as 'columns' must be a positive integer: current value is ${columns}`,
    );
  }
  if (!Number.isInteger(padding) || padding < 0) {
    throw new RangeError(
      `Cannot save image grid as 'padding' must be a non-negative integer: current value is ${padding}`,
    );
  }
  if (labels !== undefined && labels.length !== n) {
    throw new RangeError(
      `Cannot save image grid as 'labels' must have one label per image (${n}): current length is ${labels.length}`,
    );
  }
  const cellW = Math.max(...images.map((im) => im.width));
  const cellH = Math.max(...images.map((im) => im.height));
  const fontSize = options.fontSize ?? Math.max(9, Math.round(cellW / 11));
  const charsPerLine = Math.max(4, Math.floor(cellW / (fontSize * 0.55)));
  const wrapped = labels?.map((l) => wrap(l, charsPerLine, 3)) ?? [];
  const lines = Math.max(0, ...wrapped.map((w) => w.length));
  const labelH = lines > 0 ? Math.ceil(lines * fontSize * 1.2 + fontSize * 0.4) : 0;
  const rows = Math.ceil(n / columns);
  const cols = Math.min(columns, n);
  const width = cols * cellW + (cols + 1) * padding;
  const height = rows * (cellH + labelH) + (rows + 1) * padding;
  const canvas = new Uint8Array(width * height * 3).fill(255);
  const cellX = (i: number) => padding + (i % columns) * (cellW + padding);
  const cellY = (i: number) => padding + Math.floor(i / columns) * (cellH + labelH + padding);
  images.forEach((im, i) => {
    const px = rgbImageToUint8(im);
    const x0 = cellX(i) + Math.floor((cellW - im.width) / 2);
    const y0 = cellY(i) + Math.floor((cellH - im.height) / 2);
    for (let y = 0; y < im.height; y++) {
      canvas.set(
        px.subarray(y * im.width * 3, (y + 1) * im.width * 3),
        ((y0 + y) * width + x0) * 3,
      );
    }
  });
  let pipeline = sharp(canvas, { raw: { width, height, channels: 3 } });
  if (lines > 0) {
    const texts = wrapped.map((ls, i) =>
      ls.map((line, k) =>
        `<text x="${cellX(i) + cellW / 2}" y="${cellY(i) + cellH + fontSize * (1.05 + 1.2 * k)}">${
          escapeXml(line)
        }</text>`
      ).join("")
    ).join("");
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<g font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="#111" ` +
      `text-anchor="middle">${texts}</g></svg>`;
    pipeline = pipeline.composite([{ input: Buffer.from(svg), top: 0, left: 0 }]);
  }
  // Flattened to raw RGB (the SVG overlay adds an alpha channel) and written by the one PNG writer.
  const raw = await pipeline.removeAlpha().raw().toBuffer();
  await writePng(path, {
    width,
    height,
    data: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength),
  }, { compressionLevel: 9 });
}

function magnify(im: RgbImage, f: number): RgbImage {
  const w = im.width * f, h = im.height * f;
  const data = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = ((Math.floor(y / f) * im.width) + Math.floor(x / f)) * 3, d = (y * w + x) * 3;
      data[d] = im.data[s], data[d + 1] = im.data[s + 1], data[d + 2] = im.data[s + 2];
    }
  }
  return { data, width: w, height: h };
}

function wrap(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line === "") line = word;
    else if (line.length + 1 + word.length <= width) line += " " + word;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== "") lines.push(line);
  if (lines.length > maxLines) {
    lines.length = maxLines;
    lines[maxLines - 1] = lines[maxLines - 1].slice(0, Math.max(1, width - 1)) + "…";
  }
  return lines.map((l) => (l.length > width ? l.slice(0, width - 1) + "…" : l));
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
