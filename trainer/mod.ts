/**
 * trainer/: the one diffusion trainer ({@link StageTrainer}: one resumable step of Eq. 1 or of a
 * given loss, for pretraining, DreamBooth and SR fine-tuning alike) and the run machinery every
 * training command shares: run folders, atomic resumable checkpoints, the run loop with its NaN
 * guard, progress with ETA, JSONL loss log, loss-curve and sample-grid PNGs, time budget and
 * summary ({@link runTraining}), the weight average (EMA), the export of finished runs into a
 * shippable float16 cascade, and the CLI helpers of the training commands.
 *
 * Dependencies: backend ← diffusion ← trainer ← training (pretraining), superres ← dreambooth.
 * data/ (sample grids) and params/ (CLI options) below it.
 *
 * @example
 * ```ts
 * import { DEFAULT_SCHEDULE, initBackend, tf, UNet } from "./deps.ts";
 * import { StageTrainer } from "./mod.ts";
 * await initBackend({ quiet: true });
 * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 0 });
 * using trainer = new StageTrainer(net, { schedule: DEFAULT_SCHEDULE });
 * const x = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
 * console.log(trainer.trainStep({ xStart: x }).step); // 1
 * x.dispose();
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
  recordedBlasThreads,
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
  exportCascade,
  type ExportCascadeOptions,
  type ExportedCascade,
} from "./export_cascade.ts";
export {
  runStoppable,
  type StoppableCliContext,
  type StoppableMain,
  stoppableMain,
  UsageError,
} from "./cli_options.ts";
export { EMA_PREFIX, emaDecayAt, WeightEma } from "./weight_ema.ts";
export { imagesToTensor } from "./_images.ts";
export {
  learningRateAt,
  LR_SCHEDULES,
  type LrScheduleName,
  type LrScheduleOptions,
} from "./lr_schedule.ts";
export { offsetNoise } from "./offset_noise.ts";
