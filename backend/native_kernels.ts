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
 * Registers (or removes) the native kernels for tfjs's wasm backend. Design, and why:
 *
 * - **Zero-copy FFI.** Tensors live on the wasm heap (one `WebAssembly.Memory`). Each kernel
 *   allocates its output (and any scratch, with wasm's `_malloc`/`_free`) first, *then* takes a
 *   `Float32Array` view of the heap — allocation may grow the Memory and replace its buffer, so a
 *   view is never kept across an allocation — and passes `subarray` views to `cblas_sgemm` as FFI
 *   "buffer" arguments: C receives the address of the view itself, for the length of the
 *   synchronous call. Nothing is copied in or out; nothing we did not allocate is freed.
 * - **MatMul / BatchMatMul / _FusedMatMul**: one sgemm per output batch with the transpose flags
 *   passed straight to BLAS (all four combinations, any rank ≥ 2 — tfjs 4.22 passes 2-D on some
 *   paths — numpy broadcasting of the batch dimensions, which tfjs 4.22's own cpu and wasm kernels
 *   get wrong when both sides broadcast); a shared, untransposed `b` folds the batch into M.
 * - **Convolutions (NHWC, dilation 1)**, stride 1: one GEMM per filter tap on the zero-padded
 *   input, read with shifted row pointers on the "full-width" padded grid and accumulated with
 *   beta = 1 (no im2col copy; 13% wasted rows at 32² "same"); the input gradient accumulates into
 *   a shifted output pointer, the filter gradient is one Ci×Co GEMM per tap. Stride > 1: im2col
 *   (one contiguous copy of KW·Ci floats per output pixel and filter row) + one GEMM, and col2im
 *   for the input gradient. Measured here, per-tap GEMMs ran at 47–88 GFLOP/s where the same
 *   convolution as one im2col GEMM ran at 21–57 (2 threads, busy machine), before counting the
 *   9× im2col copy. 1×1 stride-1 unpadded convolutions are a single GEMM on the tensors.
 * - **Elementwise work**: padding, cropping, row gathering and im2col are `copyWithin`/`fill` on
 *   the heap (memmove/memset speed); a per-channel bias is written into the GEMM's output rows
 *   before it accumulates (so it costs a memcpy, not a pass); activations (relu, relu6, elu,
 *   sigmoid, leakyrelu, prelu — every activation tfjs 4.22's fused ops can pass) run as wasm's
 *   own SIMD kernels, which beat JavaScript loops ~4× on same-shape data. Broadcasting
 *   Add/Sub/Multiply/RealDiv whose innermost run is shorter than 8 (GroupNorm's
 *   `[B, HW, G, C/G] ∘ [B, 1, G, 1]`) run as JavaScript loops on heap views, which beat wasm's
 *   generic broadcasting path there (~1 µs per run); other shapes stay with wasm.
 * - **Training overheads**: Identity and same-dtype Cast share data (reference count) instead of
 *   copying it, as tfjs's cpu backend does (tfjs clones every tensor it saves for the backward
 *   pass); Sum and Mean over leading axes (bias gradients) are a ones-vector sgemm; SplitV (the
 *   gradient of concat) copies contiguous runs with memmove instead of wasm's strided slice.
 * - Cases not covered (other dtypes, NCHW, dilation > 1) call the kernel that was replaced.
 *
 * Disabling restores wasm's own kernels plus our composed Conv2DBackpropFilter (wasm has none).
 * Enabling fails softly (returns `active: false` with the reason) when the env var
 * `DREAMBOOTH_NATIVE=0` is set, or when no BLAS library opens (see `openBlas`). `initBackend`
 * calls this; call it directly only to compare kernels in one process (as
 * bench/backend_bench.ts does).
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
    // The replaced kernel's setup (wasm binds its C function there) must still run when the wasm
    // backend starts later: our kernels call the replaced one for the cases they do not cover.
    const setupFunc = replaced.get(config.kernelName)?.setupFunc;
    if (tf.getKernel(config.kernelName, "wasm") !== undefined) {
      tf.unregisterKernel(config.kernelName, "wasm");
    }
    tf.registerKernel(setupFunc ? { ...config, setupFunc } : config);
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
