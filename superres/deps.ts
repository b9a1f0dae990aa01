/**
 * The dependencies of superres/: the shared tfjs instance from backend/, the cascade, its trainer,
 * downsampling and checkpoints from diffusion/, subject images from data/, and the run machinery
 * (run folder, atomic checkpoints, loss log, loss curve, NaN guard, time budget) from training/ —
 * imported file by file (not training/mod.ts), so that training/'s DreamBooth job may import
 * superres/ without an import cycle. All by relative path, so that a URL import needs no deno.json.
 *
 * @module
 */
export {
  type BackendName,
  initBackend,
  parseBackendName,
  tf,
  upsampleNearest,
} from "../backend/mod.ts";
export {
  Cascade,
  type CascadeStage,
  createPreset,
  downsampleImages,
  loadCheckpoint,
  type LossWeighting,
  type NamedTensor,
  PRESET_NAMES,
  type PresetName,
  type Rgb8Image,
  saveCheckpoint,
  type TextEmbedding,
} from "../diffusion/mod.ts";
export {
  type BuiltInSubject,
  builtInSubjects,
  defaultSubject,
  loadSubjectFolder,
  type RgbImage,
  saveImageGrid,
} from "../data/mod.ts";
export { rgbImageFromUint8 } from "../data/mod.ts";
export {
  formatDuration,
  runTraining,
  type SampleGrid,
  type TrainingJob,
  type TrainingSummary,
} from "../training/training_run.ts";
export { NonFiniteLossError, StageTrainer, type StepResult } from "../training/stage_trainer.ts";
export {
  loadTrainerState,
  readRunCheckpoint,
  type RunCheckpoint,
  saveTrainerState,
} from "../training/run_checkpoint.ts";
export { exportCascade } from "../training/export_cascade.ts";
export { backendOption, backendParam, runStoppable, UsageError } from "../training/cli_options.ts";
export { declareParams, runCli } from "../params/mod.ts";
