import { SCENE_CONTEXTS } from "./scene_contexts.ts";

/** Options of {@link sceneCaption}. */
export interface SceneCaptionOptions {
  /** Context name from `SCENE_CONTEXTS` (`"beach"`), or omitted/null for none. */
  context?: string | null;
  /** Property adjective (`"red"`), or omitted/null for none. */
  property?: string | null;
  /** Rare-token identifier placed before the class noun (`"sks"` → "a sks dog"). Default none. */
  identifier?: string | null;
}

/**
 * Builds a caption in the DreamBench prompt grammar: `a [property] [identifier] <noun> [phrase]`,
 * e.g. "a teapot on the beach", "a red backpack in the snow", "a purple sks dog", "an owl".
 * The article is "an" before a vowel, except before an identifier (DreamBench writes "a [V] …").
 *
 * @param classNoun The class noun ("dog", "teddy bear").
 * @param options See {@link SceneCaptionOptions}.
 * @returns The caption.
 *
 * @example
 * ```ts
 * import { sceneCaption } from "./mod.ts";
 * console.log(sceneCaption("backpack", { context: "snow", property: "red" }));
 * // "a red backpack in the snow"
 * ```
 */
export function sceneCaption(classNoun: string, options: SceneCaptionOptions = {}): string {
  const { context = null, property = null, identifier = null } = options;
  if (typeof classNoun !== "string" || classNoun.trim() === "") {
    throw new TypeError(
      `Cannot build caption as 'classNoun' must be a non-empty string: current value is ${classNoun}`,
    );
  }
  let phrase = "";
  if (context !== null) {
    const found = SCENE_CONTEXTS.find((c) => c.name === context);
    if (found === undefined) {
      throw new RangeError(
        `Cannot build caption as 'context' must be one of SCENE_CONTEXTS' names: current value is ${context}`,
      );
    }
    phrase = " " + found.phrase;
  }
  const words = [property, identifier, classNoun].filter((w): w is string =>
    w !== null && w !== ""
  );
  const first = words[0];
  const article = identifier === null && /^[aeiou]/i.test(first) ? "an" : "a";
  return `${article} ${words.join(" ")}${phrase}`;
}
