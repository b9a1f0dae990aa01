/**
 * The dependencies of diffusion/: the shared tfjs instance, backend selection and rank-4 upsampling
 * from backend/ (relative imports, so that a URL import without deno.json works) and Node built-ins.
 *
 * @module
 */
export {
  type Adam,
  type AdamState,
  type BackendName,
  backendNames,
  createAdam,
  fromBfloat16Bits,
  fromHalfBits,
  groupNorm,
  type HalfDType,
  HalfTensor,
  initBackend,
  maxKernelElements,
  parseBackendName,
  silu as fusedSilu,
  tf,
  toHalfBits,
  upsampleNearest,
} from "../backend/mod.ts";
export { type EnumParam, UsageError, wasmHeapHint } from "../params/mod.ts";
export {
  encodePng,
  hashInts,
  type Rgb8Image,
  Rng,
  type RngAlgorithm,
  type RngOptions,
  writeFileAtomic,
  writePng,
} from "../common/mod.ts";
