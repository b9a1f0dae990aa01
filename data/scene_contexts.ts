/** Where the object goes in a context. */
export type ScenePlacement =
  /** Stands on the ground in front of a background (bottom edge low in the frame). */
  | "ground"
  /** Lies on a surface that fills the frame. */
  | "surface"
  /** Floats on a liquid: the lower part is covered by waves. */
  | "float";

/** A context of the EmojiScenes world: a DreamBench prompt phrase and how it is drawn. */
export interface SceneContext {
  /** Short name (`"beach"`). */
  name: string;
  /** Caption phrase after the noun, from the DreamBench prompts (`"on the beach"`). */
  phrase: string;
  /** Where the object goes. */
  placement: ScenePlacement;
}

/**
 * The contexts of the EmojiScenes world: the 20 DreamBench object-prompt contexts, each drawn
 * procedurally (gradients, noise and shapes computed by data/'s own code, resolution-independent).
 *
 * @example
 * ```ts
 * import { SCENE_CONTEXTS } from "./mod.ts";
 * console.log(SCENE_CONTEXTS.map((c) => c.phrase)); // [ "in the jungle", "in the snow", … ]
 * ```
 */
export const SCENE_CONTEXTS: readonly SceneContext[] = [
  { name: "jungle", phrase: "in the jungle", placement: "ground" },
  { name: "snow", phrase: "in the snow", placement: "ground" },
  { name: "beach", phrase: "on the beach", placement: "ground" },
  { name: "cobblestone street", phrase: "on a cobblestone street", placement: "surface" },
  { name: "pink fabric", phrase: "on top of pink fabric", placement: "surface" },
  { name: "wooden floor", phrase: "on top of a wooden floor", placement: "surface" },
  { name: "city", phrase: "with a city in the background", placement: "ground" },
  { name: "mountain", phrase: "with a mountain in the background", placement: "ground" },
  { name: "blue house", phrase: "with a blue house in the background", placement: "ground" },
  {
    name: "purple rug in a forest",
    phrase: "on top of a purple rug in a forest",
    placement: "ground",
  },
  { name: "wheat field", phrase: "with a wheat field in the background", placement: "ground" },
  {
    name: "autumn tree",
    phrase: "with a tree and autumn leaves in the background",
    placement: "ground",
  },
  { name: "eiffel tower", phrase: "with the Eiffel Tower in the background", placement: "ground" },
  { name: "water", phrase: "floating on top of water", placement: "float" },
  { name: "ocean of milk", phrase: "floating in an ocean of milk", placement: "float" },
  {
    name: "grass with sunflowers",
    phrase: "on top of green grass with sunflowers around it",
    placement: "ground",
  },
  { name: "mirror", phrase: "on top of a mirror", placement: "surface" },
  {
    name: "crowded street",
    phrase: "on top of the sidewalk in a crowded street",
    placement: "ground",
  },
  { name: "dirt road", phrase: "on top of a dirt road", placement: "ground" },
  { name: "white rug", phrase: "on top of a white rug", placement: "surface" },
];
