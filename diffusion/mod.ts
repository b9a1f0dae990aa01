/**
 * diffusion/: the cascaded text-to-image model of DreamBooth's backbone (Imagen-style): noise
 * schedules in continuous time, the Eq. 1 loss, a T5-style text encoder that loads Hugging Face T5
 * weights, Efficient-UNet-style base and super-resolution UNets, DDIM and ancestral samplers with
 * classifier-free guidance and dynamic thresholding, the cascade pipeline, safetensors checkpoints,
 * presets and a training step shared by training/ and superres/.
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
} from "./schedule.ts";
export { diffuse, type DiffuseOptions } from "./forward_process.ts";
export { noiseAugment, type NoiseAugmentOptions } from "./noise_augment.ts";
export {
  convertPrediction,
  type ConvertPredictionOptions,
  type Prediction,
  PREDICTIONS,
} from "./prediction.ts";
export {
  diffusionLoss,
  type DiffusionLossOptions,
  LOSS_WEIGHTINGS,
  type LossWeighting,
} from "./diffusion_loss.ts";
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
} from "./safetensors.ts";
export {
  relativePositionBucket,
  type RelativePositionBucketOptions,
} from "./relative_position_bucket.ts";
export {
  createT5Config,
  DEFAULT_T5_CONFIG,
  disposeTextEmbedding,
  encodeT5Streaming,
  type T5Config,
  T5Encoder,
  type T5WeightSource,
  type TextEmbedding,
} from "./t5_encoder.ts";
export { t5ConfigFromHf } from "./t5_config_from_hf.ts";
export type { EncodedText, TextTokenizer, TokenizerDescription } from "./text_tokenizer.ts";
export { WordTokenizer } from "./word_tokenizer.ts";
export { loadT5Tokenizer } from "./t5_tokenizer.ts";
export { tokenizerFromDescription } from "./tokenizer_from_description.ts";
export {
  createUNetConfig,
  DEFAULT_UNET_CONFIG,
  UNet,
  type UNetConditioning,
  type UNetConfig,
} from "./unet.ts";
export { unetDenoiser, type UNetDenoiserOptions } from "./unet_denoiser.ts";
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
} from "./sampler.ts";
export {
  Cascade,
  type CascadeSampleOptions,
  type CascadeSampleResult,
  type CascadeStage,
} from "./cascade.ts";
export {
  buildCascade,
  buildCascadeSync,
  type CascadeConfig,
  type CascadeConfigInput,
  cascadeConfigOf,
  createCascadeConfig,
  type StageConfig,
} from "./cascade_config.ts";
export {
  type CheckpointModel,
  loadCheckpoint,
  type LoadedCheckpoint,
  saveCheckpoint,
  type SaveCheckpointOptions,
} from "./checkpoint.ts";
export {
  createPreset,
  paperCascadeConfig,
  PRESET_NAMES,
  presetConfig,
  type PresetName,
  TINY_WORDS,
} from "./presets.ts";
export { encodePng, type Rgb8Image, tensorToImages, writePng } from "./png.ts";
export { downsampleImages } from "./downsample.ts";
export { hashInts, Rng } from "./rng.ts";
export { backendOption, backendParam, UsageError } from "./cli_options.ts";
export { formatSeconds, SamplingProgress, type SamplingStep } from "./sampling_progress.ts";
export { type PromptFit, promptFit } from "./prompt_fit.ts";
export { type SampleFields, sampleParams } from "./sample_params.ts";
