import { builtInSubjects } from "../../data/mod.ts";
import type { JobKind } from "../job_kind.ts";
import { invalidParams } from "../rpc_error.ts";
import { s, type Schema } from "../schema.ts";
import { workerJobKind } from "../worker_job_kind.ts";
import type { EvalJobParams } from "../jobs/eval_job.ts";
import { withDataRootPaths } from "./_model_folder_kind.ts";

/** The validated params of `eval.start` (paths relative to the data root). */
export type EvalParams = EvalJobParams;

const subjectNames = builtInSubjects().map((b) => b.name) as [string, ...string[]];

/** The params of `eval.start`: exactly one of `preset`, `model`, `real`. */
export const evalParams: Schema<EvalParams> = s.object({
  preset: s.optional(s.enum(["tiny", "small"] as const, {
    description: "A fresh, untrained preset cascade (the wiring, not the quality).",
  })),
  model: s.optional(s.string({
    minLength: 1,
    maxLength: 4096,
    description: "Cascade relative to the data root: a .safetensors file, or a folder holding " +
      "cascade.safetensors or model.safetensors (e.g. a train job's models/<id>).",
  })),
  real: s.optional(s.boolean({
    description: "Score the subject's own images instead of generating (the 'real images' row).",
  })),
  subject: s.optional(s.string({
    minLength: 1,
    maxLength: 4096,
    description: "Subject image folder relative to the data root (needs classNoun).",
  })),
  builtInSubject: s.optional(s.enum(subjectNames, {
    description: "A built-in subject instead of `subject` (default dog).",
  })),
  classNoun: s.optional(s.string({
    minLength: 1,
    maxLength: 100,
    description: "Class noun (default: the built-in subject's; required with `subject`).",
  })),
  identifier: s.optional(s.string({ minLength: 1, maxLength: 100, description: "Default sks." })),
  samples: s.optional(
    s.integer({ minimum: 1, maximum: 64, description: "Images per prompt (4)." }),
  ),
  pres: s.optional(s.integer({
    minimum: 1,
    maximum: 256,
    description: "Images of the class prompt for PRES (default 8).",
  })),
  prompts: s.optional(s.integer({
    minimum: 1,
    maximum: 24,
    description: "Use only the first N DreamBench prompts (default all 24).",
  })),
  steps: s.optional(s.integer({
    minimum: 1,
    maximum: 1000,
    description: "Sampler steps per stage (default: the cascade's).",
  })),
  stages: s.optional(s.integer({ minimum: 1, maximum: 8, description: "Run only the first N." })),
  guidance: s.optional(s.number({
    minimum: 0,
    maximum: 100,
    description: "Guidance weight (default: the cascade's).",
  })),
  seed: s.optional(s.integer({ minimum: 0, maximum: 2 ** 31 - 1, description: "Default 0." })),
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
