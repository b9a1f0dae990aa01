import { defineMethod } from "../define_method.ts";
import { type JobRecord, jobStatuses } from "../job_record.ts";
import { s } from "../schema.ts";

/**
 * `jobs.list {status?, kind?, limit?}` → `{ jobs }`, newest first, including the jobs of earlier
 * server runs (those that were running when it stopped show as `interrupted`).
 *
 * @example
 * ```ts
 * import { jobsList } from "./jobs_list.ts";
 * console.log(jobsList.params.parse({ status: ["running"] })); // { status: ["running"], limit: 100 }
 * ```
 */
export const jobsList = defineMethod({
  name: "jobs.list",
  summary: "Jobs, newest first, optionally filtered by status and kind.",
  params: s.object({
    status: s.optional(
      s.array(s.enum(jobStatuses), { minItems: 1, maxItems: jobStatuses.length }),
    ),
    kind: s.optional(s.string({ maxLength: 64 })),
    limit: s.optional(s.integer({ minimum: 1, maximum: 10_000 }), 100),
  }),
  result: {
    type: "object",
    properties: { jobs: { type: "array", items: { type: "object" } } },
  },
  handler: (params, { services }): { jobs: JobRecord[] } => ({
    jobs: services.jobs.list(params),
  }),
});
