import { tf } from "./deps.ts";
import { blasError, envGet, openBlas } from "./blas.ts";
import { engineKernels, NativeBackend } from "./_engine_kernels.ts";
import { loadNativeLib, type NativeLib } from "./_native_lib.ts";

/** What {@linkcode setupNativeEngine} found. */
export interface NativeEngineState {
  /** Whether the `native` tfjs backend is registered and can be set. */
  active: boolean;
  /** The BLAS library and the C library (path, compile flags), or why the engine is off. */
  detail: string;
  /** Kernels that run native code; every other kernel runs the cpu backend's on the same memory. */
  kernels: string[];
  /** Whether this call compiled the C library (`false`: it came from the cache). */
  compiled?: boolean;
}

let state: Promise<NativeEngineState> | undefined;
let opened: NativeLib | undefined;

/**
 * Sets up the native CPU engine: a tfjs backend named `native` whose tensors are JavaScript
 * TypedArrays (tfjs's cpu backend storage, so not bounded by a wasm heap) and whose heavy kernels
 * run as native code on those arrays in place: GEMMs (MatMul, BatchMatMul, _FusedMatMul) through
 * OpenBLAS, convolutions (Conv2D, FusedConv2D and both backward passes: im2col + sgemm, in chunks
 * of images) and the elementwise, reduction, softmax and layout kernels in C, multi-threaded with
 * OpenMP; the fused GroupNorm and Adam of this package call the C library directly. Kernels it
 * does not implement (and cases it does not cover, e.g. int32 data) run tfjs's cpu kernels on the
 * same memory.
 *
 * The C part is compiled once by the system compiler (`cc`, or `CC`) at first use into
 * `~/.cache/dreambooth/native` (`DREAMBOOTH_NATIVE_CACHE` overrides; the flags, including the
 * `-march` level chosen for this CPU, are recorded in a `.json` beside the library, and the cache
 * key covers source, compiler and flags). Off, with the reason in `detail`, when
 * `DREAMBOOTH_NATIVE=0`, when no BLAS library opens, or when there is no working compiler.
 * Calling it again returns the first result.
 *
 * @returns The state; when `active`, `tf.setBackend("native")` selects the engine.
 *
 * @example
 * ```ts
 * import { setupNativeEngine } from "./native_engine.ts";
 * const state = await setupNativeEngine();
 * console.log(typeof state.active); // boolean
 * ```
 */
export function setupNativeEngine(): Promise<NativeEngineState> {
  state ??= setup();
  return state;
}

/**
 * The engine's C library when {@linkcode setupNativeEngine} succeeded and `native` is the current
 * backend (fused GroupNorm and Adam use it), otherwise `undefined`.
 *
 * @returns The library's functions, or `undefined`.
 *
 * @example
 * ```ts
 * import { nativeEngineLib } from "./native_engine.ts";
 * console.log(nativeEngineLib() === undefined || typeof nativeEngineLib()!.nk_adam); // true or "function"
 * ```
 */
export function nativeEngineLib(): NativeLib | undefined {
  return opened !== undefined && tf.getBackend() === "native" ? opened : undefined;
}

async function setup(): Promise<NativeEngineState> {
  if (envGet("DREAMBOOTH_NATIVE") === "0") {
    return { active: false, detail: "DREAMBOOTH_NATIVE=0", kernels: [] };
  }
  const blas = openBlas();
  if (blas === null) {
    return { active: false, detail: `no BLAS library (${blasError})`, kernels: [] };
  }
  const loaded = await loadNativeLib(blas.path);
  if (loaded.lib === null) return { active: false, detail: loaded.reason, kernels: [] };
  const lib = loaded.lib;
  const own = engineKernels(lib, blas);
  const ownNames = new Set(own.map((c) => c.kernelName));
  if (tf.findBackendFactory("native") == null) {
    tf.registerBackend("native", () => new NativeBackend(), 0);
  }
  const profile = envGet("DREAMBOOTH_NATIVE_PROFILE") === "1" ? profiler() : undefined;
  for (const config of tf.getKernelsForBackend("cpu")) {
    if (ownNames.has(config.kernelName) || tf.getKernel(config.kernelName, "native")) continue;
    tf.registerKernel(
      profile?.({ ...config, backendName: "native" }, "js") ?? { ...config, backendName: "native" },
    );
  }
  for (const config of own) {
    if (tf.getKernel(config.kernelName, "native")) tf.unregisterKernel(config.kernelName, "native");
    tf.registerKernel(profile?.(config, "native") ?? config);
  }
  opened = lib;
  const file = loaded.path.split("/").at(-1);
  return {
    active: true,
    detail: `${blas.description}; C kernels ${file} (${
      loaded.flags.filter((f) => f.startsWith("-march") || f === "-fopenmp").join(" ") || "generic"
    }, ${loaded.compiled ? "compiled now" : "cached"})`,
    kernels: [...ownNames],
    compiled: loaded.compiled,
  };
}

/**
 * `DREAMBOOTH_NATIVE_PROFILE=1`: time every kernel of the engine and print the table (ms, calls,
 * native or the cpu backend's JavaScript) when the process ends.
 */
function profiler(): (config: tf.KernelConfig, kind: string) => tf.KernelConfig {
  const table = new Map<string, { ms: number; calls: number; kind: string }>();
  globalThis.addEventListener("unload", () => {
    const rows = [...table].sort((a, b) => b[1].ms - a[1].ms);
    const total = rows.reduce((s, [, r]) => s + r.ms, 0);
    console.error(`native engine profile: ${total.toFixed(0)} ms in kernels`);
    for (const [name, r] of rows.slice(0, 40)) {
      console.error(
        `  ${name.padEnd(24)} ${r.kind.padEnd(6)} ${r.ms.toFixed(1).padStart(9)} ms ${
          String(r.calls).padStart(7)
        } calls`,
      );
    }
  });
  return (config, kind) => ({
    ...config,
    kernelFunc: ((args: Parameters<tf.KernelFunc>[0]) => {
      const t0 = performance.now();
      const out = config.kernelFunc(args);
      const row = table.get(config.kernelName) ?? { ms: 0, calls: 0, kind };
      row.ms += performance.now() - t0;
      row.calls++;
      table.set(config.kernelName, row);
      return out;
    }) as tf.KernelFunc,
  });
}
