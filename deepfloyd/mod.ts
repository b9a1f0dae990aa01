/**
 * deepfloyd/: DeepFloyd IF in diffusers' folder layout: the stage I / stage II UNets
 * (`UNet2DConditionModel` with IF's blocks), the DDPM and DDIM schedulers IF's configs name, and
 * loading of `model_index.json` folders with the T5 v1.1 text encoder (diffusion/'s `T5Encoder`)
 * and its SentencePiece tokenizer.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { loadIFStage } from "./mod.ts";
 * using stage = await loadIFStage(new URL("./testdata/if_tiny_i", import.meta.url).pathname);
 * console.log(stage.scheduler.timesteps(2)); // [ 500, 0 ]
 * ```
 *
 * @module
 */
export {
  type IFDownBlockType,
  type IFUNetConfig,
  ifUNetConfigFromDiffusers,
  type IFUpBlockType,
} from "./if_unet_config.ts";
export { IFUNet, type IFUNetInputs, ifUNetParameterShapes, timestepEmbedding } from "./if_unet.ts";
export {
  alphasCumprod,
  cosineBetas,
  DDPMScheduler,
  type DDPMSchedulerConfig,
  inferenceTimesteps,
  type SchedulerStepResult,
} from "./ddpm_scheduler.ts";
export { DDIMScheduler, type DDIMSchedulerConfig } from "./ddim_scheduler.ts";
export {
  type IFStage,
  loadIFStage,
  readDiffusersWeights,
  readJsonFile,
  type ReadWeightsOptions,
} from "./diffusers_folder.ts";
export { encodeIFPrompts, ifPromptIds, sampleIF, type SampleIFOptions } from "./if_sampler.ts";
export { openDiffusersWeights, ShardedWeights } from "./sharded_weights.ts";
export {
  encodeIFPromptsStreaming,
  type EncodeIFPromptsStreamingOptions,
} from "./prompt_embedding_cache.ts";
export {
  type IFDreamBoothLossOptions,
  type IFTrainBatch,
  type IFTrainingPrediction,
  ifTrainingPrediction,
} from "./if_dreambooth.ts";
export {
  downloadHubSnapshot,
  hubCacheDir,
  type HubOptions,
  isDiffusersWeightFile,
  parseHubSource,
  resolveModelDir,
} from "./hf_hub.ts";
export {
  IF_PRESET_NAMES,
  type IFPreset,
  ifPreset,
  type IFPresetName,
  ifUNetParameterCount,
  t5EncoderParameterCount,
  t5EncoderParameterShapes,
} from "./if_presets.ts";
export {
  IF_MODEL_FILE,
  type IFCascade,
  ifModelKind,
  type IFModelManifest,
  loadIFCascade,
  type LoadIFCascadeOptions,
  sampleIFCascade,
  type SampleIFCascadeOptions,
  saveIFModel,
} from "./if_model.ts";
export type { Activation } from "./_nn.ts";
