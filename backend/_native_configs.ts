// Private: the list of BLAS-backed kernel configs for the wasm backend.
import type { tf } from "./deps.ts";
import type { Blas } from "./_blas.ts";

/** Kernel configs that call `blas.sgemm`. */
export function nativeKernelConfigs(_blas: Blas): tf.KernelConfig[] {
  return [];
}
