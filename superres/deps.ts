/**
 * The dependencies of superres/: the shared tfjs instance from backend/, the cascade,
 * downsampling and checkpoints from diffusion/, subject images from data/, the one trainer and the
 * run machinery (run folder, atomic checkpoints, loss log, loss curve, NaN guard, time budget) from
 * trainer/, the CLI frame from params/. All by relative path, so that a URL import needs no
 * deno.json. Only dreambooth/ (and rpc/) import superres/.
 *
 * @module
 */
export { initBackend, tf, upsampleNearest } from "../backend/mod.ts";
export {
  Cascade,
  createPreset,
  downsampleImages,
  exportCascadeLoRA,
  loadCheckpoint,
  type LoRAConfig,
  type LoRATargets,
  mergeCascadeLoRA,
  type NamedTensor,
  PRESET_NAMES,
  type PresetName,
  readModelSubject,
  type Rgb8Image,
  saveCheckpoint,
  saveLoRAFile,
  type TextEmbedding,
} from "../diffusion/mod.ts";
export {
  type BuiltInSubject,
  builtInSubjects,
  defaultSubject,
  loadSubjectFolder,
  type RgbImage,
} from "../data/mod.ts";
export { rgbImageFromUint8 } from "../data/mod.ts";
export {
  exportCascade,
  formatDuration,
  loadTrainerState,
  readRunCheckpoint,
  type RunCheckpoint,
  runTraining,
  type SampleGrid,
  saveTrainerState,
  StageTrainer,
  type StepResult,
  type StoppableMain,
  stoppableMain,
  type TrainingJob,
  type TrainingSummary,
} from "../trainer/mod.ts";
export { backendOption, backendParam } from "../diffusion/mod.ts";
export { declareParams, runCli, UsageError } from "../params/mod.ts";
