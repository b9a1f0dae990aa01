/**
 * The backend option every command line of the toolkit declares ({@link backendParam}) and its
 * check ({@link backendOption}); the command-line frame itself (`runCli`, `UsageError`) is
 * params/'s, re-exported here for the packages above.
 *
 * @module
 */
import {
  type BackendName,
  backendNames,
  type EnumParam,
  parseBackendName,
  UsageError,
  wasmHeapHint,
} from "./deps.ts";

export { UsageError, wasmHeapHint };

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
