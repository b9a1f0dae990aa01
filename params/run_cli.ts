/**
 * The frame every command line of the toolkit runs in: parse against the job's declaration, print
 * the usage for `--help` and after usage errors (only those), turn errors into exit codes.
 *
 * @module
 */
import type { ParamDeclaration, ParamSpecs, ParamValues } from "./declare_params.ts";
import { parseCliArgs, usageText } from "./parse_cli_args.ts";
import { UsageError } from "./usage_error.ts";

/** How {@link runCli} reads the command line and reports errors. */
export interface RunCliOptions<S extends ParamSpecs> {
  /** The job's parameters: the options, their checks and the usage text come from it. */
  params: ParamDeclaration<S>;
  /** The line after `Usage: ` (e.g. `deno task train [options]`). */
  usage: string;
  /** Paragraphs between the usage line and the options. */
  summary?: string;
  /** Lines after the options (e.g. examples). */
  epilogue?: string;
  /** Allow positional arguments (default false). */
  positionals?: boolean;
  /** Print the usage text after a usage error's message (default true). */
  usageOnError?: boolean;
  /** Print the stack of a runtime error, not only its message (default false). */
  stackOnError?: boolean;
}

/** What the body of a command line gets besides the values. */
export interface CliContext<S extends ParamSpecs> {
  /** Positional arguments (where allowed). */
  positionals: string[];
  /** The keys the command line gave. */
  given: Set<keyof S & string>;
  /** The usage text (for a body that reports its own usage error). */
  usage: string;
}

/**
 * Runs a command line: parses `args` against the declaration (`--help`/`-h` prints the usage and
 * gives 0), then awaits `run(values)`. A {@link UsageError} (unknown option, bad value, missing
 * option) prints `error: <message>` and the usage to stderr and gives 2. A `RangeError` or
 * `TypeError` from the body (a bad input found at run time, e.g. an empty image folder) prints its
 * message without the usage and gives 2; any other error prints its message (or stack) and gives 1.
 *
 * @param args Arguments without the script name (e.g. `Deno.args`).
 * @param options {@link RunCliOptions}.
 * @param run The body: gets the values (defaults filled in) and the context; returns the exit code.
 * @returns The exit code: `run`'s, 0 for `--help`, 2 for bad input, 1 for another error.
 *
 * @example
 * ```ts
 * import { declareParams } from "./declare_params.ts";
 * import { runCli } from "./run_cli.ts";
 * const params = declareParams("greet", { name: { type: "string", default: "dog", help: "who" } });
 * const code = await runCli(["--name", "cat"], { params, usage: "greet [options]" }, (v) => {
 *   console.log(`hello ${v.name}`); // hello cat
 *   return Promise.resolve(0);
 * });
 * console.log(code); // 0
 * ```
 */
export async function runCli<S extends ParamSpecs>(
  args: readonly string[],
  options: RunCliOptions<S>,
  run: (values: ParamValues<S>, context: CliContext<S>) => Promise<number>,
): Promise<number> {
  const { usageOnError = true, stackOnError = false } = options;
  const usage = usageText(options.params, options);
  try {
    const parsed = parseCliArgs(options.params, args, {
      positionals: options.positionals,
    });
    if (parsed.help) {
      console.log(usage);
      return 0;
    }
    return await run(parsed.values, {
      positionals: parsed.positionals,
      given: parsed.given,
      usage,
    });
  } catch (e) {
    return reportCliError(e, {
      usage: usageOnError ? usage : undefined,
      stackOnError,
    });
  }
}

/**
 * For a top-level script (a benchmark) without a `main`: parses `args` against the declaration,
 * prints the usage and exits with 0 for `--help`, prints the message and the usage and exits with
 * 2 for a usage error; otherwise returns the values. Runtime errors are the script's own.
 *
 * @param args Arguments without the script name (e.g. `Deno.args`).
 * @param options {@link RunCliOptions} (`params`, `usage`, `summary`, …).
 * @returns The values, defaults filled in.
 *
 * @example
 * ```ts
 * import { declareParams } from "./declare_params.ts";
 * import { parseCliOrExit } from "./run_cli.ts";
 * const params = declareParams("bench", { steps: { type: "integer", min: 1, default: 3, help: "steps" } });
 * console.log(parseCliOrExit(["--steps", "5"], { params, usage: "bench [options]" }).steps); // 5
 * ```
 */
export function parseCliOrExit<S extends ParamSpecs>(
  args: readonly string[],
  options: RunCliOptions<S>,
): ParamValues<S> {
  const usage = usageText(options.params, options);
  try {
    const parsed = parseCliArgs(options.params, args, { positionals: options.positionals });
    if (parsed.help) {
      console.log(usage);
      Deno.exit(0);
    }
    return parsed.values;
  } catch (e) {
    Deno.exit(reportCliError(e, { usage: options.usageOnError === false ? undefined : usage }));
  }
}

/**
 * Prints an error of a command line and gives its exit code (see {@link runCli}).
 *
 * @param e The caught error.
 * @param options `usage`: printed after a {@link UsageError}; `stackOnError`: print the stack of
 * a runtime error.
 * @returns 2 for a usage error, `RangeError` or `TypeError`; 1 otherwise.
 *
 * @example
 * ```ts
 * import { reportCliError } from "./run_cli.ts";
 * console.log(reportCliError(new RangeError("Cannot train as 'steps' must be ≥ 1"))); // 2
 * ```
 */
export function reportCliError(
  e: unknown,
  options: { usage?: string; stackOnError?: boolean } = {},
): number {
  if (e instanceof UsageError) {
    console.error(
      `error: ${e.message}${options.usage ? `\n\n${options.usage}` : ""}`,
    );
    return 2;
  }
  if (e instanceof RangeError || e instanceof TypeError) {
    console.error(`error: ${e.message}`);
    return 2;
  }
  const err = e as Error;
  console.error(
    `error: ${options.stackOnError ? (err?.stack ?? err) : (err?.message ?? err)}`,
  );
  const hint = wasmHeapHint(e);
  if (hint) console.error(hint);
  return 1;
}

/**
 * A hint for the errors tfjs's wasm backend gives when its heap (32-bit wasm: 4 GiB at most) is
 * full: emscripten's `malloc` aborts (`RuntimeError: Aborted()`) or, with the native kernels,
 * faults (`memory access out of bounds`). Measured in session 19: `bench/training_bench.ts --stage
 * sr1 --widths 32` (128², batch 8) ends so on both, while width 16 runs.
 *
 * @param e The caught error.
 * @returns One line to print after the error, or `""` for any other error.
 *
 * @example
 * ```ts
 * import { wasmHeapHint } from "./run_cli.ts";
 * console.log(wasmHeapHint(new WebAssembly.RuntimeError("memory access out of bounds")) !== ""); // true
 * console.log(wasmHeapHint(new Error("disk full"))); // ""
 * ```
 */
export function wasmHeapHint(e: unknown): string {
  if (!(e instanceof WebAssembly.RuntimeError)) return "";
  if (!/memory access out of bounds|Aborted\(\)/.test(e.message)) return "";
  return "hint: the wasm backend's heap (4 GiB at most) is probably full: lower the batch, the image " +
    "or crop size, or the model width, or use '--backend tensorflow' where @tensorflow/tfjs-node is " +
    "installed";
}
