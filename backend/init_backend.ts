import { loadWebgpuBackend, tf } from "./deps.ts";
import { webgpuAdapterMissing } from "./webgpu_adapter.ts";
import { type BackendName, backendNames, isBackendName } from "./backend_name.ts";
import { setNativeKernels } from "./native_kernels.ts";
import { ensureConvFilterKernel } from "./_conv_filter_fallback.ts";
import { patchWebgpu } from "./_webgpu.ts";
import { setupNativeEngine } from "./native_engine.ts";
import { openBlas } from "./blas.ts";

/** Options of {@linkcode initBackend}. */
export interface InitBackendOptions {
  /**
   * Backend to try first; when it cannot start, the default order continues after it (webgpu,
   * which is never tried unless asked, falls back to the whole default order). Default: none, so
   * `tensorflow` → `native` → `wasm-native` → `wasm` → `cpu`.
   */
  prefer?: BackendName;
  /** Do not print the one-line report (default `false`). */
  quiet?: boolean;
}

/** What {@linkcode initBackend} chose. */
export interface BackendReport {
  /** The choice: `native` is the native CPU engine, `wasm-native` tfjs's wasm backend with BLAS kernels. */
  name: BackendName;
  /** Whether native code does the heavy math (libtensorflow or BLAS). */
  native: boolean;
  /** Why this backend, and why the ones before it were passed over. */
  reason: string;
  /**
   * When a faster CPU engine exists than the one chosen: the one command that gets it (for
   * example `apt-get install -y libopenblas0-pthread gcc`); absent otherwise.
   */
  faster?: string;
}

const defaultOrder: BackendName[] = ["tensorflow", "native", "wasm-native", "wasm", "cpu"];

/**
 * Package names tried for the `tensorflow` backend, GPU build first. They are imported by bare
 * name, so they must be in the importing project's deno.json imports (see the README).
 *
 * @example
 * ```ts
 * import { tensorflowPackages } from "./init_backend.ts";
 * console.log(tensorflowPackages[0]); // @tensorflow/tfjs-node-gpu
 * ```
 */
export const tensorflowPackages = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const;

/**
 * Chooses, initialises and reports the tfjs backend every model in this repository runs on, and
 * prints one line of what was chosen and why (unless `quiet`); when a CPU engine slower than the
 * native one was chosen, the line ends with the one command that gets the native engine.
 *
 * Order unless `prefer` says otherwise: `tensorflow` (when `@tensorflow/tfjs-node-gpu` or
 * `@tensorflow/tfjs-node` is installed: bare-specifier imports, so an absent package fails at once
 * without touching the network or the lockfile), `native` (the native CPU engine, see
 * `setupNativeEngine`: needs OpenBLAS and, once, a C compiler), `wasm-native` (tfjs's single-threaded SIMD wasm
 * backend with BLAS-backed matmul/convolution kernels, see `setNativeKernels`), plain `wasm`
 * (wasm's own kernels plus our Conv2DBackpropFilter; chosen with a notice when no BLAS library
 * loads or `DREAMBOOTH_NATIVE=0`), then `cpu`. `webgpu` is tried only when asked and a GPU adapter
 * exists.
 *
 * Side effects, on purpose: the cpu backend's "install tfjs-node" banner is switched off (Deno
 * reports itself as Node to tfjs), and the `unhandledRejection`/`uncaughtException` listeners that
 * tfjs-backend-wasm's Emscripten module adds (they rethrow, which turns any unhandled rejection
 * into a crash from inside tfjs) are removed, so that Deno's own handling applies.
 *
 * @param options See {@linkcode InitBackendOptions}.
 * @returns The report; `tf.getBackend()` is set accordingly.
 * @throws {RangeError} When `prefer` is not a backend name.
 *
 * @example
 * ```ts
 * import { initBackend } from "./init_backend.ts";
 * const report = await initBackend({ prefer: "cpu", quiet: true });
 * console.log(report.name); // cpu
 * ```
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendReport> {
  const { prefer, quiet = false } = options;
  if (prefer !== undefined && !isBackendName(prefer)) {
    throw new RangeError(
      `Cannot init backend as 'prefer' must be one of ${backendNames.join(", ")}: ` +
        `current value is ${JSON.stringify(prefer)}`,
    );
  }
  if (typeof quiet !== "boolean") {
    throw new TypeError(
      `Cannot init backend as 'quiet' must be a boolean: current value is ${JSON.stringify(quiet)}`,
    );
  }
  const order = prefer === undefined
    ? defaultOrder
    : prefer === "webgpu"
    ? ["webgpu" as const, ...defaultOrder]
    : defaultOrder.slice(defaultOrder.indexOf(prefer));
  silenceCpuBanner();
  const skipped: string[] = [];
  for (const name of order) {
    const result = await tryBackend(name);
    if (typeof result === "string") {
      skipped.push(`${name}: ${result}`);
      continue;
    }
    const why = prefer === undefined
      ? result.why
      : prefer === name
      ? `asked for; ${result.why}`
      : result.why;
    const reason = skipped.length > 0 ? `${why} (passed over ${skipped.join("; ")})` : why;
    const report: BackendReport = { name, native: result.native, reason };
    // Only for the automatic choice: asking for a slower engine on purpose needs no advice (and
    // must not compile the engine as a side effect).
    const faster = prefer !== undefined || name === "native" || name === "tensorflow"
      ? undefined
      : await fasterEngineCommand();
    if (faster !== undefined) report.faster = faster;
    if (!quiet) {
      console.log(
        `tfjs backend: ${name} — ${reason}${
          faster ? `; for the native engine run: ${faster}` : ""
        }`,
      );
    }
    return report;
  }
  // cpu never fails, so this is not reached; keep the type checker honest.
  throw new Error(`Cannot init backend: ${skipped.join("; ")}`);
}

type Attempt = { native: boolean; why: string } | string;

async function tryBackend(name: BackendName): Promise<Attempt> {
  switch (name) {
    case "tensorflow":
      return await tryTensorflow();
    case "native": {
      setNativeKernels(false);
      const state = await setupNativeEngine();
      if (!state.active) return state.detail;
      try {
        if (!(await tf.setBackend("native"))) return "native engine failed to start";
      } catch (err) {
        return `native engine failed to start: ${(err as Error).message}`;
      }
      return { native: true, why: `native CPU engine: ${state.detail}` };
    }
    case "wasm-native": {
      const ok = await setWasm();
      if (ok !== true) return ok;
      const state = setNativeKernels(true);
      if (!state.active) return `native kernels off (${state.detail})`;
      return { native: true, why: `wasm SIMD + ${state.detail} sgemm kernels` };
    }
    case "wasm": {
      setNativeKernels(false);
      const ok = await setWasm();
      if (ok !== true) return ok;
      return { native: false, why: "wasm SIMD, single-threaded, tfjs's own kernels" };
    }
    case "cpu": {
      await tf.setBackend("cpu");
      silenceCpuBanner();
      return { native: false, why: "plain JavaScript (slow)" };
    }
    case "webgpu":
      return await tryWebgpu();
  }
}

/**
 * The one command that gets the native engine on this machine, or `undefined` when it is here or
 * cannot be had by a command (switched off by `DREAMBOOTH_NATIVE=0`: then `unset` it).
 */
async function fasterEngineCommand(): Promise<string | undefined> {
  const state = await setupNativeEngine();
  if (state.active) return undefined;
  if (state.detail === "DREAMBOOTH_NATIVE=0") return "unset DREAMBOOTH_NATIVE";
  const needs: string[] = [];
  if (openBlas() === null) needs.push("libopenblas0-pthread");
  if (/no C compiler/.test(state.detail)) needs.push("gcc");
  if (needs.length === 0) return undefined; // a compile or load error: its reason is in the line
  return Deno.build.os === "darwin"
    ? "xcode-select --install"
    : `apt-get install -y ${needs.join(" ")}`;
}

async function tryTensorflow(): Promise<Attempt> {
  const errors: string[] = [];
  for (const pkg of tensorflowPackages) {
    try {
      // A variable specifier: resolved only at run time, through the import map or node_modules.
      const specifier: string = pkg;
      await import(specifier);
    } catch (err) {
      // Absent: Deno's ERR_MODULE_NOT_FOUND. Anything else (say libtensorflow failed to load)
      // is worth its own first line.
      const { code, message } = err as { code?: string; message?: string };
      errors.push(
        code === "ERR_MODULE_NOT_FOUND"
          ? `${pkg} not installed`
          : `${pkg} failed to load: ${String(message).split("\n")[0].slice(0, 160)}`,
      );
      continue;
    }
    try {
      if (tf.findBackendFactory("tensorflow") == null) {
        errors.push(`${pkg} imported but registered no 'tensorflow' backend`);
        continue;
      }
      if (!(await tf.setBackend("tensorflow"))) {
        errors.push(`${pkg}: backend failed to start`);
        continue;
      }
      return { native: true, why: `${pkg} (libtensorflow)` };
    } catch (err) {
      errors.push(`${pkg}: ${(err as Error).message}`);
    }
  }
  return errors.join(", ");
}

async function setWasm(): Promise<true | string> {
  ensureConvFilterKernel();
  const before = listeners();
  try {
    if (!(await tf.setBackend("wasm"))) return "wasm backend failed to start";
  } catch (err) {
    return `wasm backend failed to start: ${(err as Error).message ?? err}`;
  } finally {
    dropNewListeners(before);
  }
  return true;
}

async function tryWebgpu(): Promise<Attempt> {
  const missing = await webgpuAdapterMissing();
  if (missing !== undefined) return missing;
  try {
    await loadWebgpuBackend();
    if (!(await tf.setBackend("webgpu"))) return "webgpu backend failed to start";
    patchWebgpu();
  } catch (err) {
    return `webgpu backend failed to start: ${(err as Error).message}`;
  }
  return { native: true, why: "GPU adapter found" };
}

function silenceCpuBanner(): void {
  try {
    const cpu = tf.findBackend("cpu") as { firstUse?: boolean } | null;
    if (cpu !== null && "firstUse" in cpu) cpu.firstUse = false;
  } catch {
    // No cpu backend registered: nothing to silence.
  }
}

type NodeProcess = {
  listeners(event: string): unknown[];
  removeListener(event: string, fn: unknown): void;
};
const events = ["unhandledRejection", "uncaughtException"] as const;

function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p && typeof p.listeners === "function" ? p : undefined;
}

function listeners(): Map<string, unknown[]> {
  const p = nodeProcess();
  return new Map(events.map((e) => [e, p ? p.listeners(e) : []]));
}

function dropNewListeners(before: Map<string, unknown[]>): void {
  const p = nodeProcess();
  if (p === undefined) return;
  for (const e of events) {
    for (const fn of p.listeners(e)) {
      if (!before.get(e)!.includes(fn)) p.removeListener(e, fn);
    }
  }
}
