import { defineMethod } from "../define_method.ts";
import { jobIdParams } from "./_job_id_params.ts";
import type { JobRecord } from "../job_record.ts";

/**
 * `jobs.get {id}` → the job record: status, params, progress (step, total, ETA), result or
 * error, attempts, folder. An unknown id answers -32004.
 *
 * @example
 * ```ts
 * import { jobsGet } from "./jobs_get.ts";
 * console.log(jobsGet.name); // jobs.get
 * ```
 */
export const jobsGet = defineMethod({
  name: "jobs.get",
  summary: "One job: status, progress with ETA, result or error.",
  params: jobIdParams,
  result: { type: "object", description: "JobRecord" },
  handler: ({ id }, { services }): JobRecord => services.jobs.get(id),
});
