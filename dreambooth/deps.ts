/**
 * The dependencies of dreambooth/: the shared tfjs instance and Adam from backend/, the diffusion
 * model pieces from diffusion/, images and PNG writing from data/, the declared parameters from
 * params/, the one trainer and the run machinery from trainer/, the SR phase from superres/ (a
 * static import), and eval/'s world nets and metrics for the validation grid (all by relative
 * path, so that a URL import without deno.json works).
 *
 * @module
 */
export {
  type Adam,
  type AdamState,
  createAdam,
  holdBlasThreads,
  initBackend,
  parseBackendName,
  tf,
} from "../backend/mod.ts";
export {
  buildCascadeSync,
  Cascade,
  type CascadeConfig,
  type CascadeSampleOptions,
  type CascadeSampleResult,
  createCascadeConfig,
  createLoRAConfig,
  DEFAULT_SCHEDULE,
  diffusionLoss,
  exportCascadeLoRA,
  fillSubjectPrompt,
  LORA_PARAM_NAMES,
  type LoRAConfig,
  type LossWeighting,
  mergeCascadeLoRA,
  type NamedTensor,
  SamplingProgress,
  saveCheckpoint,
  saveLoRAFile,
  scheduleAt,
  tokenizerFromDescription,
  UNet,
} from "../diffusion/mod.ts";
export { hashInts, Rng } from "../diffusion/mod.ts";
export { backendOption, backendParam } from "../diffusion/mod.ts";
export {
  declareParams,
  fromFields,
  type ParamFields,
  type ParamInput,
  resolveParams,
  runCli,
} from "../params/mod.ts";
export {
  type EmojiScenes,
  type RgbImage as FloatImage,
  saveImageGrid,
  savePng,
} from "../data/mod.ts";
export { rgbImageFromUint8 } from "../data/mod.ts";
export {
  type BatchLoss,
  EMA_PREFIX,
  imagesToTensor,
  loadTrainerState,
  NonFiniteLossError,
  readRunCheckpoint,
  recordedBlasThreads,
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
  type TrainingSummary,
  WeightEma,
} from "../trainer/mod.ts";
export { dreamboothSuperRes, type DreamBoothSuperResContext } from "../superres/mod.ts";
export { exists, writeJsonAtomic } from "../common/mod.ts";
export {
  dreambenchPrompts,
  priorPreservation,
  promptFidelity,
  SubjectEmbedder,
  subjectFidelity,
  WorldClassifier,
} from "../eval/mod.ts";
export {
  type DDPMScheduler,
  encodeIFPromptsStreaming,
  type IFCascade,
  type IFDreamBoothLossOptions,
  ifModelKind,
  type IFTrainBatch,
  ifTrainingPrediction,
  type IFUNet,
  loadIFCascade,
  sampleIFCascade,
  saveIFModel,
} from "../deepfloyd/mod.ts";
export { loadImage } from "../data/mod.ts";
export { tensorToImages, writePng } from "../diffusion/mod.ts";
