import { HELD_OUT_DRAWINGS } from "./held_out.ts";
import { fileURLToPath } from "node:url";

/** A built-in subject: a held-out drawing photographed "casually" in a few contexts. */
export interface BuiltInSubject {
  /** Subject name (`"dog"`), also its folder name under `data/subjects/`. */
  name: string;
  /** Class noun (`"dog"`). */
  classNoun: string;
  /** The held-out drawing it shows (`"noto:dog"`), never in the pretraining world. */
  drawingId: string;
  /** Folder of the images (a file path; a URL string when data/ is imported by URL). */
  dir: string;
  /** Image files in the folder, in order. */
  files: string[];
}

/** Number of images of each built-in subject. *
 * @example
 * ```ts
 * import { BUILT_IN_SUBJECT_IMAGES } from "./mod.ts";
 * console.log(BUILT_IN_SUBJECT_IMAGES); // 5
 * ```
 */
export const BUILT_IN_SUBJECT_IMAGES = 5;

/** The subject `deno task train` uses when none is given. *
 * @example
 * ```ts
 * import { DEFAULT_SUBJECT_NAME } from "./mod.ts";
 * console.log(DEFAULT_SUBJECT_NAME); // "dog"
 * ```
 */
export const DEFAULT_SUBJECT_NAME = "dog";

/**
 * The built-in subjects shipped in `data/subjects/<name>/` (made by `deno run -A
 * data/make_subjects.ts`): one per held-out drawing of `HELD_OUT_DRAWINGS`, each with
 * `BUILT_IN_SUBJECT_IMAGES` PNGs and a `subject.json` with provenance and licence.
 *
 * @returns The subjects, default first.
 *
 * @example
 * ```ts
 * import { builtInSubjects } from "./mod.ts";
 * console.log(builtInSubjects().map((s) => s.name)); // [ "dog", "cat", "teapot", … ]
 * ```
 */
export function builtInSubjects(): BuiltInSubject[] {
  const names = Object.keys(HELD_OUT_DRAWINGS).sort((a, b) =>
    (a === DEFAULT_SUBJECT_NAME ? -1 : 0) - (b === DEFAULT_SUBJECT_NAME ? -1 : 0)
  );
  return names.map((name) => {
    const url = new URL(`./subjects/${name}/`, import.meta.url);
    return {
      name,
      classNoun: HELD_OUT_DRAWINGS[name].classNoun,
      drawingId: HELD_OUT_DRAWINGS[name].drawingId,
      dir: url.protocol === "file:" ? fileURLToPath(url) : url.href,
      files: Array.from(
        { length: BUILT_IN_SUBJECT_IMAGES },
        (_, i) => `${String(i).padStart(2, "0")}.png`,
      ),
    };
  });
}

/**
 * The default built-in subject (the dog).
 *
 * @returns The subject named {@link DEFAULT_SUBJECT_NAME}.
 *
 * @example
 * ```ts
 * import { defaultSubject } from "./mod.ts";
 * console.log(defaultSubject().classNoun); // "dog"
 * ```
 */
export function defaultSubject(): BuiltInSubject {
  return builtInSubjects().find((s) => s.name === DEFAULT_SUBJECT_NAME)!;
}
