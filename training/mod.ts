/**
 * training/: the run machinery every training command shares (run folders, atomic resumable
 * checkpoints, NaN/Inf guard, progress with ETA, JSONL loss log, loss-curve and sample-grid PNGs,
 * time budget, summary), a resumable trainer for one cascade stage (base with the text encoder, or
 * super-resolution with noise-conditioning augmentation and crops), pretraining of the default
 * cascade on the EmojiScenes world (`deno task pretrain`), and the export of finished runs into a
 * shippable float16 cascade (`models/default/`).
 *
 * @example
 * ```ts
 * import { initBackend, presetConfig } from "./deps.ts";
 * import { createPretrainConfig, createPretrainJob, runTraining } from "./mod.ts";
 * await initBackend({ quiet: true });
 * const config = createPretrainConfig({ cascade: presetConfig("tiny"), stage: "base", batchSize: 2 });
 * using job = await createPretrainJob(config);
 * const runDir = await Deno.makeTempDir();
 * const s = await runTraining(job, { runDir, totalSteps: 2, config, sampleEverySteps: 0, log: () => {} });
 * console.log(s.step); // 2
 * await Deno.remove(runDir, { recursive: true });
 * ```
 *
 * @module
 */
export {
  type BatchLoss,
  DEFAULT_STAGE_TRAINER_CONFIG,
  NonFiniteLossError,
  type StageBatch,
  StageTrainer,
  type StageTrainerConfig,
  type StageTrainerState,
  type StepResult,
} from "./stage_trainer.ts";
export {
  type ConfigChange,
  configChanges,
  formatDuration,
  readLossLog,
  RESUMABLE_SETTINGS,
  runTraining,
  type SampleGrid,
  type StopReason,
  type TrainingJob,
  type TrainingRunOptions,
  type TrainingSummary,
} from "./training_run.ts";
export {
  loadTrainerState,
  readRunCheckpoint,
  RUN_CHECKPOINT_FORMAT,
  type RunCheckpoint,
  saveTrainerState,
  type TrainerState,
  writeRunCheckpoint,
} from "./run_checkpoint.ts";
export {
  type LossCurveOptions,
  lossCurveSvg,
  type LossPoint,
  saveLossCurve,
} from "./loss_curve.ts";
export {
  averageCascades,
  type AverageCascadesOptions,
  type AveragedCascade,
} from "./average_cascades.ts";
export {
  CASCADE_PARTS,
  type CascadePart,
  composeCascades,
  type ComposeCascadesOptions,
  type ComposedCascade,
} from "./compose_cascades.ts";
export {
  createPretrainConfig,
  createPretrainJob,
  DEFAULT_SAMPLE_PROMPTS,
  PRETRAIN_SEEDS,
  PRETRAIN_STAGES,
  type PretrainConfig,
  type PretrainJob,
  type PretrainStage,
} from "./pretrain_job.ts";
export {
  exportCascade,
  type ExportCascadeOptions,
  type ExportedCascade,
} from "./export_cascade.ts";
export {
  createDreamBoothConfig,
  createDreamBoothJob,
  DEFAULT_DREAMBOOTH_TRAINER,
  type DreamBoothConfig,
  type DreamBoothJob,
  dreamboothPrompts,
} from "./dreambooth_job.ts";
export {
  type DreamBoothLoss,
  dreamboothLoss,
  type DreamBoothLossOptions,
} from "./dreambooth_loss.ts";
export {
  type DreamBoothIdentifier,
  IdentifierError,
  resolveIdentifier,
} from "./dreambooth_identifier.ts";
export {
  type BaseModel,
  type DreamBoothResult,
  resolveBaseModel,
  type SuperResHook,
  trainDreamBooth,
  type TrainDreamBoothOptions,
} from "./dreambooth_train.ts";
export {
  classImageCacheKey,
  type ClassImageKeyParts,
  classImages,
  type ClassImagesOptions,
  DEFAULT_CLASS_IMAGE_CACHE,
  hashBaseModel,
} from "./class_images.ts";
export { flipImage, type InstanceData, loadInstanceData } from "./instance_data.ts";
export {
  createTextualInversionJob,
  type TextualInversionJob,
  type TextualInversionOptions,
} from "./textual_inversion.ts";
export { runStoppable, UsageError } from "./cli_options.ts";
export { EMA_PREFIX, emaDecayAt, WeightEma } from "./weight_ema.ts";
export {
  type DreamBoothFields,
  type DreamBoothParams,
  dreamboothParams,
} from "./dreambooth_params.ts";
