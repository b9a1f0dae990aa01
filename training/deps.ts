/**
 * The dependencies of training/: the shared tfjs instance and Adam from backend/, the diffusion
 * model pieces from diffusion/, the EmojiScenes world and PNG writing from data/ (all by relative
 * path, so that a URL import without deno.json works).
 *
 * @module
 */
export {
  type Adam,
  type AdamState,
  type BackendName,
  createAdam,
  initBackend,
  parseBackendName,
  tf,
  upsampleNearest,
} from "../backend/mod.ts";
export {
  buildCascadeSync,
  Cascade,
  type CascadeConfig,
  type CascadeConfigInput,
  createCascadeConfig,
  DEFAULT_SCHEDULE,
  diffuse,
  diffusionLoss,
  type DiffusionLossOptions,
  encodeSafetensors,
  LOSS_WEIGHTINGS,
  type LossWeighting,
  type NamedTensor,
  noiseAugment,
  PRESET_NAMES,
  presetConfig,
  type PresetName,
  readSafetensors,
  type SafetensorsContent,
  sampleImages,
  saveCheckpoint,
  type Schedule,
  scheduleAt,
  type StageConfig,
  T5Encoder,
  type TextEmbedding,
  type TextTokenizer,
  tokenizerFromDescription,
  UNet,
  unetDenoiser,
  writeSafetensors,
} from "../diffusion/mod.ts";
export { hashInts, Rng } from "../diffusion/mod.ts";
export { backendOption, backendParam, UsageError } from "../diffusion/mod.ts";
export {
  declareParams,
  fromFields,
  type ParamDeclaration,
  type ParamFields,
  type ParamInput,
  type ParamSpecs,
  resolveParams,
  runCli,
} from "../params/mod.ts";
export {
  createEmojiScenes,
  type EmojiScenes,
  type RgbImage as FloatImage,
  saveImageGrid,
  savePng,
} from "../data/mod.ts";
export { rgbImageFromUint8 } from "../data/mod.ts";
