import { defineMethod } from "../define_method.ts";
import type { JobRecord } from "../job_record.ts";
import { jobIdParams } from "./_job_id_params.ts";

/**
 * `jobs.resume {id}` → the record, queued again: continues an `interrupted`, `cancelled` or
 * `failed` job of a resumable kind from the checkpoint in its folder. Unknown id: -32004; not
 * resumable, kind not served, or not stopped: -32009.
 *
 * @example
 * ```ts
 * import { jobsResume } from "./jobs_resume.ts";
 * console.log(jobsResume.name); // jobs.resume
 * ```
 */
export const jobsResume = defineMethod({
  name: "jobs.resume",
  summary: "Continues an interrupted, cancelled or failed job of a resumable kind.",
  params: jobIdParams,
  result: { type: "object", description: "JobRecord" },
  handler: ({ id }, { services }): Promise<JobRecord> => services.jobs.resume(id),
});
