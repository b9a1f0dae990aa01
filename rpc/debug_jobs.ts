/**
 * Debug job kinds for tests and benchmarks of the server (not served by `deno task serve`):
 * `debug.sleep` (a resumable job that sleeps step by step), `debug.busy` (busy CPU steps in a
 * worker, the stand-in for a training loop) and `debug.busy_main` (the same loop on the server's
 * own thread: what not to do). Register them with `createRpcApp({ jobKinds: [...] })`.
 *
 * @example
 * ```ts
 * import { busyWorkerJob, sleepJob } from "./mod.ts";
 * console.log(sleepJob.name, busyWorkerJob.name); // debug.sleep debug.busy
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { defineJobKind, type JobKind } from "./job_kind.ts";
import { s } from "./schema.ts";
import { workerJobKind } from "./worker_job_kind.ts";
import { spin } from "./debug_worker.ts";

/** Params of the `debug.sleep` debug job. */
const sleepParams = s.object({
  steps: s.integer({ minimum: 1, maximum: 10_000 }),
  stepMs: s.optional(s.integer({ minimum: 0, maximum: 10_000 }), 10),
  failAt: s.optional(s.integer({ minimum: 1 })),
  /** Keeps running after cancellation (to test a runner that ignores its signal). */
  stubborn: s.optional(s.boolean(), false),
});

/**
 * A resumable job that sleeps `steps` × `stepMs`, reports progress every step, checks its signal
 * every step, keeps a checkpoint (`state.json`) in its folder, resumes from it, and writes
 * `out.txt` when done.
 */
export const sleepJob: JobKind = defineJobKind({
  name: "debug.sleep",
  summary: "Debug job: sleeps step by step.",
  params: sleepParams,
  resumable: true,
  async run({ steps, stepMs, failAt, stubborn }, ctx) {
    const state = join(ctx.dir, "state.json");
    let start = 0;
    if (ctx.resume) {
      start = JSON.parse(await Deno.readTextFile(state).catch(() => '{"step":0}')).step;
    }
    for (let step = start + 1; step <= steps; step++) {
      if (!stubborn) ctx.signal.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, stepMs));
      if (failAt === step) throw new Error(`failing at step ${step} as asked`);
      await Deno.writeTextFile(state, JSON.stringify({ step }));
      if (!stubborn || !ctx.signal.aborted) {
        ctx.progress({ step, total: steps, message: `step ${step}` });
      }
    }
    await Deno.writeTextFile(join(ctx.dir, "out.txt"), `slept ${steps} steps\n`);
    return { steps, resumedFrom: start, file: `${ctx.relDir}/out.txt` };
  },
});

/** Params of the `debug.busy` debug job. */
const busyParams = s.object({
  steps: s.integer({ minimum: 1, maximum: 100_000 }),
  stepMs: s.optional(s.integer({ minimum: 0, maximum: 10_000 }), 20),
  failAt: s.optional(s.integer({ minimum: 1 })),
});

/**
 * A resumable job whose synchronous busy loop (`stepMs` of CPU per step, never awaiting) runs in
 * a worker: the stand-in for a training loop.
 */
export const busyWorkerJob: JobKind = workerJobKind({
  name: "debug.busy",
  summary: "Debug job: busy CPU steps in a worker.",
  params: busyParams,
  resumable: true,
  module: new URL("./debug_worker.ts", import.meta.url),
  graceMs: 5000,
});

/**
 * The same busy loop on the server's own thread (what not to do): the bench compares it.
 */
export const busyMainThreadJob: JobKind = defineJobKind({
  name: "debug.busy_main",
  summary: "Debug job: busy CPU steps on the server thread.",
  params: busyParams,
  resumable: true,
  run: async ({ steps, stepMs }, ctx) => {
    for (let step = 1; step <= steps; step++) {
      ctx.signal.throwIfAborted();
      spin(stepMs);
      ctx.progress({ step, total: steps });
      await new Promise((r) => setTimeout(r, 0)); // yields as `await tensor.data()` would
    }
    return { steps };
  },
});
