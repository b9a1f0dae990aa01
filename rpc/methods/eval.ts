import { builtInSubjects } from "../../data/mod.ts";
import type { JobKind } from "../job_kind.ts";
import { invalidParams } from "../rpc_error.ts";
import { s, type Schema } from "../schema.ts";
import { workerJobKind } from "../worker_job_kind.ts";
import type { EvalJobParams } from "../jobs/eval_job.ts";
import { withDataRootPaths } from "./_model_folder_kind.ts";
// The declaration alone (no tfjs in the server thread).
import { evalParams as declaredEvalParams } from "../../eval/eval_params.ts";

/** The validated params of `eval.start` (paths relative to the data root). */
export type EvalParams = EvalJobParams;

const subjectNames = builtInSubjects().map((b) => b.name) as [string, ...string[]];

/** The params of `eval.start`: exactly one of `preset`, `model`, `real`. */
export const evalParams: Schema<EvalParams> = s.declared(declaredEvalParams, {
  preset: s.optional(s.enum(["tiny", "small"] as const, {
    description: "A fresh, untrained preset cascade (the wiring, not the quality).",
  })),
  real: s.optional(s.boolean({
    description: "Score the subject's own images instead of generating (the 'real images' row).",
  })),
  builtInSubject: s.optional(s.enum(subjectNames, {
    description: "A built-in subject instead of `subject` (default dog).",
  })),
});

/**
 * The `eval` job kind (served as `eval.start`): eval/'s `runEval` in a Worker, through the
 * adapter rpc/jobs/eval_job.ts. The report (`metrics.json`, `index.html`, `grids/*.png`) lands
 * in the job's folder `jobs/<job id>/`, served at `/files/jobs/<job id>/…`; progress is one step
 * per prompt (PRES counts as one). Cancellation stops before the next generation; not resumable
 * (start it again). Path params are resolved inside the data root (checked in the server before
 * queueing).
 *
 * @param options `backend`: the server's `--backend` (default automatic).
 * @returns The job kind.
 *
 * @example
 * ```ts
 * import { evalJobKind } from "./eval.ts";
 * console.log(evalJobKind().name); // eval
 * ```
 */
export function evalJobKind(options: { backend?: string } = {}): JobKind<EvalParams, unknown> {
  const kind = workerJobKind({
    name: "eval",
    summary: "Evaluates a cascade on a subject (subject/prompt fidelity, PRES, DIV); " +
      "metrics.json, index.html and grids in jobs/<job id>/.",
    params: evalParams,
    module: new URL("../jobs/eval_job.ts", import.meta.url),
    data: { backend: options.backend },
    prepare: async (params, { dataRoot }) => {
      const given = (["preset", "model", "real"] as const).filter((f) =>
        f === "real" ? params.real === true : params[f] !== undefined
      );
      if (given.length === 0) {
        throw invalidParams("model", "is required unless 'preset' or 'real: true' is given");
      }
      if (given.length > 1) {
        throw invalidParams(given[1], `must not be given together with '${given[0]}'`);
      }
      if (params.subject !== undefined && params.builtInSubject !== undefined) {
        throw invalidParams("builtInSubject", "must not be given together with 'subject'");
      }
      if (params.subject !== undefined && params.classNoun === undefined) {
        throw invalidParams("classNoun", "is required with 'subject' (a folder)");
      }
      if (params.model !== undefined) await dataRoot.resolve(params.model, { field: "model" });
      if (params.subject !== undefined) {
        await dataRoot.resolve(params.subject, { field: "subject" });
      }
    },
  });
  return withDataRootPaths(kind, ["model", "subject"]);
}
