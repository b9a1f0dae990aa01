import type { JobContext, JobKind, ProgressUpdate } from "./job_kind.ts";
import type { Schema } from "./schema.ts";

/**
 * What a worker module's `run` gets: a {@linkcode JobContext} (same fields, same rules) plus the
 * kind's `data`.
 */
export type WorkerJobContext = JobContext & { readonly data: unknown };

/** Options of {@linkcode workerJobKind}. */
export interface WorkerJobKindOptions<P> {
  /** The kind's name (`train` → method `train.start`). */
  name: string;
  /** One line for `rpc.discover`. */
  summary: string;
  /** The params' schema (validated in the server before the job is queued). */
  params: Schema<P, boolean>;
  /** Whether `jobs.resume` may continue a stopped job. */
  resumable?: boolean;
  /** Structured-cloneable settings handed to every run as `context.data` (e.g. the backend). */
  data?: unknown;
  /** Checks before queueing, in the server (see {@linkcode JobKind.prepare}). */
  prepare?: JobKind<P, unknown>["prepare"];
  /**
   * The module that does the work: it exports `run(params, context)` with the signature of
   * {@linkcode JobKind.run}. Give an absolute URL (`new URL("./train_job.ts", import.meta.url)`).
   */
  module: string | URL;
  /**
   * How long after cancellation the worker may take to return before it is terminated, in ms
   * (default 60 000: time to write a checkpoint).
   */
  graceMs?: number;
}

/**
 * A job kind whose work runs in a Deno Worker, so that a compute loop full of synchronous tfjs
 * kernels (a 2 s training step on wasm) never blocks the server's event loop: RPC calls and
 * Server-Sent Events keep flowing while it trains.
 *
 * Inside the worker the module's `run(params, context)` sees the usual context. Cancellation
 * reaches it two ways: `context.signal` aborts when the worker's event loop gets the message
 * (between awaits), and `context.progress()` checks a shared flag synchronously and throws once
 * the job is cancelled, so even a loop that never awaits stops at its next step. Errors thrown in
 * the worker fail the job with their name and message; a worker that ignores cancellation is
 * terminated after `graceMs`.
 *
 * @param options Name, summary, params, module, grace period.
 * @returns The job kind.
 *
 * @example
 * ```ts
 * import { workerJobKind } from "./worker_job_kind.ts";
 * import { s } from "./schema.ts";
 * const train = workerJobKind({
 *   name: "train",
 *   summary: "DreamBooth fine-tuning.",
 *   params: s.object({ steps: s.integer({ minimum: 1 }) }),
 *   resumable: true,
 *   module: new URL("./train_job.ts", import.meta.url), // exports run(params, context)
 * });
 * console.log(train.name); // train
 * ```
 */
export function workerJobKind<P>(options: WorkerJobKindOptions<P>): JobKind<P, unknown> {
  const { name, summary, params, resumable = false, prepare, data, graceMs = 60_000 } = options;
  const module = String(options.module);
  return {
    name,
    summary,
    params,
    resumable,
    prepare,
    run(jobParams: P, context: JobContext): Promise<unknown> {
      const flag = new Int32Array(new SharedArrayBuffer(4));
      const worker = new Worker(new URL("./_job_worker.ts", import.meta.url), {
        type: "module",
        name: `job-${context.id}`,
      });
      return new Promise((resolve, reject) => {
        let killTimer: ReturnType<typeof setTimeout> | undefined;
        let settled = false;
        const finish = (fn: () => void) => {
          if (settled) return;
          settled = true;
          context.signal.removeEventListener("abort", onAbort);
          clearTimeout(killTimer);
          worker.terminate();
          fn();
        };
        const onAbort = () => {
          Atomics.store(flag, 0, 1);
          worker.postMessage({ type: "abort", reason: String(context.signal.reason) });
          killTimer = setTimeout(() => {
            finish(() => reject(new Error(`The worker did not stop within ${graceMs} ms`)));
          }, graceMs);
        };
        context.signal.addEventListener("abort", onAbort);
        worker.onmessage = (e: MessageEvent) => {
          const msg = e.data as
            | { type: "progress"; update: ProgressUpdate }
            | { type: "done"; result: unknown }
            | { type: "error"; name: string; message: string; stack?: string };
          if (msg.type === "progress") {
            try {
              context.progress(msg.update);
            } catch {
              // cancelled: the worker sees the flag at its next step
            }
          } else if (msg.type === "done") {
            finish(() => resolve(msg.result));
          } else if (msg.type === "error") {
            const err = new Error(msg.message);
            err.name = msg.name;
            if (msg.stack !== undefined) err.stack = msg.stack;
            finish(() => reject(err));
          }
        };
        worker.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          finish(() => reject(new Error(`The job worker crashed: ${e.message}`)));
        };
        worker.onmessageerror = () => {
          finish(() => reject(new Error("The job worker sent a message that cannot be read")));
        };
        if (context.signal.aborted) onAbort();
        worker.postMessage({
          type: "start",
          module,
          params: jobParams,
          flag,
          context: {
            id: context.id,
            dir: context.dir,
            relDir: context.relDir,
            dataRoot: context.dataRoot,
            resume: context.resume,
            data: data ?? null,
          },
        });
      });
    },
  };
}
