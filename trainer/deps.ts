/**
 * The dependencies of trainer/: the shared tfjs instance and Adam from backend/, the diffusion
 * model pieces from diffusion/, sample-grid writing from data/, the CLI frame from params/ (all by
 * relative path, so that a URL import without deno.json works).
 *
 * @module
 */
export {
  type Adam,
  type AdamState,
  createAdam,
  holdBlasThreads,
  initBackend,
  tf,
} from "../backend/mod.ts";
export {
  buildCascade,
  buildCascadeSync,
  type CascadeConfig,
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
  presetConfig,
  readSafetensors,
  saveCheckpoint,
  type Schedule,
  scheduleAt,
  T5Encoder,
  type TextEmbedding,
  tokenizerFromDescription,
  UNet,
  writeSafetensors,
} from "../diffusion/mod.ts";
export { hashInts, Rng } from "../diffusion/mod.ts";
export { backendOption, backendParam, UsageError } from "../diffusion/mod.ts";
export {
  type CliContext,
  type ParamSpecs,
  type ParamValues,
  runCli,
  type RunCliOptions,
} from "../params/mod.ts";
export { type RgbImage as FloatImage, saveImageGrid } from "../data/mod.ts";
export { exists, writeFileAtomic, writeJsonAtomic } from "../common/mod.ts";
