/**
 * Shared command-line helpers of the training CLIs (`deno task pretrain`, `train`, `export`, …):
 * stopping cleanly on SIGINT/SIGTERM, the `main(args, { signal })` frame they share
 * ({@link stoppableMain}), and (re-exported) params/' frame {@link runCli} and
 * {@link UsageError}, diffusion/'s {@link backendOption} and {@link backendParam}.
 *
 * @module
 */
import {
  type CliContext,
  type ParamSpecs,
  type ParamValues,
  runCli,
  type RunCliOptions,
} from "./deps.ts";
export { backendOption, backendParam, runCli, UsageError } from "./deps.ts";

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

/** The `main` of a training command line: exit code from `args`; `signal` stops it like SIGINT. */
export type StoppableMain = (
  args: string[],
  options?: { signal?: AbortSignal },
) => Promise<number>;

/** What the body of a {@link stoppableMain} gets besides the values. */
export interface StoppableCliContext<S extends ParamSpecs> extends CliContext<S> {
  /** The command line as given (for the run's record). */
  args: string[];
  /** Runs the job under {@link runStoppable} with the caller's `signal`. */
  stoppable<T>(run: (stop: AbortSignal) => Promise<T>): Promise<T>;
}

/**
 * The frame of the training command lines (`deno task train`, `train-sr`, `pretrain`): a `main`
 * that parses `args` with params/' {@link runCli} and gives the body a `stoppable` runner that
 * stops on SIGINT, SIGTERM or the caller's `signal`.
 *
 * @param cli The declaration, usage line and summary ({@link RunCliOptions}).
 * @param run The body: gets the values and the context; returns the exit code.
 * @returns The `main`.
 *
 * @example
 * ```ts
 * import { declareParams } from "../params/mod.ts";
 * import { stoppableMain } from "./cli_options.ts";
 * const params = declareParams("count", { n: { type: "integer", default: 2, help: "steps" } });
 * const main = stoppableMain({ params, usage: "count [options]" }, async (v, { stoppable }) =>
 *   await stoppable((stop) => Promise.resolve(stop.aborted ? 1 : v.n === 3 ? 0 : 1)));
 * console.log(await main(["--n", "3"])); // 0
 * ```
 */
export function stoppableMain<S extends ParamSpecs>(
  cli: RunCliOptions<S>,
  run: (values: ParamValues<S>, context: StoppableCliContext<S>) => Promise<number>,
): StoppableMain {
  return (args, options = {}) =>
    runCli(args, cli, (values, context) =>
      run(values, {
        ...context,
        args,
        stoppable: (job) => runStoppable(options.signal, job),
      }));
}
