/**
 * The dependencies of eval/: the shared tfjs instance and backend selection from backend/, the
 * world and image I/O from data/, safetensors and the cascade from diffusion/ (relative imports, so
 * that a URL import without deno.json works), and Node built-ins.
 *
 * @module
 */
export { initBackend, parseBackendName, tf } from "../backend/mod.ts";
export { backendOption, backendParam } from "../diffusion/mod.ts";
export {
  builtInSubjects,
  createEmojiScenes,
  EMOJI_CLASSES,
  type EmojiScenes,
  HELD_OUT_DRAWINGS,
  loadImage,
  loadSubjectFolder,
  type RgbImage,
  saveImageGrid,
  SCENE_CONTEXTS,
  SCENE_PROPERTIES,
  sceneCaption,
  sceneSeedOf,
} from "../data/mod.ts";
export { rgbImageFromUint8 } from "../data/mod.ts";
export { decodeSafetensors, encodeSafetensors, type NamedTensor } from "../diffusion/mod.ts";
export {
  type Cascade,
  createPreset,
  loadCheckpoint,
  type ModelSubject,
  PRESET_NAMES,
  readModelSubject,
} from "../diffusion/mod.ts";
export {
  diffusionLoss,
  disposeTextEmbedding,
  scheduleAt,
  type TextEmbedding,
} from "../diffusion/mod.ts";
export { Rng } from "../common/mod.ts";
