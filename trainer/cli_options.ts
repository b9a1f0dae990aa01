/**
 * Shared command-line helpers of the training CLIs (`deno task pretrain`, `train`, `export`, …):
 * stopping cleanly on SIGINT/SIGTERM, and (re-exported) params/' frame {@link runCli} and
 * {@link UsageError}, diffusion/'s {@link backendOption} and {@link backendParam}.
 *
 * @module
 */
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
