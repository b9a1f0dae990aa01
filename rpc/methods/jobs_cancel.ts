import { defineMethod } from "../define_method.ts";
import type { JobRecord } from "../job_record.ts";
import { jobIdParams } from "./_job_id_params.ts";

/**
 * `jobs.cancel {id}` → the record: a queued job is `cancelled` at once, a running one is
 * `cancelling` until its runner stops at its next step (then `cancelled`, with a checkpoint a
 * resumable kind can continue from). Unknown id: -32004; a job that already finished: -32009
 * with `data.status`.
 *
 * @example
 * ```ts
 * import { jobsCancel } from "./jobs_cancel.ts";
 * console.log(jobsCancel.name); // jobs.cancel
 * ```
 */
export const jobsCancel = defineMethod({
  name: "jobs.cancel",
  summary: "Cancels a queued or running job (a running one stops at its next step).",
  params: jobIdParams,
  result: { type: "object", description: "JobRecord" },
  handler: ({ id }, { services }): Promise<JobRecord> => services.jobs.cancel(id),
});
