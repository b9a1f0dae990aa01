/**
 * backend/: choosing the tfjs backend, and native CPU kernels (OpenBLAS through Deno FFI) registered
 * into tfjs. Also exports the one tfjs-core instance every package uses, with all gradients
 * registered.
 *
 * @example
 * ```ts
 * import { initBackend, tf } from "./mod.ts";
 * const report = await initBackend({ quiet: true });
 * console.log(report.name === tf.getBackend() || report.name === "wasm-native"); // true
 * ```
 *
 * @module
 */
// Registers UnsortedSegmentSum for wasm (the gradient of tf.gather, e.g. embedding lookups).
import "./_segment_sum_kernel.ts";
export { tf } from "./deps.ts";
export { upsampleNearest } from "./upsample.ts";
export {
  type BackendReport,
  initBackend,
  type InitBackendOptions,
  tensorflowPackages,
} from "./init_backend.ts";
export { type BackendName, backendNames, isBackendName, parseBackendName } from "./backend_name.ts";
export {
  nativeKernelsActive,
  type NativeKernelsState,
  setNativeKernels,
} from "./native_kernels.ts";
export { type NativeEngineState, setupNativeEngine } from "./native_engine.ts";
export {
  createReferenceUnet,
  type ReferenceUnet,
  type ReferenceUnetOptions,
} from "./reference_unet.ts";
export {
  type Blas,
  type BlasThreadHold,
  holdBlasThreads,
  NoTrans,
  openBlas,
  RowMajor,
  type Sgemm,
  Trans,
} from "./blas.ts";
export { type Adam, type AdamOptions, type AdamState, createAdam } from "./adam.ts";
export { groupNorm, type GroupNormOptions } from "./group_norm.ts";
export { silu } from "./silu.ts";
export { type ReadWatch, watchReads } from "./sync_reads.ts";
export { webgpuAdapterMissing, webgpuTestGate } from "./webgpu_adapter.ts";
export { maxKernelElements } from "./device_limits.ts";
export {
  fromBfloat16Bits,
  fromHalfBits,
  type HalfDType,
  HalfTensor,
  type HalfTensorOptions,
  toBfloat16Bits,
  toHalfBits,
} from "./half_tensor.ts";
