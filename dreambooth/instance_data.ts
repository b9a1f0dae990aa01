/**
 * The instance images of a DreamBooth run: a folder of photos of the subject (JPEG/PNG/WebP of any
 * size; EXIF orientation honoured, alpha flattened, greyscale expanded, centre-cropped and resized
 * by data/'s `loadSubjectFolder`), plus their horizontal flips as augmentation, and per-image
 * captions (`NAME.txt` beside `NAME.jpg`, or `captions` in `subject.json`). Every check (empty
 * folder, non-image files, images over the pixel limit, a single image → warning) runs here,
 * before any model compute.
 *
 * @module
 */
import type { FloatImage } from "./deps.ts";
import { basename, join } from "node:path";
import { loadSubjectFolder } from "../data/mod.ts";

/** What {@link loadInstanceData} returns. */
export interface InstanceData {
  /** The images as loaded (stage size, [−1, 1]). */
  images: FloatImage[];
  /** The training pool: the images, then their horizontal flips when `flip`. */
  pool: FloatImage[];
  /** The source files. */
  paths: string[];
  /**
   * Per-image captions, aligned with `pool` (a flip shares its image's): the text of `NAME.txt`
   * beside `NAME.jpg`, or null where there is none. Null when no image has one.
   */
  captions: (string | null)[] | null;
}

/**
 * Mirrors an image left–right.
 *
 * @param image `[H, W, 3]` image.
 * @returns A new image.
 *
 * @example
 * ```ts
 * import { flipImage } from "./instance_data.ts";
 * const im = { data: new Float32Array([1, 1, 1, -1, -1, -1]), width: 2, height: 1 };
 * console.log(flipImage(im).data[0]); // -1
 * ```
 */
export function flipImage(image: FloatImage): FloatImage {
  const { width: w, height: h } = image;
  const data = new Float32Array(image.data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3, d = (y * w + (w - 1 - x)) * 3;
      data[d] = image.data[s];
      data[d + 1] = image.data[s + 1];
      data[d + 2] = image.data[s + 2];
    }
  }
  return { data, width: w, height: h };
}

/**
 * Loads and checks a subject folder for DreamBooth.
 *
 * @param dir The folder.
 * @param options `size` (the base stage's resolution, required), `flip` (default true),
 * `onWarning` (default `console.warn`; e.g. a single image).
 * @returns The {@link InstanceData}.
 * @throws {Error} Naming the folder or file: no images, non-image files, an image over the pixel limit.
 *
 * @example
 * ```ts
 * import { defaultSubject } from "../data/mod.ts";
 * import { loadInstanceData } from "./instance_data.ts";
 * const d = await loadInstanceData(defaultSubject().dir, { size: 8 });
 * console.log(d.images.length, d.pool.length); // 5 10
 * ```
 */
export async function loadInstanceData(
  dir: string,
  options: { size: number; flip?: boolean; onWarning?: (message: string) => void },
): Promise<InstanceData> {
  const { size, flip = true, onWarning = (m: string) => console.warn(`warning: ${m}`) } = options;
  const { images, paths } = await loadSubjectFolder(dir, { size, onWarning });
  const pool = flip ? [...images, ...images.map(flipImage)] : [...images];
  // Captions: `captions` of subject.json ({"00.jpg": "a [V] dog on a sofa"}), then NAME.txt.
  let listed: Record<string, unknown> = {};
  try {
    const meta = JSON.parse(await Deno.readTextFile(join(dir, "subject.json")));
    if (meta && typeof meta.captions === "object" && meta.captions !== null) listed = meta.captions;
  } catch {
    // no subject.json, or none readable: no listed captions
  }
  const own: (string | null)[] = [];
  for (const p of paths) {
    let text: string | null = null;
    const entry = listed[basename(p)];
    if (typeof entry === "string" && entry.trim() !== "") text = entry.trim();
    try {
      const t = (await Deno.readTextFile(p.replace(/\.[^./\\]+$/, ".txt"))).trim();
      if (t !== "") text = t;
    } catch {
      // no NAME.txt
    }
    own.push(text);
  }
  const captions = own.some((c) => c !== null) ? (flip ? [...own, ...own] : own) : null;
  return { images, pool, paths, captions };
}
