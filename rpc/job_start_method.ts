import { defineMethod, type MethodSpec } from "./define_method.ts";
import type { JobKind } from "./job_kind.ts";

/**
 * The `<kind>.start` method of a job kind: validates the params with the kind's schema, queues
 * the job (one runs at a time by default) and answers at once with its id and status; follow it
 * with `jobs.get`, `GET /events?job=<id>` and `jobs.cancel`. The kind must be registered on the
 * server's job queue (`createRpcApp` does both from its `jobKinds` option).
 *
 * @param kind The job kind.
 * @returns The method `<kind.name>.start`.
 *
 * @example
 * ```ts
 * import { jobStartMethod } from "./job_start_method.ts";
 * import { defineJobKind } from "./job_kind.ts";
 * import { s } from "./schema.ts";
 * const kind = defineJobKind({
 *   name: "train",
 *   summary: "DreamBooth fine-tuning.",
 *   params: s.object({ steps: s.integer({ minimum: 1 }) }),
 *   run: async () => ({}),
 * });
 * console.log(jobStartMethod(kind).name); // train.start
 * ```
 */
export function jobStartMethod(kind: JobKind): MethodSpec<unknown, { id: string; status: string }> {
  return defineMethod({
    name: `${kind.name}.start`,
    summary: `${kind.summary} Starts a job; returns its id.`,
    params: kind.params,
    result: {
      type: "object",
      properties: { id: { type: "string" }, status: { type: "string" } },
    },
    handler: async (params, { services }) => {
      const job = await services.jobs.submit(kind.name, params);
      return { id: job.id, status: job.status };
    },
  });
}
