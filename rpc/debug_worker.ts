/**
 * The worker module of the `debug.busy` job kind (debug_jobs.ts): a job whose loop is entirely
 * synchronous (like a tfjs training loop on wasm), `stepMs` of busy CPU per step, with a
 * checkpoint per step. Loaded by `workerJobKind` in a Worker; tests and benchmarks use it.
 *
 * @example
 * ```ts
 * import { spin } from "./debug_worker.ts";
 * const t = performance.now();
 * spin(5);
 * console.log(performance.now() - t >= 5); // true
 * ```
 *
 * @module
 */
import type { WorkerJobContext } from "./worker_job_kind.ts";

/**
 * Spins `steps` × `stepMs` ms of CPU without ever awaiting; checks the signal every step.
 *
 * @param params Steps, ms per step, and an optional step to fail at.
 * @param ctx The job context.
 * @returns The steps done and where it resumed from.
 */
export function run(
  params: { steps: number; stepMs: number; failAt?: number },
  ctx: WorkerJobContext,
): Promise<{ steps: number; resumedFrom: number }> {
  const state = `${ctx.dir}/state.json`;
  let start = 0;
  if (ctx.resume) {
    try {
      start = JSON.parse(Deno.readTextFileSync(state)).step;
    } catch {
      start = 0;
    }
  }
  for (let step = start + 1; step <= params.steps; step++) {
    ctx.signal.throwIfAborted();
    spin(params.stepMs);
    if (params.failAt === step) throw new RangeError(`failing at step ${step} as asked`);
    Deno.writeTextFileSync(state, JSON.stringify({ step }));
    ctx.progress({ step, total: params.steps, message: `step ${step}` });
  }
  return Promise.resolve({ steps: params.steps, resumedFrom: start });
}

/**
 * Keeps the CPU busy for `ms` milliseconds without yielding, as a synchronous tfjs kernel does.
 *
 * @param ms Milliseconds.
 */
export function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}
