import { tf } from "./deps.ts";
import { type Blas, blasError, envGet, openBlas } from "./blas.ts";
import { ensureConvFilterKernel } from "./_conv_filter_fallback.ts";
import { nativeKernelConfigs, nativeKernelNames } from "./_native_configs.ts";

/** What {@linkcode setNativeKernels} did. */
export interface NativeKernelsState {
  /** Whether BLAS-backed kernels are registered for the wasm backend now. */
  active: boolean;
  /** The BLAS library in use (`""` when none), or why there is none. */
  detail: string;
  /** The kernel names replaced (empty when inactive). */
  kernels: string[];
}

// wasm's own kernel configs that the native ones replaced, to restore on disable.
const replaced = new Map<string, tf.KernelConfig | undefined>();

/**
 * Registers (or removes) the BLAS-backed kernels for tfjs's wasm backend: MatMul/BatchMatMul,
 * _FusedMatMul, Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter and FusedConv2D, each calling
 * `cblas_sgemm` (OpenBLAS `libopenblas.so.0`, or Accelerate on macOS) through `Deno.dlopen` on
 * views of the wasm heap, without copying tensors in or out. Disabling restores wasm's own kernels
 * plus our composed Conv2DBackpropFilter (wasm has none).
 *
 * Enabling fails softly (returns `active: false` with the reason) when the env var
 * `DREAMBOOTH_NATIVE=0` is set, or when no BLAS library opens. `initBackend` calls this; call it
 * directly only to compare kernels in one process (as bench/backend_bench.ts does).
 *
 * @param enabled `true` to use BLAS kernels, `false` for wasm's own.
 * @returns The resulting state.
 *
 * @example
 * ```ts
 * import { setNativeKernels } from "./native_kernels.ts";
 * const state = setNativeKernels(false);
 * console.log(state.active); // false
 * ```
 */
export function setNativeKernels(enabled: boolean): NativeKernelsState {
  ensureConvFilterKernel();
  if (!enabled) {
    restoreWasmKernels();
    return { active: false, detail: "disabled", kernels: [] };
  }
  if (envGet("DREAMBOOTH_NATIVE") === "0") {
    restoreWasmKernels();
    return { active: false, detail: "DREAMBOOTH_NATIVE=0", kernels: [] };
  }
  const blas = openBlas();
  if (blas === null) {
    restoreWasmKernels();
    return { active: false, detail: `no BLAS library (${blasError})`, kernels: [] };
  }
  if (replaced.size > 0) {
    return { active: true, detail: blas.description, kernels: [...replaced.keys()] };
  }
  for (const name of nativeKernelNames) replaced.set(name, tf.getKernel(name, "wasm"));
  const configs = nativeKernelConfigs(blas as Blas, (name) => replaced.get(name));
  for (const config of configs) {
    if (tf.getKernel(config.kernelName, "wasm") !== undefined) {
      tf.unregisterKernel(config.kernelName, "wasm");
    }
    tf.registerKernel(config);
  }
  return { active: true, detail: blas.description, kernels: configs.map((c) => c.kernelName) };
}

/**
 * Whether BLAS kernels are registered for wasm now.
 *
 * @returns `true` after a successful `setNativeKernels(true)`.
 *
 * @example
 * ```ts
 * import { nativeKernelsActive } from "./native_kernels.ts";
 * console.log(typeof nativeKernelsActive()); // boolean
 * ```
 */
export function nativeKernelsActive(): boolean {
  return replaced.size > 0;
}

function restoreWasmKernels(): void {
  // deno-lint-ignore no-explicit-any
  const instance = (tf.engine() as any).registry?.wasm as tf.KernelBackend | undefined;
  for (const [name, original] of replaced) {
    if (tf.getKernel(name, "wasm") !== undefined) tf.unregisterKernel(name, "wasm");
    if (original !== undefined) {
      tf.registerKernel(original);
      // tfjs runs setupFunc when a backend is set; a kernel restored later needs it now.
      if (instance !== undefined && original.setupFunc) original.setupFunc(instance);
    }
  }
  replaced.clear();
  ensureConvFilterKernel();
}
