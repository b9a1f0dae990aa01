/**
 * The held-out drawings: one drawing per DreamBench class that never appears in the pretraining
 * world (`createEmojiScenes` excludes them unless `includeHeldOut` is set). Each becomes a
 * built-in subject (see `data/subjects/` and `builtInSubjects()`), so the base model has never
 * seen it: personalisation has to learn it. Keys are subject names, values drawing ids
 * (`"<set prefix>:<emoji name>"`). Sets with a ShareAlike licence are avoided.
 *
 * @example
 * ```ts
 * import { HELD_OUT_DRAWINGS } from "./mod.ts";
 * console.log(HELD_OUT_DRAWINGS.dog.drawingId); // "noto:dog"
 * ```
 */
export const HELD_OUT_DRAWINGS: Readonly<Record<string, { classNoun: string; drawingId: string }>> =
  {
    dog: { classNoun: "dog", drawingId: "noto:dog" },
    cat: { classNoun: "cat", drawingId: "twemoji:cat" },
    teapot: { classNoun: "teapot", drawingId: "fluent-emoji-flat:teapot" },
    backpack: { classNoun: "backpack", drawingId: "noto:backpack" },
    sneaker: { classNoun: "sneaker", drawingId: "emojione:running-shoe" },
  };
