import { loadImage, type LoadImageOptions } from "./load_image.ts";
import type { RgbImage } from "./rgb_image.ts";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

/** File extensions {@link loadSubjectFolder} reads (case-insensitive). *
 * @example
 * ```ts
 * import { SUBJECT_IMAGE_EXTENSIONS } from "./mod.ts";
 * console.log(SUBJECT_IMAGE_EXTENSIONS); // [ ".jpg", ".jpeg", ".png", ".webp" ]
 * ```
 */
export const SUBJECT_IMAGE_EXTENSIONS: readonly string[] = [".jpg", ".jpeg", ".png", ".webp"];

/**
 * The smallest short side, in pixels, of a subject photo {@link loadSubjectFolder} accepts by
 * default: 64, the base-stage resolution of Imagen and DeepFloyd IF, i.e. the coarsest view of the
 * subject the paper's cascade ever trains on. A smaller photo holds less detail than even that
 * stage learns from, so every stage would be fine-tuned on an upscaled blur (a 1×1 "photo" is a
 * flat colour); it is refused rather than silently upscaled. The floor does not depend on the
 * preset, so the same folder is valid for every model.
 *
 * @example
 * ```ts
 * import { MIN_SUBJECT_SIDE } from "./mod.ts";
 * console.log(MIN_SUBJECT_SIDE); // 64
 * ```
 */
export const MIN_SUBJECT_SIDE = 64;

/** Options of {@link loadSubjectFolder}. */
export interface LoadSubjectFolderOptions extends LoadImageOptions {
  /** Side of the square images in pixels (required: every image is centre-cropped and resized). */
  size: number;
  /** Smallest short side of a photo in pixels. Default {@link MIN_SUBJECT_SIDE} (64). */
  minSide?: number;
  /**
   * Called with a warning message (default: `console.warn`), e.g. when the folder holds a single
   * image (DreamBooth wants 3–5).
   */
  onWarning?: (message: string) => void;
}

/** The images of a subject folder. */
export interface SubjectImages {
  /** Images in file-name order, each `size`×`size`. */
  images: RgbImage[];
  /** The file paths, in the same order. */
  paths: string[];
}

/**
 * Reads every JPEG/PNG/WebP image of a folder (sorted by name; hidden files and `subject.json`
 * are skipped), centre-cropped and resized to `size` (see {@link loadImage}: EXIF orientation,
 * alpha onto white, greyscale expanded).
 *
 * Errors, before any image is decoded: a missing or empty folder; files that are not images
 * (all of them named); photos smaller than `minSide` (default {@link MIN_SUBJECT_SIDE}, 64 px) on
 * their short side (all of them named). A folder with one image loads with a warning.
 *
 * @param dir The folder.
 * @param options See {@link LoadSubjectFolderOptions}.
 * @returns The images and their paths.
 *
 * @example
 * ```ts
 * import { defaultSubject, loadSubjectFolder } from "./mod.ts";
 * const { images } = await loadSubjectFolder(defaultSubject().dir, { size: 16 });
 * console.log(images.length >= 4); // true
 * ```
 */
export async function loadSubjectFolder(
  dir: string,
  options: LoadSubjectFolderOptions,
): Promise<SubjectImages> {
  const {
    size,
    onWarning = (m: string) => console.warn(m),
    minSide = MIN_SUBJECT_SIDE,
    ...imageOptions
  } = options ?? {};
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(
      `Cannot load subject folder as 'size' must be a positive integer: current value is ${size}`,
    );
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dir) && !dir.startsWith("file://")) {
    throw new Error(
      `Cannot load subject folder '${dir}': only local folders can be read (copy the images first)`,
    );
  }
  if (dir.startsWith("file://")) dir = fileURLToPath(dir);
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && !entry.name.startsWith(".")) names.push(entry.name);
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(`Cannot load subject folder '${dir}': folder not found`);
    }
    if (err instanceof Deno.errors.NotADirectory) {
      throw new Error(`Cannot load subject folder '${dir}': not a folder`);
    }
    throw err;
  }
  names.sort();
  const ignored = new Set(["subject.json", "license.md", "readme.md", "licence.md"]);
  const isImage = (n: string) =>
    SUBJECT_IMAGE_EXTENSIONS.some((ext) => n.toLowerCase().endsWith(ext));
  // `NAME.txt` beside `NAME.jpg` is that image's caption (read by the trainers), not a stray file.
  const stems = new Set(names.filter(isImage).map((n) => n.replace(/\.[^.]+$/, "")));
  const isCaption = (n: string) => n.endsWith(".txt") && stems.has(n.slice(0, -4));
  const candidates = names.filter((n) => !ignored.has(n.toLowerCase()) && !isCaption(n));
  const bad = candidates.filter((n) => !isImage(n));
  if (bad.length > 0) {
    throw new Error(
      `Cannot load subject folder '${dir}' as it holds files that are not JPEG/PNG/WebP images: ${
        bad.map((b) => `'${b}'`).join(", ")
      } (remove them or move them elsewhere)`,
    );
  }
  if (candidates.length === 0) {
    throw new Error(
      `Cannot load subject folder '${dir}' as it holds no images (JPEG/PNG/WebP); DreamBooth needs 3–5 images of the subject`,
    );
  }
  if (candidates.length === 1) {
    onWarning(
      `Subject folder '${dir}' holds a single image: DreamBooth works best with 3–5 images of the subject`,
    );
  }
  const paths = candidates.map((n) => join(dir, n));
  const images: RgbImage[] = [];
  const small: string[] = [];
  for (const p of paths) {
    try {
      images.push(await loadImage(p, { ...imageOptions, size, minSide }));
    } catch (err) {
      const c = (err as Error).cause as { width?: number; height?: number; minSide?: number };
      if (!(err instanceof RangeError) || c?.minSide !== minSide) throw err;
      small.push(`'${basename(p)}' (${c.width}×${c.height})`);
    }
  }
  if (small.length > 0) {
    throw new RangeError(
      `Cannot load subject folder '${dir}' as ${
        small.length === 1 ? "a photo is" : "photos are"
      } smaller than ${minSide} px on the short side: ${
        small.join(", ")
      } (DreamBooth learns the subject's details from them: use photos of at least ${minSide}×${minSide} px)`,
    );
  }
  return { images, paths };
}
