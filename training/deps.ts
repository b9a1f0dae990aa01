/**
 * The dependencies of training/: the shared tfjs instance and Adam from backend/, the diffusion
 * model pieces from diffusion/, the EmojiScenes world and PNG writing from data/ (all by relative
 * path, so that a URL import without deno.json works).
 *
 * @module
 */
export { type Adam, initBackend, tf } from "../backend/mod.ts";
export {
  buildCascadeSync,
  Cascade,
  type CascadeConfig,
  createCascadeConfig,
  type NamedTensor,
  noiseAugment,
  presetConfig,
  readSafetensors,
  type SafetensorsContent,
  sampleImages,
  saveCheckpoint,
  scheduleAt,
  type TextTokenizer,
  tokenizerFromDescription,
  UNet,
  unetDenoiser,
  writeSafetensors,
} from "../diffusion/mod.ts";
export { Rng } from "../diffusion/mod.ts";
export { backendOption, backendParam, UsageError } from "../diffusion/mod.ts";
export { declareParams, type ParamDeclaration, type ParamSpecs, runCli } from "../params/mod.ts";
export { createEmojiScenes, type EmojiScenes, type RgbImage as FloatImage } from "../data/mod.ts";
export { rgbImageFromUint8 } from "../data/mod.ts";
export {
  EMA_PREFIX,
  exportCascade,
  imagesToTensor,
  loadTrainerState,
  type RunCheckpoint,
  runTraining,
  type SampleGrid,
  saveTrainerState,
  StageTrainer,
  type StageTrainerConfig,
  type StepResult,
  type StoppableMain,
  stoppableMain,
  type TrainingJob,
  WeightEma,
} from "../trainer/mod.ts";
export { exists, writeJsonAtomic } from "../common/mod.ts";
