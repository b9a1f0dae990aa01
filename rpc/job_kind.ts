import type { DataRoot } from "./data_root.ts";
import type { Schema } from "./schema.ts";

/** What a running job reports after each step. */
export interface ProgressUpdate {
  /** Steps done so far (for a resumed job, counting the steps before the interruption). */
  step: number;
  /** Steps in all, when known. */
  total?: number;
  /** A short human-readable line (`loss 0.123`). */
  message?: string;
}

/** What {@linkcode JobKind.run} gets besides its params. */
export interface JobContext {
  /** The job's id. */
  readonly id: string;
  /**
   * Aborted when the job is cancelled (`jobs.cancel`) or the server shuts down. Check it each
   * step (`signal.throwIfAborted()`) and write a resumable checkpoint before returning.
   */
  readonly signal: AbortSignal;
  /** The job's own folder (absolute, created before `run`): checkpoints and output files. */
  readonly dir: string;
  /** The same folder relative to the data root (`jobs/<id>`): files are served at `/files/<relDir>/…`. */
  readonly relDir: string;
  /** The data root (absolute real path); resolve path params with `DataRoot.resolve`. */
  readonly dataRoot: string;
  /** `true` when this run continues an earlier one (`jobs.resume`): load the checkpoint in `dir`. */
  readonly resume: boolean;
  /**
   * Reports progress; subscribers of `GET /events` receive it with an ETA. Throws the abort
   * reason once the job is cancelled, so a loop that reports every step stops at the next step
   * even if it never looks at `signal` (use `try/finally` to save a checkpoint).
   */
  progress(update: ProgressUpdate): void;
}

/**
 * A kind of long-running job (training, super-resolution fine-tuning, evaluation): the plug-in
 * point for compute. Registering a kind `train` on the job queue makes the method `train.start`
 * that validates the params, queues a job and returns its id; the queue runs one job at a time by
 * default, persists its record, streams its progress and cancels it through `signal`.
 */
// deno-lint-ignore no-explicit-any
export interface JobKind<P = any, R = unknown> {
  /** The kind's name; the start method is `<name>.start` (`train` → `train.start`). */
  readonly name: string;
  /** One line for `rpc.discover`. */
  readonly summary: string;
  /** The params' schema (validated before the job is queued). */
  readonly params: Schema<P, boolean>;
  /** Whether an interrupted, cancelled or failed job may be continued with `jobs.resume`. */
  readonly resumable?: boolean;
  /**
   * Checks what the schema cannot before the job is queued (a path param inside the data root
   * and existing, one of two fields given): throw an `RpcError` (-32602 naming the field) to
   * refuse the start call. It may return the params to queue instead (e.g. photos sent inline,
   * stored under the data root, replaced by their upload id so the record stays small).
   *
   * @param params The validated params.
   * @param context The data root.
   * @returns Nothing (queue `params`), or the params to queue.
   */
  prepare?(params: P, context: { dataRoot: DataRoot }): void | P | Promise<void | P>;
  /**
   * Runs the job. Check `context.signal` each step; report with `context.progress`.
   *
   * @param params The validated params.
   * @param context Signal, progress, folders.
   * @returns A JSON-serialisable result stored in the job record (file paths relative to the
   * data root, metrics).
   */
  run(params: P, context: JobContext): Promise<R>;
}

/**
 * Identity function that infers a {@linkcode JobKind}'s param and result types.
 *
 * @param kind The job kind.
 * @returns The same object.
 *
 * @example
 * ```ts
 * import { defineJobKind } from "./job_kind.ts";
 * import { s } from "./schema.ts";
 * const count = defineJobKind({
 *   name: "count",
 *   summary: "Counts to n.",
 *   params: s.object({ n: s.integer({ minimum: 1, maximum: 100 }) }),
 *   async run({ n }, { progress }) {
 *     for (let i = 1; i <= n; i++) progress({ step: i, total: n });
 *     return { counted: n };
 *   },
 * });
 * console.log(count.name); // count
 * ```
 */
export function defineJobKind<P, R>(kind: JobKind<P, R>): JobKind<P, R> {
  return kind;
}
