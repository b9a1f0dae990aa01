import { jobIdPattern } from "../job_store.ts";
import { s } from "../schema.ts";

/** The params of `jobs.get` and `jobs.cancel`, `jobs.resume`: one job id. */
export const jobIdParams = s.object({
  id: s.string({ pattern: jobIdPattern, description: "The job id (from `<kind>.start`)." }),
});
