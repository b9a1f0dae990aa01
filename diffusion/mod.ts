/**
 * diffusion/: the cascaded text-to-image model of DreamBooth's backbone (Imagen-style): noise
 * schedules in continuous time, the Eq. 1 loss, a T5-style text encoder that loads Hugging Face T5
 * weights, Efficient-UNet-style base and super-resolution UNets, DDIM and ancestral samplers with
 * classifier-free guidance and dynamic thresholding, the cascade pipeline, safetensors checkpoints
 * and presets (the one trainer lives in trainer/). Its rooms:
 *
 * | folder | what |
 * |---|---|
 * | `process/` | schedules, the forward process (`diffuse`), `noiseAugment`, the Eq. 1 loss, prediction conversion, `ddimStep`/`ancestralStep` and the samplers, the seeded `Rng`, downsampling |
 * | `model/` | the UNets and their denoiser adapter, the T5 encoder and its HF config reader, layers and parameter stores |
 * | `text/` | the tokenizers the text encoder reads (word-level, T5/SentencePiece, from a description) |
 * | `pipeline/` | the cascade, its config and presets, sampling progress, prompt fitting, the sampling parameters |
 * | `io/` | safetensors, cascade checkpoints, PNG/tensor conversion |
 *
 * Root: this public surface, `deps.ts`, the `deno task sample` CLI and its options. Dependencies:
 * backend, tokenizer, params, common ← diffusion ← trainer, training, superres, dreambooth, eval,
 * deepfloyd ← rpc.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { createPreset } from "./mod.ts";
 * using cascade = await createPreset("tiny");
 * const { images } = await cascade.sample({ prompt: "a photo of a dog", seed: 1, steps: 2, stages: 1 });
 * console.log(images[0].width, images[0].height); // 32 32
 * ```
 *
 * @module
 */
export {
  alphaSigma,
  createSchedule,
  DEFAULT_SCHEDULE,
  logSnr,
  type Schedule,
  scheduleAt,
  type ScheduleKind,
  timeAtLogSnr,
} from "./process/schedule.ts";
export { diffuse, type DiffuseOptions } from "./process/forward_process.ts";
export { noiseAugment, type NoiseAugmentOptions } from "./process/noise_augment.ts";
export {
  convertPrediction,
  type ConvertPredictionOptions,
  type Prediction,
  PREDICTIONS,
} from "./process/prediction.ts";
export {
  diffusionLoss,
  type DiffusionLossOptions,
  LOSS_WEIGHTINGS,
  type LossWeighting,
} from "./process/diffusion_loss.ts";
export {
  decodeSafetensors,
  encodeSafetensors,
  type NamedTensor,
  openSafetensors,
  readSafetensors,
  type SafetensorsContent,
  type SafetensorsDtype,
  type SafetensorsEntry,
  SafetensorsError,
  SafetensorsFile,
  writeSafetensors,
} from "./io/safetensors.ts";
export {
  relativePositionBucket,
  type RelativePositionBucketOptions,
} from "./model/relative_position_bucket.ts";
export {
  createT5Config,
  DEFAULT_T5_CONFIG,
  disposeTextEmbedding,
  encodeT5Streaming,
  type T5Config,
  T5Encoder,
  type T5WeightSource,
  type TextEmbedding,
} from "./model/t5_encoder.ts";
export { t5ConfigFromHf } from "./model/t5_config_from_hf.ts";
export type { EncodedText, TextTokenizer, TokenizerDescription } from "./text/text_tokenizer.ts";
export { WordTokenizer } from "./text/word_tokenizer.ts";
export { loadT5Tokenizer } from "./text/t5_tokenizer.ts";
export { tokenizerFromDescription } from "./text/tokenizer_from_description.ts";
export {
  createUNetConfig,
  DEFAULT_UNET_CONFIG,
  UNet,
  type UNetConditioning,
  type UNetConfig,
} from "./model/unet.ts";
export {
  createLoRAConfig,
  LORA_TARGETS,
  type LoRAConfig,
  loraConvDelta,
  loraLinearDelta,
  LoRASet,
  type LoRATarget,
  type LoRATargets,
  loraWeightDelta,
} from "./model/lora.ts";
export {
  applyCascadeLoRA,
  applySamplingLoRA,
  exportCascadeLoRA,
  type LoRAFile,
  mergeCascadeLoRA,
  readLoRAFile,
  saveLoRAFile,
} from "./io/lora_file.ts";
export { LORA_PARAM_NAMES, loraParamSpecs } from "./model/lora_params.ts";
export { unetDenoiser, type UNetDenoiserOptions } from "./model/unet_denoiser.ts";
export {
  ancestralStep,
  createSamplerConfig,
  ddimStep,
  DEFAULT_SAMPLER,
  type Denoiser,
  dynamicThreshold,
  guide,
  sampleImages,
  type SampleImagesOptions,
  type SamplerConfig,
  type SampleResult,
  type SamplerKind,
  type StepTime,
  type Thresholding,
  timeGrid,
} from "./process/sampler.ts";
export {
  Cascade,
  type CascadeSampleOptions,
  type CascadeSampleResult,
  type CascadeStage,
} from "./pipeline/cascade.ts";
export {
  buildCascade,
  buildCascadeSync,
  type CascadeConfig,
  type CascadeConfigInput,
  cascadeConfigOf,
  createCascadeConfig,
  type StageConfig,
} from "./pipeline/cascade_config.ts";
export {
  type CheckpointModel,
  loadCheckpoint,
  type LoadedCheckpoint,
  saveCheckpoint,
  type SaveCheckpointOptions,
} from "./io/checkpoint.ts";
export {
  createPreset,
  paperCascadeConfig,
  PRESET_NAMES,
  presetConfig,
  type PresetName,
  TINY_WORDS,
} from "./pipeline/presets.ts";
export { encodePng, type Rgb8Image, tensorToImages, writePng } from "./io/png.ts";
export { downsampleImages } from "./process/downsample.ts";
export { hashInts, Rng, type RngAlgorithm, type RngOptions } from "./deps.ts";
export { backendOption, backendParam, UsageError } from "./cli_options.ts";
export {
  formatSeconds,
  SamplingProgress,
  type SamplingStep,
} from "./pipeline/sampling_progress.ts";
export { type PromptFit, promptFit } from "./pipeline/prompt_fit.ts";
export {
  CASCADE_SAMPLE_ONLY,
  IF_SAMPLE_ONLY,
  type SampleFields,
  sampleParams,
} from "./pipeline/sample_params.ts";
export {
  fillSubjectPrompt,
  type ModelConcept,
  type ModelSubject,
  readModelSubject,
  subjectFromMetadata,
} from "./io/model_subject.ts";
