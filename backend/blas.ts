/**
 * The CBLAS library behind the native kernels, opened with `Deno.dlopen`: OpenBLAS
 * (`libopenblas.so.0`, Debian's `libopenblas0-pthread`) on Linux, the Accelerate framework on
 * macOS (that path is present but untested here), or only the file named by `DREAMBOOTH_BLAS_LIB`.
 * `DREAMBOOTH_BLAS_THREADS=N` fixes OpenBLAS's thread count. Without it the count adapts: at the
 * first call and then twice a second, the runnable threads of other processes are counted
 * (`/proc/stat`'s `procs_running` less this process's own threads in state R, smoothed over ~2 s;
 * at the start the 1-minute load average too) and OpenBLAS uses the cores they leave free, at least
 * one. Busy cores make OpenBLAS's threads wait for each other (measured here at load ~7 on 2 cores:
 * reference training step 0.80 s with 2 threads, 0.55 s with 1; `bench/blas_threads_bench.ts`
 * times sampling beside stand-in training jobs), and a load average alone lags a minute behind a job
 * that has just started. The choice is part of the description `initBackend` prints.
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
  /** The path or soname that opened (for code that opens the same library itself). */
  path: string;
  /**
   * OpenBLAS's thread count (see {@linkcode ThreadTuner}): adaptive, or fixed by
   * `DREAMBOOTH_BLAS_THREADS`; absent for a BLAS whose threads cannot be set (Accelerate).
   */
  tuner?: ThreadTuner;
}

/** Why the last `openBlas()` failed (for the one-line notice); `""` after a success. */
export let blasError = "";

let cached: Blas | null | undefined;

/**
 * Candidate library paths for this OS; only the file named by `DREAMBOOTH_BLAS_LIB` when it is set.
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
  // The user's library alone: a wrong path then shows as "no BLAS" in the one line, instead of
  // quietly running another library (and tests simulate a machine without OpenBLAS with it).
  const own = envGet("DREAMBOOTH_BLAS_LIB");
  if (own) return [own];
  const list: string[] = [];
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
      let tuner: ThreadTuner | undefined;
      const raw = lib.symbols.cblas_sgemm as unknown as Sgemm;
      let sgemm = raw;
      try {
        const extra = Deno.dlopen(path, {
          openblas_get_config: { parameters: [], result: "pointer" },
          openblas_get_num_threads: { parameters: [], result: "i32" },
          openblas_set_num_threads: { parameters: ["i32"], result: "void" },
        });
        const threads = Number(envGet("DREAMBOOTH_BLAS_THREADS") ?? "");
        const cores = navigator.hardwareConcurrency ?? 1;
        const setThreads = (n: number) => extra.symbols.openblas_set_num_threads(n);
        // OpenBLAS's own start count is its pool's size (OPENBLAS_NUM_THREADS may lower it)
        const pool = Math.max(1, extra.symbols.openblas_get_num_threads());
        let why = "";
        if (Number.isInteger(threads) && threads > 0) {
          tuner = new ThreadTuner(cores, pool, 0, setThreads, null, threads);
          why = "DREAMBOOTH_BLAS_THREADS";
        } else if (cores > 1) {
          // On cores other processes keep busy, OpenBLAS's threads wait for each other (measured
          // here at load ~7 on 2 cores: reference step 0.80 s with 2 threads, 0.55 s with 1; two
          // samplers beside a training round: 60 s with 2 threads each, 41 s with 1). Start from
          // the busier of the load average and the processes running right now, then re-check
          // twice a second: the load average lags a minute behind a job that has just started.
          const t = tuner = new ThreadTuner(
            cores,
            pool,
            Math.max(loadAverage(), otherRunnable() ?? 0),
            setThreads,
          );
          sgemm = (o, ta, tb, m, n, k, al, a, lda, b, ldb, be, c, ldc) => {
            if (performance.now() >= t.nextCheck) t.check();
            raw(o, ta, tb, m, n, k, al, a, lda, b, ldb, be, c, ldc);
          };
          why = `adaptive: ${t.threads} now, fewer while other processes keep the cores busy, ` +
            "fixed for the length of a training run; DREAMBOOTH_BLAS_THREADS=N fixes it";
        } else {
          tuner = new ThreadTuner(cores, pool, 0, setThreads, null, pool);
        }
        const config = extra.symbols.openblas_get_config();
        const version = config ? Deno.UnsafePointerView.getCString(config).split(" ") : [];
        description = `${version.slice(0, 2).join(" ") || "OpenBLAS"} ${
          version.find((w) =>
            /^(Zen|Haswell|SkylakeX|Cooperlake|Sapphire|Neoverse|Arm)/i.test(w)
          ) ??
            ""
        }, ${tuner?.adaptive ? `up to ${nThreads(tuner.max)}` : nThreads(tuner?.threads ?? pool)}${
          why ? ` (${why})` : ""
        }`
          .replace(" ,", ",");
        // The second handle stays open: the tuner sets the thread count through it.
      } catch {
        // Not OpenBLAS (Accelerate): the path is description enough.
      }
      cached = { sgemm, description, path, tuner };
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

/**
 * How many OpenBLAS threads to use on `cores` cores while `others` runnable threads of other
 * processes compete for them: the cores they leave free, at least one.
 *
 * @param cores Cores of the machine.
 * @param others Runnable threads of other processes (a smoothed count, may be fractional).
 * @param max Most threads to use (OpenBLAS's pool size); defaults to `cores`.
 * @returns Thread count in [1, min(cores, max)].
 *
 * @example
 * ```ts
 * import { chooseThreads } from "./blas.ts";
 * console.log(chooseThreads(2, 0), chooseThreads(2, 1), chooseThreads(16, 3.2, 8)); // 2 1 8
 * ```
 */
export function chooseThreads(cores: number, others: number, max = cores): number {
  return Math.max(1, Math.min(max, cores - Math.floor(Math.max(0, others) + 0.5)));
}

/**
 * Runnable threads of other processes right now (Linux): the kernel's `procs_running` less this
 * process's own threads in state R. `null` where /proc cannot be read (another OS, or no
 * `--allow-read`).
 *
 * @returns The count, or `null`.
 *
 * @example
 * ```ts
 * import { otherRunnable } from "./blas.ts";
 * const n = otherRunnable();
 * console.log(n === null || n >= 0); // true
 * ```
 */
export function otherRunnable(): number | null {
  try {
    const stat = Deno.readTextFileSync("/proc/stat");
    const all = Number(/^procs_running (\d+)$/m.exec(stat)?.[1]);
    if (!Number.isFinite(all)) return null;
    let own = 0;
    for (const task of Deno.readDirSync("/proc/self/task")) {
      try {
        const line = Deno.readTextFileSync(`/proc/self/task/${task.name}/stat`);
        // Field 3, after the parenthesised command name (which may itself hold spaces).
        if (line[line.lastIndexOf(")") + 2] === "R") own++;
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    return Math.max(0, all - own);
  } catch {
    return null;
  }
}

/**
 * Re-checks, twice a second, how many runnable threads other processes have (smoothed over about
 * two seconds) and sets OpenBLAS's thread count to the cores they leave free. `openBlas` wraps
 * `cblas_sgemm` so that each call past `nextCheck` runs `check()` first. While a training run holds
 * the count ({@linkcode ThreadTuner.hold}, see {@linkcode holdBlasThreads}) nothing changes it: sgemm
 * rounds differently with 1 and 2 threads, so a run that followed the load would not repeat bit for
 * bit. A tuner made with `sample = null` (a `DREAMBOOTH_BLAS_THREADS` override, or one core) never
 * adapts.
 *
 * @example
 * ```ts
 * import { ThreadTuner } from "./blas.ts";
 * const set: number[] = [];
 * const tuner = new ThreadTuner(2, 2, 0, (n) => set.push(n), () => 2);
 * for (let i = 0; i < 5; i++) tuner.check(); // two busy threads elsewhere, sustained
 * console.log(set); // [2, 1]
 * ```
 */
export class ThreadTuner {
  /** `performance.now()` at or after which the next check is due. */
  nextCheck = 0;
  /** Threads set now. */
  threads: number;
  /**
   * Counts other processes' runnable threads now (`null`: stop re-checking). Replaceable, so that
   * tests can stage a machine's load.
   */
  sample: (() => number | null) | null;
  #others: number;
  /** The holds still held, oldest first; the newest one's count is in force. */
  #holds: { threads: number }[] = [];
  /** The count in force before the first hold (restored when the last one ends). */
  #base = 0;
  /** Called with each new count after `set` (the native engine's OpenMP loops follow it). */
  readonly followers: ((n: number) => void)[] = [];

  /**
   * @param cores Cores of the machine.
   * @param max Most threads to use (OpenBLAS's pool size).
   * @param initialOthers The start's estimate of other processes' runnable threads.
   * @param set Sets the thread count (`openblas_set_num_threads`); called at once and on changes.
   * @param sample Counts other processes' runnable threads now; `null` (here or as its result)
   * stops the re-checks.
   * @param fixed A count to keep instead of adapting (`DREAMBOOTH_BLAS_THREADS`).
   */
  constructor(
    readonly cores: number,
    readonly max: number,
    initialOthers: number,
    readonly set: (n: number) => void,
    sample: (() => number | null) | null = otherRunnable,
    fixed?: number,
  ) {
    this.#others = initialOthers;
    this.sample = fixed === undefined ? sample : null;
    this.threads = fixed ?? chooseThreads(cores, initialOthers, max);
    set(this.threads);
    this.nextCheck = this.sample === null ? Infinity : performance.now() + 500;
  }

  /** Whether the count follows the load now (no hold, not fixed). */
  get adaptive(): boolean {
    return this.sample !== null && this.#holds.length === 0;
  }

  check(): void {
    if (!this.adaptive) {
      this.nextCheck = Infinity;
      return;
    }
    this.nextCheck = performance.now() + 500;
    const now = this.sample!();
    if (now === null) {
      this.nextCheck = Infinity; // /proc unreadable: keep the start's choice
      this.sample = null;
      return;
    }
    this.#others = 0.7 * this.#others + 0.3 * now;
    this.#apply(chooseThreads(this.cores, this.#others, this.max));
  }

  /**
   * Keeps the thread count fixed until {@linkcode ThreadTuner.release}: at `threads` when given
   * (a resumed run's recorded count, kept even past the pool or the free cores so that the run
   * repeats), else at the count in force now. While several holds live (two jobs in one process),
   * the newest one's count is in force; when one ends, the newest remaining one's count returns,
   * whatever the order of the releases; when the last ends, the count before the first, and
   * adaptation resumes.
   *
   * @param threads The count to keep (a positive integer), or `undefined` for the current one.
   * @returns The hold (pass it to `release`); its `threads` is the count kept.
   */
  hold(threads?: number): { readonly threads: number } {
    if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) {
      throw new RangeError(
        `Cannot hold the BLAS thread count as 'threads' must be a positive integer: current value is ${threads}`,
      );
    }
    if (this.#holds.length === 0) this.#base = this.threads;
    const entry = { threads: threads ?? this.threads };
    this.#holds.push(entry);
    this.nextCheck = Infinity;
    this.#apply(entry.threads);
    return entry;
  }

  /**
   * Ends a hold from {@linkcode ThreadTuner.hold} (an unknown or ended one: nothing happens).
   *
   * @param hold The hold to end.
   */
  release(hold: { readonly threads: number }): void {
    const i = this.#holds.lastIndexOf(hold);
    if (i < 0) return;
    this.#holds.splice(i, 1);
    this.#apply(this.#holds.at(-1)?.threads ?? this.#base);
    if (this.adaptive) this.nextCheck = performance.now() + 500;
  }

  #apply(n: number): void {
    if (n !== this.threads) {
      this.set(n);
      this.threads = n;
      for (const f of this.followers) f(n);
    }
  }
}

/** A held BLAS thread count (see {@linkcode holdBlasThreads}). */
export interface BlasThreadHold {
  /** The thread count held (OpenBLAS and the native engine's OpenMP loops). */
  readonly threads: number;
  /** Ends the hold (once; later calls do nothing). Holds may end in any order. */
  release(): void;
}

/**
 * Fixes the BLAS thread count for a training run, so that it repeats bit for bit: OpenBLAS's sgemm
 * (and the native engine's threaded sums) round differently with 1 and 2 threads, and without a
 * hold the count follows the machine's load ({@linkcode ThreadTuner}). A fresh run holds the count
 * chosen at its start (the `DREAMBOOTH_BLAS_THREADS` override or the tuner's decision) and records
 * it; a resumed run holds the recorded count. `trainer/`'s `runTraining` does both.
 *
 * @param threads The count to hold (a resumed run's recorded one); `undefined`: the count now.
 * @returns The hold, or `null` when no BLAS with a settable thread count is in use (wasm, cpu,
 * Accelerate): then there is nothing to record.
 *
 * @example
 * ```ts
 * import { holdBlasThreads } from "./blas.ts";
 * const hold = holdBlasThreads();
 * console.log(hold === null || hold.threads >= 1); // true
 * hold?.release();
 * ```
 */
export function holdBlasThreads(threads?: number): BlasThreadHold | null {
  const tuner = cached ? cached.tuner : undefined;
  if (tuner === undefined) return null;
  const held = tuner.hold(threads);
  return { threads: held.threads, release: () => tuner.release(held) };
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
