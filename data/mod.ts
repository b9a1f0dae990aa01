/**
 * data/: image I/O (sharp), subject folders, the captioned EmojiScenes pretraining world and the
 * built-in subjects. Plain typed arrays only (no tfjs): images are `{ data: Float32Array
 * [H, W, 3] in [-1, 1], width, height }`.
 *
 * @module
 */
export { assertRgbImage, type RgbImage } from "./rgb_image.ts";
export { DEFAULT_MAX_PIXELS, loadImage, type LoadImageOptions } from "./load_image.ts";
export { savePng, type SavePngOptions } from "./save_png.ts";
export { saveImageGrid, type SaveImageGridOptions } from "./save_image_grid.ts";
export {
  loadSubjectFolder,
  type LoadSubjectFolderOptions,
  MIN_SUBJECT_SIDE,
  SUBJECT_IMAGE_EXTENSIONS,
  type SubjectImages,
} from "./load_subject_folder.ts";
export { EMOJI_SETS, type EmojiSet } from "./emoji_sets.ts";
export { EMOJI_CLASSES } from "./emoji_classes.ts";
export { type EmojiCatalog, type EmojiDrawing, loadEmojiCatalog } from "./emoji_catalog.ts";
export { SCENE_CONTEXTS, type SceneContext, type ScenePlacement } from "./scene_contexts.ts";
export { SCENE_PROPERTIES, type SceneProperty } from "./scene_properties.ts";
export { sceneCaption, type SceneCaptionOptions } from "./scene_caption.ts";
export { HELD_OUT_DRAWINGS } from "./held_out.ts";
export {
  createEmojiScenes,
  DEFAULT_OBJECT_SCALE,
  type EmojiScene,
  EmojiScenes,
  type EmojiScenesOptions,
  type SceneLayout,
  sceneSeedOf,
  type SceneSpec,
  type SceneStreamOptions,
} from "./emoji_scenes.ts";
export {
  BUILT_IN_SUBJECT_IMAGES,
  type BuiltInSubject,
  builtInSubjects,
  DEFAULT_SUBJECT_NAME,
  defaultSubject,
} from "./built_in_subjects.ts";
export {
  readSceneCache,
  type SceneCacheEntry,
  writeSceneCache,
  type WriteSceneCacheOptions,
} from "./scene_cache.ts";
export { rgbImageFromUint8 } from "./_pixels.ts";
