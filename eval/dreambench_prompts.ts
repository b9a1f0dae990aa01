import { SCENE_CONTEXTS, SCENE_PROPERTIES } from "./deps.ts";

/**
 * The 25 object prompt templates of DreamBench (Ruiz et al. 2022,
 * `dataset/prompts_and_classes.txt` of google/dreambooth), `{0}` the identifier and `{1}` the class
 * noun, in the file's order.
 *
 * @example
 * ```ts
 * import { DREAMBENCH_OBJECT_TEMPLATES } from "./dreambench_prompts.ts";
 * console.log(DREAMBENCH_OBJECT_TEMPLATES.length, DREAMBENCH_OBJECT_TEMPLATES[0]); // 25 "a {0} {1} in the jungle"
 * ```
 */
export const DREAMBENCH_OBJECT_TEMPLATES: readonly string[] = Object.freeze([
  "a {0} {1} in the jungle",
  "a {0} {1} in the snow",
  "a {0} {1} on the beach",
  "a {0} {1} on a cobblestone street",
  "a {0} {1} on top of pink fabric",
  "a {0} {1} on top of a wooden floor",
  "a {0} {1} with a city in the background",
  "a {0} {1} with a mountain in the background",
  "a {0} {1} with a blue house in the background",
  "a {0} {1} on top of a purple rug in a forest",
  "a {0} {1} with a wheat field in the background",
  "a {0} {1} with a tree and autumn leaves in the background",
  "a {0} {1} with the Eiffel Tower in the background",
  "a {0} {1} floating on top of water",
  "a {0} {1} floating in an ocean of milk",
  "a {0} {1} on top of green grass with sunflowers around it",
  "a {0} {1} on top of a mirror",
  "a {0} {1} on top of the sidewalk in a crowded street",
  "a {0} {1} on top of a dirt road",
  "a {0} {1} on top of a white rug",
  "a red {0} {1}",
  "a purple {0} {1}",
  "a shiny {0} {1}",
  "a wet {0} {1}",
  "a cube shaped {0} {1}",
]);

/** One prompt of the world's DreamBench set, with what it asks for in the world's terms. */
export interface WorldPrompt {
  /** The template (`"a {0} {1} on the beach"`). */
  template: string;
  /** The filled prompt (`"a sks dog on the beach"`). */
  prompt: string;
  /** Context name the prompt asks for, or null. */
  context: string | null;
  /** Property the prompt asks for, or null. */
  property: string | null;
}

/**
 * The world's translation of a template: the context whose phrase it ends with, or the property
 * adjective it starts with; null when the world cannot express it ("cube shaped").
 */
function targetOf(template: string): { context: string | null; property: string | null } | null {
  for (const c of SCENE_CONTEXTS) {
    if (template === `a {0} {1} ${c.phrase}`) return { context: c.name, property: null };
  }
  for (const p of SCENE_PROPERTIES) {
    if (template === `a ${p.name} {0} {1}`) return { context: null, property: p.name };
  }
  return null;
}

/**
 * The DreamBench object prompts that the EmojiScenes world can express (every context prompt and
 * the red, purple, shiny and wet prompts: 24 of 25; "cube shaped" is left out), with `{0}` filled
 * by the identifier and `{1}` by the class noun, and the context/property each asks for (what
 * prompt fidelity checks).
 *
 * @param identifier The rare-token identifier (`"sks"`); "" gives the class prompts ("a dog on the beach").
 * @param classNoun The subject's class noun (`"dog"`).
 * @returns The prompts, in DreamBench order.
 *
 * @example
 * ```ts
 * import { dreambenchPrompts } from "./dreambench_prompts.ts";
 * const prompts = dreambenchPrompts("sks", "dog");
 * console.log(prompts.length, prompts[2].prompt, prompts[2].context); // 24 "a sks dog on the beach" "beach"
 * ```
 */
export function dreambenchPrompts(identifier: string, classNoun: string): WorldPrompt[] {
  if (typeof identifier !== "string") {
    throw new TypeError(
      `Cannot build prompts as 'identifier' must be a string: current type is ${typeof identifier}`,
    );
  }
  if (typeof classNoun !== "string" || classNoun.trim() === "") {
    throw new TypeError(
      `Cannot build prompts as 'classNoun' must be a non-empty string: current value is ${classNoun}`,
    );
  }
  const out: WorldPrompt[] = [];
  for (const template of DREAMBENCH_OBJECT_TEMPLATES) {
    const target = targetOf(template);
    if (target === null) continue;
    const prompt = template.replace("{0}", identifier).replace("{1}", classNoun)
      .replace(/\s+/g, " ").trim();
    out.push({ template, prompt, ...target });
  }
  return out;
}
