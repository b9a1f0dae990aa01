/**
 * The error of a bad command line.
 *
 * @module
 */

/**
 * A bad command line (unknown option, bad value, missing argument): the CLIs print its message,
 * then the usage text, and exit with code 2. Any other error is a runtime error: its message
 * only, without the usage text.
 *
 * @example
 * ```ts
 * import { UsageError } from "./usage_error.ts";
 * const e = new UsageError("Cannot sample as '--prompt' is required");
 * console.log(e.name, e instanceof Error); // UsageError true
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
}
