// Private: compiles backend/_native_engine.c once with the system C compiler into a cache and opens
// it with Deno.dlopen. The cache key is a hash of the source, the compiler's version line and the
// flags; the flags include `-march=<level>` where the level (x86-64-v4/v3/v2, none elsewhere) is
// chosen at run time from this CPU's features, so a cache copied to another CPU compiles its own
// library instead of running instructions that CPU lacks. Next to each library a `.json` records
// the compiler, its version, the flags and the source hash (reproducible by hand:
// `cc <flags> -o lib.so _native_engine.c`).
import { envGet } from "./blas.ts";

const symbols = {
  nk_version: { parameters: [], result: "i32" },
  nk_init: { parameters: ["buffer"], result: "i32" },
  nk_set_threads: { parameters: ["i32"], result: "void" },
  nk_get_threads: { parameters: [], result: "i32" },
  nk_binary: { parameters: ["i32", "buffer", "buffer", "buffer", "buffer"], result: "void" },
  nk_unary: { parameters: ["i32", "buffer", "buffer", "i64", "f32"], result: "void" },
  nk_silu_grad: { parameters: ["buffer", "buffer", "buffer", "i64"], result: "void" },
  nk_gather: {
    parameters: ["buffer", "buffer", "buffer", "i64", "i64", "i64", "i64"],
    result: "void",
  },
  nk_segment_sum: {
    parameters: ["buffer", "buffer", "buffer", "i64", "i64", "i64"],
    result: "void",
  },
  nk_reduce_rows: { parameters: ["i32", "buffer", "buffer", "i64", "i64"], result: "void" },
  nk_reduce_cols: { parameters: ["i32", "buffer", "buffer", "i64", "i64"], result: "void" },
  nk_reduce_mid: {
    parameters: ["i32", "buffer", "buffer", "i64", "i64", "i64"],
    result: "void",
  },
  nk_softmax: { parameters: ["buffer", "buffer", "i64", "i64"], result: "void" },
  nk_strided_copy: { parameters: ["buffer", "i64", "buffer", "buffer"], result: "void" },
  nk_strided_scatter: { parameters: ["buffer", "buffer", "i64", "buffer"], result: "void" },
  nk_copy_rows: {
    parameters: ["buffer", "i64", "i64", "buffer", "i64", "i64", "i64", "i64"],
    result: "void",
  },
  nk_fill: { parameters: ["buffer", "i64", "f32"], result: "void" },
  nk_conv_fwd: {
    parameters: ["buffer", "buffer", "buffer", "i32", "buffer", "buffer"],
    result: "i32",
  },
  nk_conv_scheme: { parameters: ["i32"], result: "void" },
  nk_conv_bwd_input: { parameters: ["buffer", "buffer", "buffer", "buffer"], result: "i32" },
  nk_conv_bwd_filter: { parameters: ["buffer", "buffer", "buffer", "buffer"], result: "i32" },
  nk_group_norm_fwd: {
    parameters: [
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "i64",
      "i64",
      "i64",
      "i64",
      "f32",
    ],
    result: "void",
  },
  nk_group_norm_bwd: {
    parameters: [
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "i64",
      "i64",
      "i64",
      "i64",
    ],
    result: "void",
  },
  nk_adam: {
    parameters: [
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "i64",
      "f32",
      "f32",
      "f32",
      "f32",
      "f32",
    ],
    result: "void",
  },
} as const;

type Raw = Deno.DynamicLibrary<typeof symbols>["symbols"];
// Deno passes a JavaScript number to an i64 parameter as well as a bigint (counts here stay far
// below 2^53); its types ask for bigint.
type Loosen<F> = F extends (...args: infer A) => infer R
  ? (...args: { [K in keyof A]: A[K] extends bigint ? number | bigint : A[K] }) => R
  : F;
/** The opened library's functions. */
export type NativeLib = { [K in keyof Raw]: Loosen<Raw[K]> };

/** The compiled library, or why there is none. */
export type NativeLibResult =
  | { lib: NativeLib; path: string; flags: string[]; compiled: boolean }
  | { lib: null; reason: string };

let cached: Promise<NativeLibResult> | undefined;

/** The cache folder: `DREAMBOOTH_NATIVE_CACHE`, else `$XDG_CACHE_HOME` or `~/.cache`, `/dreambooth/native`. */
export function nativeCacheDir(): string {
  const own = envGet("DREAMBOOTH_NATIVE_CACHE");
  if (own) return own;
  const base = envGet("XDG_CACHE_HOME") || `${envGet("HOME") ?? "/tmp"}/.cache`;
  return `${base}/dreambooth/native`;
}

/** `-march` level for this CPU (x86-64 psABI levels), `""` where none applies. */
export function marchLevel(cpuinfo?: string): string {
  if (Deno.build.arch !== "x86_64") return "";
  let info = cpuinfo;
  if (info === undefined) {
    try {
      info = Deno.readTextFileSync("/proc/cpuinfo");
    } catch {
      return "";
    }
  }
  const flags = new Set((/^flags\s*:(.*)$/m.exec(info)?.[1] ?? "").trim().split(/\s+/));
  const all = (...f: string[]) => f.every((x) => flags.has(x));
  if (all("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl", "avx2", "fma", "bmi2")) {
    return "x86-64-v4";
  }
  if (all("avx2", "fma", "bmi1", "bmi2", "movbe", "f16c")) return "x86-64-v3";
  if (all("sse4_2", "ssse3", "popcnt")) return "x86-64-v2";
  return "";
}

/** The compile flags (without `-o` and the source). */
export function nativeFlags(level = marchLevel()): string[] {
  return [
    "-O3",
    "-fPIC",
    "-shared",
    "-fopenmp",
    "-fno-math-errno",
    "-fno-trapping-math",
    ...(level ? [`-march=${level}`] : []),
  ];
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; text: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return { ok: out.success, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
  } catch (err) {
    return { ok: false, text: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/**
 * Compiles (once per source/compiler/flags, into {@linkcode nativeCacheDir}) and opens the engine's
 * C library, then points it at the BLAS library `blasPath`. Never throws: the result says why
 * there is no library (no compiler, compile error, no permission).
 */
export function loadNativeLib(blasPath: string): Promise<NativeLibResult> {
  cached ??= load(blasPath);
  return cached;
}

async function load(blasPath: string): Promise<NativeLibResult> {
  let source: string;
  try {
    source = await (await fetch(new URL("./_native_engine.c", import.meta.url))).text();
  } catch (err) {
    return { lib: null, reason: `cannot read _native_engine.c: ${(err as Error).message}` };
  }
  const cc = envGet("CC") || "cc";
  const version = await run(cc, ["--version"]);
  if (!version.ok && /Requires run access|NotCapable|PermissionDenied/.test(version.text)) {
    return { lib: null, reason: `cannot run the C compiler '${cc}' (needs --allow-run)` };
  }
  if (!version.ok) {
    return {
      lib: null,
      reason: `no C compiler ('${cc} --version' failed: ${version.text.trim().split("\n")[0]})`,
    };
  }
  const ccVersion = version.text.split("\n")[0].trim();
  const flags = nativeFlags();
  const key = (await sha256(`${source}\n${ccVersion}\n${flags.join(" ")}`)).slice(0, 16);
  const dir = nativeCacheDir();
  const path = `${dir}/engine-${Deno.build.arch}-${key}.so`;
  let compiled = false;
  let exists = false;
  try {
    exists = Deno.statSync(path).isFile;
  } catch {
    exists = false;
  }
  if (!exists) {
    try {
      Deno.mkdirSync(dir, { recursive: true });
      const tag = `${Deno.pid}-${Math.random().toString(36).slice(2)}`;
      const src = `${dir}/engine-${key}.${tag}.c`, tmp = `${path}.${tag}.tmp`;
      Deno.writeTextFileSync(src, source);
      const out = await run(cc, [...flags, "-o", tmp, src, "-lm", "-ldl"]);
      Deno.removeSync(src);
      if (!out.ok) {
        try {
          Deno.removeSync(tmp);
        } catch { /* nothing written */ }
        return {
          lib: null,
          reason: `'${cc}' failed: ${out.text.trim().split("\n").slice(0, 3).join(" | ")}`,
        };
      }
      Deno.writeTextFileSync(
        path.replace(/\.so$/, ".json"),
        JSON.stringify(
          { cc, ccVersion, flags, libs: ["-lm", "-ldl"], sourceSha256Prefix: key },
          null,
          2,
        ) +
          "\n",
      );
      Deno.renameSync(tmp, path); // atomic: another process sees the whole library or none
      compiled = true;
    } catch (err) {
      return {
        lib: null,
        reason: `cannot build the native engine in ${dir}: ${(err as Error).message}`,
      };
    }
  }
  try {
    // OpenMP's idle threads spin before they sleep; on cores that other processes (or OpenBLAS's
    // own threads) keep busy, that spinning steals the time it waits for. Keep it short.
    if (!envGet("OMP_WAIT_POLICY") && !envGet("GOMP_SPINCOUNT")) {
      Deno.env.set("GOMP_SPINCOUNT", "10000");
    }
    const lib = Deno.dlopen(path, symbols).symbols as unknown as NativeLib;
    const rc = lib.nk_init(new TextEncoder().encode(`${blasPath}\0`));
    if (rc !== 0) {
      return { lib: null, reason: `the engine could not open cblas_sgemm in ${blasPath}` };
    }
    return { lib, path, flags, compiled };
  } catch (err) {
    return { lib: null, reason: `cannot open ${path}: ${(err as Error).message}` };
  }
}
