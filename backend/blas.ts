/**
 * The CBLAS library behind the native kernels, opened with `Deno.dlopen`: OpenBLAS
 * (`libopenblas.so.0`, Debian's `libopenblas0-pthread`) on Linux, the Accelerate framework on
 * macOS (that path is present but untested here), or the file named by `DREAMBOOTH_BLAS_LIB`.
 * `DREAMBOOTH_BLAS_THREADS=N` sets OpenBLAS's thread count. Without it OpenBLAS uses one thread
 * per core, except that when the 1-minute load average is already at or above the number of
 * cores (other processes keep them busy) it starts with one thread: busy cores make OpenBLAS's
 * threads wait for each other (measured here at load ~7 on 2 cores: reference training step
 * 0.80 s with 2 threads, 0.55 s with 1). The choice is part of the description `initBackend`
 * prints.
 * Only `cblas_sgemm` is bound. Matrices are passed as "buffer" arguments: Deno hands C the address
 * of the typed-array view itself (its buffer's start + byteOffset) for the duration of the
 * synchronous call, so a view of the wasm heap is used in place, without copies. The library
 * handle is opened once and kept for the life of the process (never closed: kernels use it).
 *
 * @module
 */

/** CBLAS `CblasRowMajor`. */
export const RowMajor = 101;
/** CBLAS `CblasNoTrans`. */
export const NoTrans = 111;
/** CBLAS `CblasTrans`. */
export const Trans = 112;

const sgemmDef = {
  parameters: [
    "i32", // order
    "i32", // transA
    "i32", // transB
    "i32", // M
    "i32", // N
    "i32", // K
    "f32", // alpha
    "buffer", // A
    "i32", // lda
    "buffer", // B
    "i32", // ldb
    "f32", // beta
    "buffer", // C
    "i32", // ldc
  ],
  result: "void",
} as const;

/** `cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)`. */
export type Sgemm = (
  order: number,
  transA: number,
  transB: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

/** An opened BLAS library. */
export interface Blas {
  sgemm: Sgemm;
  /** Human-readable: library path and (OpenBLAS) its configuration and thread count. */
  description: string;
}

/** Why the last `openBlas()` failed (for the one-line notice); `""` after a success. */
export let blasError = "";

let cached: Blas | null | undefined;

/**
 * Candidate library paths for this OS, the env var `DREAMBOOTH_BLAS_LIB` first.
 *
 * @returns Paths or sonames, in the order `openBlas` tries them.
 *
 * @example
 * ```ts
 * import { blasCandidates } from "./blas.ts";
 * console.log(blasCandidates().length > 0); // true
 * ```
 */
export function blasCandidates(): string[] {
  const own = envGet("DREAMBOOTH_BLAS_LIB");
  const list = own ? [own] : [];
  if (Deno.build.os === "darwin") {
    list.push("/System/Library/Frameworks/Accelerate.framework/Accelerate");
  } else if (Deno.build.os === "windows") {
    list.push("libopenblas.dll");
  } else {
    list.push(
      "libopenblas.so.0",
      "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
      "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
      "libopenblas.so",
    );
  }
  return list;
}

/**
 * Reads an environment variable; `undefined` when unset or without `--allow-env`.
 *
 * @param name Variable name.
 * @returns Its value or `undefined`.
 *
 * @example
 * ```ts
 * import { envGet } from "./blas.ts";
 * console.log(typeof (envGet("HOME") ?? "")); // string
 * ```
 */
export function envGet(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * Opens the first BLAS library that loads (once per process; later calls return the same).
 *
 * @returns The library, or `null` when none loads ({@linkcode blasError} says why).
 *
 * @example
 * ```ts
 * import { NoTrans, openBlas, RowMajor } from "./blas.ts";
 * const blas = openBlas();
 * if (blas !== null) {
 *   const a = new Float32Array([1, 2, 3, 4]), c = new Float32Array(4);
 *   blas.sgemm(RowMajor, NoTrans, NoTrans, 2, 2, 2, 1, a, 2, a, 2, 0, c, 2);
 *   console.log(Array.from(c)); // [7, 10, 15, 22]
 * }
 * ```
 */
export function openBlas(): Blas | null {
  if (cached !== undefined) return cached;
  const errors: string[] = [];
  for (const path of blasCandidates()) {
    try {
      const lib = Deno.dlopen(path, { cblas_sgemm: sgemmDef });
      let description = path;
      try {
        const extra = Deno.dlopen(path, {
          openblas_get_config: { parameters: [], result: "pointer" },
          openblas_get_num_threads: { parameters: [], result: "i32" },
          openblas_set_num_threads: { parameters: ["i32"], result: "void" },
        });
        const threads = Number(envGet("DREAMBOOTH_BLAS_THREADS") ?? "");
        let why = "";
        if (Number.isInteger(threads) && threads > 0) {
          extra.symbols.openblas_set_num_threads(threads);
          why = "DREAMBOOTH_BLAS_THREADS";
        } else {
          // On cores other processes already keep busy, OpenBLAS's threads wait for each other
          // (measured here at load ~7 on 2 cores: reference step 0.80 s with 2 threads, 0.55 s
          // with 1), so start with one thread when the load average is at or above the cores.
          const cores = navigator.hardwareConcurrency ?? 1;
          const load = loadAverage();
          if (cores > 1 && load >= cores) {
            extra.symbols.openblas_set_num_threads(1);
            why = `load average ${
              load.toFixed(1)
            } ≥ ${cores} cores; DREAMBOOTH_BLAS_THREADS=N overrides`;
          }
        }
        const config = extra.symbols.openblas_get_config();
        const version = config ? Deno.UnsafePointerView.getCString(config).split(" ") : [];
        description = `${version.slice(0, 2).join(" ") || "OpenBLAS"} ${
          version.find((w) =>
            /^(Zen|Haswell|SkylakeX|Cooperlake|Sapphire|Neoverse|Arm)/i.test(w)
          ) ??
            ""
        }, ${nThreads(extra.symbols.openblas_get_num_threads())}${why ? ` (${why})` : ""}`
          .replace(" ,", ",");
        // The second handle only read two symbols; the library stays loaded through `lib`.
        extra.close();
      } catch {
        // Not OpenBLAS (Accelerate): the path is description enough.
      }
      cached = { sgemm: lib.symbols.cblas_sgemm as unknown as Sgemm, description };
      blasError = "";
      return cached;
    } catch (err) {
      errors.push(`${path}: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  blasError = errors.join("; ");
  cached = null;
  return null;
}

/** The 1-minute load average, 0 when unavailable (no `--allow-sys`). */
function loadAverage(): number {
  try {
    return Deno.loadavg()[0];
  } catch {
    return 0;
  }
}

const nThreads = (n: number) => `${n} thread${n === 1 ? "" : "s"}`;
