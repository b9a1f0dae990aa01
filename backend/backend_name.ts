/**
 * The names `initBackend` and every CLI's `--backend` flag accept, in the default order of
 * preference (webgpu last: it is only tried when asked for).
 *
 * - `tensorflow`: `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` (libtensorflow), when
 *   the user installed one of them.
 * - `native`: the native CPU engine (tensors outside any wasm heap, C + OpenBLAS kernels on
 *   every core; needs OpenBLAS and a C compiler once, see `setupNativeEngine`).
 * - `wasm-native`: the wasm backend (single-threaded SIMD) with matmul and convolution kernels
 *   replaced by OpenBLAS/Accelerate `cblas_sgemm` calls through Deno FFI.
 * - `wasm`: tfjs's wasm backend with its own kernels (plus our Conv2DBackpropFilter).
 * - `cpu`: tfjs's plain JavaScript backend (slow; the reference in tests).
 * - `webgpu`: tfjs's webgpu backend, when a GPU adapter exists.
 *
 * @example
 * ```ts
 * import { backendNames } from "./backend_name.ts";
 * console.log(backendNames.join("|")); // tensorflow|native|wasm-native|wasm|cpu|webgpu
 * ```
 */
export const backendNames = [
  "tensorflow",
  "native",
  "wasm-native",
  "wasm",
  "cpu",
  "webgpu",
] as const;

/** One of {@linkcode backendNames}. */
export type BackendName = typeof backendNames[number];

/**
 * Whether `value` is one of {@linkcode backendNames}.
 *
 * @param value Anything.
 * @returns `true` for a backend name.
 *
 * @example
 * ```ts
 * import { isBackendName } from "./backend_name.ts";
 * console.log(isBackendName("wasm"), isBackendName("gpu")); // true false
 * ```
 */
export function isBackendName(value: unknown): value is BackendName {
  return typeof value === "string" && (backendNames as readonly string[]).includes(value);
}

/**
 * Validates the value of a `--backend NAME` flag (as `parseArgs` from `node:util` returns it).
 * `undefined` and `"auto"` mean "choose for me" and give `undefined`.
 *
 * @param value The flag's value.
 * @param what Name of the setting in the error message (default `--backend`).
 * @returns The backend name, or `undefined` for automatic choice.
 * @throws {RangeError} When `value` is not a backend name.
 *
 * @example
 * ```ts
 * import { parseBackendName } from "./backend_name.ts";
 * import { parseArgs } from "node:util";
 * const { values } = parseArgs({
 *   args: ["--backend", "wasm"],
 *   options: { backend: { type: "string" } },
 * });
 * console.log(parseBackendName(values.backend)); // wasm
 * ```
 */
export function parseBackendName(value: unknown, what = "--backend"): BackendName | undefined {
  if (value === undefined || value === "auto") return undefined;
  if (!isBackendName(value)) {
    throw new RangeError(
      `Cannot choose a backend as '${what}' must be one of auto, ${backendNames.join(", ")}: ` +
        `current value is ${JSON.stringify(value)}`,
    );
  }
  return value;
}
