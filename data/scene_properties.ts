/** A property edit of the EmojiScenes world: a word of the caption and how the object changes. */
export interface SceneProperty {
  /** The adjective in the caption (`"red"`). */
  name: string;
  /** Tint colour (sRGB in [0, 1]), or null for a non-colour edit (`"shiny"`). */
  tint: readonly [number, number, number] | null;
}

/**
 * The property edits of the EmojiScenes world, from the DreamBench property prompts ("a red …",
 * "a purple …", "a shiny …", "a wet …") plus more colours. Colours recolour the object keeping its
 * shading (luminance); "shiny" raises contrast and adds a specular highlight; "wet" darkens the
 * object and covers it with bright droplets.
 *
 * @example
 * ```ts
 * import { SCENE_PROPERTIES } from "./mod.ts";
 * console.log(SCENE_PROPERTIES.map((p) => p.name)); // [ "red", "purple", … ]
 * ```
 */
export const SCENE_PROPERTIES: readonly SceneProperty[] = [
  { name: "red", tint: [0.86, 0.1, 0.1] },
  { name: "purple", tint: [0.55, 0.2, 0.78] },
  { name: "blue", tint: [0.12, 0.35, 0.92] },
  { name: "green", tint: [0.15, 0.68, 0.2] },
  { name: "yellow", tint: [0.98, 0.85, 0.1] },
  { name: "pink", tint: [1.0, 0.5, 0.75] },
  { name: "orange", tint: [1.0, 0.5, 0.05] },
  { name: "black", tint: [0.12, 0.12, 0.14] },
  { name: "shiny", tint: null },
  { name: "wet", tint: null },
];
