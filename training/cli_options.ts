/**
 * Shared command-line helpers of the training CLIs (`deno task pretrain`, `train`, `train-sr`).
 *
 * @module
 */

/** A bad command line: the CLIs print its message and exit with code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Parses a numeric `--name` option.
 *
 * @param verb What the CLI does, for the message (`Cannot ${verb} as …`).
 * @param name The option's name without dashes.
 * @param value The raw string (`undefined` when the option was not given).
 * @param options `integer` (default false) and `min` (default: no lower bound).
 * @returns The number, or `undefined` when not given.
 * @throws {UsageError} For an empty, non-finite, non-integer (when asked) or too small value.
 *
 * @example
 * ```ts
 * import { numberOption } from "./cli_options.ts";
 * console.log(numberOption("train", "steps", "200", { integer: true, min: 1 })); // 200
 * ```
 */
export function numberOption(
  verb: string,
  name: string,
  value: string | undefined,
  options: { integer?: boolean; min?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const { integer = false, min } = options;
  const n = Number(value);
  if (
    value.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n)) ||
    (min !== undefined && n < min)
  ) {
    throw new UsageError(
      `Cannot ${verb} as '--${name}' must be ${integer ? "an integer" : "a finite number"}${
        min !== undefined ? ` ≥ ${min}` : ""
      }: current value is ${JSON.stringify(value)}`,
    );
  }
  return n;
}
