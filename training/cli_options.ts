/**
 * Shared command-line helpers of the training CLIs (`deno task pretrain`, `train`, `train-sr`,
 * `export`): numeric options, stopping cleanly on SIGINT/SIGTERM, and (re-exported from
 * diffusion/, the lowest package every CLI uses) the frame {@link runCli}, {@link backendOption}
 * and {@link UsageError}.
 *
 * @module
 */
import { UsageError } from "./deps.ts";

export { backendOption, backendParam, runCli, runLegacyCli, UsageError } from "./deps.ts";

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

/**
 * Runs a training job that stops cleanly: SIGINT, SIGTERM or `signal` abort the signal handed to
 * `run` (once, with the note "stopping after this step (checkpoint follows)…"), so that the job
 * finishes its step and writes a checkpoint. The signal listeners are removed when `run` settles.
 *
 * @param signal An extra signal that stops the job (optional).
 * @param run The job: gets the stop signal, returns its result.
 * @returns What `run` returns.
 *
 * @example
 * ```ts
 * import { runStoppable } from "./cli_options.ts";
 * const controller = new AbortController();
 * const stopped = await runStoppable(controller.signal, (stop) => {
 *   controller.abort();
 *   return Promise.resolve(stop.aborted);
 * });
 * console.log(stopped); // true
 * ```
 */
export async function runStoppable<T>(
  signal: AbortSignal | undefined,
  run: (stop: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const stop = () => {
    if (!controller.signal.aborted) {
      console.log("stopping after this step (checkpoint follows)…");
      controller.abort();
    }
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, stop);
  signal?.addEventListener("abort", stop);
  try {
    return await run(controller.signal);
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, stop);
    signal?.removeEventListener("abort", stop);
  }
}
