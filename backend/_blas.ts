// Private: opens a CBLAS library with Deno.dlopen (OpenBLAS on Linux, Accelerate on macOS).
// Matrices are passed as "buffer" arguments (typed-array views on the wasm heap): Deno hands the
// view's own address (buffer start + byteOffset) to C for the duration of the call, no copy.

/** CBLAS constants. */
export const RowMajor = 101;
export const NoTrans = 111;
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

/** Why the last `openBlas()` failed (for the one-line notice). */
export let blasError = "";

let cached: Blas | null | undefined;

/** Candidate library paths for this OS, the env var `DREAMBOOTH_BLAS_LIB` first. */
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

/** Reads an env var, `undefined` without permission. */
export function envGet(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Opens the first BLAS that loads; `null` (and {@linkcode blasError}) when none does. */
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
        });
        const config = extra.symbols.openblas_get_config();
        const version = config ? Deno.UnsafePointerView.getCString(config).split(" ") : [];
        description = `${version.slice(0, 2).join(" ") || "OpenBLAS"} ${
          version.find((w) =>
            /^(Zen|Haswell|SkylakeX|Cooperlake|Sapphire|Neoverse|Arm)/i.test(w)
          ) ??
            ""
        }, ${extra.symbols.openblas_get_num_threads()} threads`.replace(" ,", ",");
        // The second handle only read two symbols; the library stays loaded through `lib`.
        extra.close();
      } catch {
        // Not OpenBLAS (Accelerate): the path is description enough.
      }
      cached = { sgemm: lib.symbols.cblas_sgemm as unknown as Sgemm, description };
      return cached;
    } catch (err) {
      errors.push(`${path}: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  blasError = errors.join("; ");
  cached = null;
  return null;
}
