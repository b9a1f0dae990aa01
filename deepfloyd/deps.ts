/**
 * The dependencies of deepfloyd/: tfjs, group norm and upsampling from backend/, safetensors and the
 * T5 encoder from diffusion/, SentencePiece from tokenizer/ (public mod.ts files only, relative
 * imports so that a URL import without deno.json works).
 *
 * @module
 */
export {
  type Adam,
  createAdam,
  groupNorm,
  initBackend,
  tf,
  upsampleNearest,
} from "../backend/mod.ts";
export {
  backendOption,
  backendParam,
  dynamicThreshold,
  encodeT5Streaming,
  fillSubjectPrompt,
  loraLinearDelta,
  type NamedTensor,
  openSafetensors,
  readSafetensors,
  type SafetensorsFile,
  t5ConfigFromHf,
  T5Encoder,
  type T5WeightSource,
  tensorToImages,
  type TextEmbedding,
  writePng,
  writeSafetensors,
} from "../diffusion/mod.ts";
export { encodeFixedLength, SentencePieceProcessor } from "../tokenizer/mod.ts";
export { exists, Rng, writeJsonAtomic } from "../common/mod.ts";
export { loadImage } from "../data/mod.ts";
