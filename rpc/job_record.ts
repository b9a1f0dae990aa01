/**
 * A job's state. `queued` → `running` → `succeeded` | `failed` | `cancelled`; `cancelling` while
 * a running job winds down after `jobs.cancel`; `interrupted` when the server stopped while the
 * job was queued or running (a resumable kind continues it with `jobs.resume`).
 */
export type JobStatus =
  | "queued"
  | "running"
  | "cancelling"
  | "succeeded"
  | "failed"
  | "cancelled"
  | "interrupted";

/** All {@linkcode JobStatus} values. */
export const jobStatuses = [
  "queued",
  "running",
  "cancelling",
  "succeeded",
  "failed",
  "cancelled",
  "interrupted",
] as const satisfies readonly JobStatus[];

/** The statuses of a job that will not change unless resumed. */
export const finishedStatuses: readonly JobStatus[] = [
  "succeeded",
  "failed",
  "cancelled",
  "interrupted",
];

/** The latest progress of a job, as stored and as sent to `GET /events`. */
export interface JobProgress {
  /** Steps done. */
  step: number;
  /** Steps in all, when known. */
  total?: number;
  /** The runner's last message. */
  message?: string;
  /** Seconds since the job started running (this attempt). */
  elapsedSeconds: number;
  /** Estimated seconds left, from the rate since the first report of this attempt. */
  etaSeconds?: number;
  /** ISO time of the report. */
  updatedAt: string;
}

/**
 * A job as `jobs.get` returns it and as `<data root>/jobs/<id>/job.json` stores it.
 *
 * @example
 * ```ts
 * import type { JobRecord } from "./job_record.ts";
 * const job: JobRecord = {
 *   id: "20260101T000000-abcdef", kind: "train", params: {}, status: "queued",
 *   createdAt: new Date(0).toISOString(), attempts: 0, resumable: true, dir: "jobs/20260101T000000-abcdef",
 * };
 * console.log(job.status); // queued
 * ```
 */
export interface JobRecord {
  /** Unique, time-sortable id (`20261128T093000-1a2b3c`). */
  id: string;
  /** The job kind (`train`). */
  kind: string;
  /** The validated params. */
  params: unknown;
  /** See {@linkcode JobStatus}. */
  status: JobStatus;
  /** ISO times. */
  createdAt: string;
  /** When the latest attempt started running. */
  startedAt?: string;
  /** When the job last stopped (any finished status). */
  finishedAt?: string;
  /** The latest progress report. */
  progress?: JobProgress;
  /** The runner's result (when `succeeded`). */
  result?: unknown;
  /** Why it failed (when `failed`), or what interrupted it. */
  error?: { name: string; message: string };
  /** How many times it started running (resumes count). */
  attempts: number;
  /** Whether `jobs.resume` may continue it. */
  resumable: boolean;
  /** Its folder relative to the data root (`jobs/<id>`); files are at `/files/<dir>/…`. */
  dir: string;
}
