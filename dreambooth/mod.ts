/**
 * dreambooth/: the DreamBooth pipeline behind `deno task train` and the RPC `train.start` job
 * (Ruiz et al. 2022): the base model, instance images, the rare-token identifier, cached class-prior
 * images, fine-tuning of the base stage with Eq. 2 ({@link dreamboothLoss}, λ as given) through
 * trainer/'s run machinery, SR fine-tuning of the SR stages through superres/ (a static import),
 * the personalised model folder and DreamBench-style samples; textual inversion as a baseline.
 *
 * Dependencies: diffusion ← trainer ← superres ← dreambooth (data, params, backend below); only
 * rpc/ (and the root mod.ts) import it.
 *
 * @example
 * ```ts
 * import { createDreamBoothConfig } from "./mod.ts";
 * const c = createDreamBoothConfig({ identifier: "sks", classNoun: "dog" });
 * console.log(c.instancePrompt, c.priorLossWeight); // "a sks dog" 1
 * ```
 *
 * @module
 */
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
export {
  type DreamBoothFields,
  type DreamBoothParams,
  dreamboothParams,
} from "./dreambooth_params.ts";
export {
  type DreamBoothJobContext,
  type DreamBoothJobParams,
  run as runDreamBoothJob,
} from "./dreambooth_rpc_job.ts";
export { sampleWithProgress } from "./sample_with_progress.ts";
export { ifDreamBoothLoss, ifDreamBoothStep } from "./if_dreambooth.ts";
export {
  createValidationMetrics,
  type ValidationMetrics,
  type ValidationMetricsOptions,
  type ValidationRecord,
  type ValidationSubject,
  withValidationMetrics,
} from "./validation_metrics.ts";
