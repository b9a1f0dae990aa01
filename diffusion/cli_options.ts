/**
 * The command-line frame every CLI of the toolkit shares (`deno task sample`, `pretrain`, `train`,
 * `train-sr`, `export`): parse the options (plus `--help`/`-h`), turn errors into exit codes, and
 * validate `--backend`. It lives in diffusion/ because that is the lowest package all of those CLIs
 * depend on; training/ re-exports it from its own `cli_options.ts`.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import {
  type BackendName,
  backendNames,
  type EnumParam,
  parseBackendName,
  UsageError,
  wasmHeapHint,
} from "./deps.ts";

export { UsageError, wasmHeapHint };

/** The `options` of `parseArgs` from `node:util` (`--help`/`-h` is added by {@link runCli}). */
export type CliOptionSpecs = NonNullable<ParseArgsConfig["options"]>;

type HelpSpec = { help: { type: "boolean"; short: "h" } };

/** The parsed option values {@link runCli} hands to its body, typed after the specs. */
export type CliValues<O extends CliOptionSpecs> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & HelpSpec; strict: true }>
>["values"];

/** How {@link runCli} reads the command line and reports errors. */
export interface RunCliOptions<O extends CliOptionSpecs> {
  /** The help text: printed by `--help` and (when `usageOnError`) after a usage error. */
  usage: string;
  /** The options, as `parseArgs` from `node:util` takes them (strict; no positionals). */
  options: O;
  /** Print the help text after a usage error's message (default true). */
  usageOnError?: boolean;
  /** Print the stack of any other error, not only its message (default true). */
  stackOnError?: boolean;
}

/**
 * Runs a CLI's body between the shared frame: parses `args` strictly with the given options and
 * `--help`/`-h` (which prints the usage and gives 0), then awaits `run(values)`. A
 * {@link UsageError}, `RangeError` or `TypeError` (bad values; `parseArgs`' unknown options) prints
 * `error: <message>` (and the usage) to stderr and gives 2; any other error prints `error: <stack>`
 * (or its message) and gives 1.
 *
 * @param args Arguments without the script name (e.g. `Deno.args`).
 * @param options {@link RunCliOptions}: the usage text, the option specs and how to report errors.
 * @param run The body: gets the parsed values, returns the exit code.
 * @returns The exit code: `run`'s, 0 for `--help`, 2 for a usage error, 1 for another error.
 *
 * @example
 * ```ts
 * import { runCli } from "./cli_options.ts";
 * const code = await runCli(
 *   ["--name", "dog"],
 *   { usage: "Usage: hello --name NAME", options: { name: { type: "string" } } },
 *   (values) => {
 *     console.log(`hello ${values.name}`);
 *     return Promise.resolve(0);
 *   },
 * );
 * console.log(code); // 0
 * ```
 */
export async function runCli<const O extends CliOptionSpecs>(
  args: string[],
  options: RunCliOptions<O>,
  run: (values: CliValues<O>) => Promise<number>,
): Promise<number> {
  const { usage, usageOnError = true, stackOnError = true } = options;
  try {
    const { values } = parseArgs({
      args,
      options: { ...options.options, help: { type: "boolean", short: "h" } } as O & HelpSpec,
      strict: true,
    });
    if ((values as { help?: boolean }).help) {
      console.log(usage);
      return 0;
    }
    return await run(values as CliValues<O>);
  } catch (e) {
    if (e instanceof UsageError || e instanceof RangeError || e instanceof TypeError) {
      console.error(`error: ${e.message}${usageOnError ? `\n\n${usage}` : ""}`);
      return 2;
    }
    console.error(`error: ${stackOnError ? ((e as Error).stack ?? e) : (e as Error).message}`);
    const hint = wasmHeapHint(e);
    if (hint) console.error(hint);
    return 1;
  }
}

/**
 * Validates a `--backend NAME` value (`undefined` and `auto` mean "choose for me").
 *
 * @param value The option's value.
 * @returns The backend name, or `undefined` for the automatic choice.
 * @throws {UsageError} When `value` is not `auto` or a backend name.
 *
 * @example
 * ```ts
 * import { backendOption } from "./cli_options.ts";
 * console.log(backendOption("wasm"), backendOption("auto")); // wasm undefined
 * ```
 */
export function backendOption(value: string | undefined): BackendName | undefined {
  try {
    return parseBackendName(value);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * The `--backend` parameter every command line declares beside its job's own (command line only).
 *
 * @example
 * ```ts
 * import { backendParam } from "./cli_options.ts";
 * console.log(backendParam.values.includes("wasm")); // true
 * ```
 */
export const backendParam = {
  type: "enum",
  values: ["auto", ...backendNames],
  default: "auto",
  field: false,
  metavar: "NAME",
  help: "tensor backend",
} as const satisfies EnumParam;
