import type { JobKind } from "../job_kind.ts";
import { invalidParams } from "../rpc_error.ts";
import { s, type Schema } from "../schema.ts";
import { workerJobKind } from "../worker_job_kind.ts";
import { inModelFolder } from "./_model_folder_kind.ts";
// The declaration alone (its public light entry, dreambooth/deno.json "./params"): the server thread
// must not load tfjs.
import { type DreamBoothFields, dreamboothParams } from "../../dreambooth/dreambooth_params.ts";

/**
 * The validated params of `train.start`: the DreamBooth parameters declared in
 * dreambooth/dreambooth_params.ts (all optional: the defaults of `deno task train`; `subject` is the
 * instance folder relative to the data root, `model` the base model relative to it) plus `preset`.
 */
export type TrainParams = DreamBoothFields & {
  /** A fresh preset base model (`tiny` for CI) instead of `model`. */
  preset?: "tiny" | "small";
};

/** The params of `train.start`, derived from the DreamBooth declaration (bounds, defaults, help). */
export const trainParams: Schema<TrainParams> = s.declared(dreamboothParams, {
  preset: s.optional(s.enum(["tiny", "small"] as const, {
    description: "A fresh preset base model instead of `model` (`tiny` for CI).",
  })),
});

/**
 * The `train` job kind (served as `train.start`): DreamBooth fine-tuning through
 * dreambooth/dreambooth_rpc_job.ts in a Worker (through the adapter rpc/jobs/train_job.ts). The model folder is `<data root>/models/<job id>/`
 * (so `model.list` finds its `model.safetensors` and `sample {model}` takes it); cancellation stops
 * at the next step and leaves a checkpoint there, which `jobs.resume` continues from. Path params
 * are resolved inside the data root (checked in the server before queueing).
 *
 * @param options `backend`: the server's `--backend` (default automatic).
 * @returns The job kind.
 *
 * @example
 * ```ts
 * import { trainJobKind } from "./train.ts";
 * console.log(trainJobKind().name); // train
 * ```
 */
export function trainJobKind(options: { backend?: string } = {}): JobKind<TrainParams, unknown> {
  const kind = workerJobKind({
    name: "train",
    summary: "DreamBooth fine-tuning; the model lands in models/<job id>/ (model.list, sample).",
    params: trainParams,
    resumable: true,
    module: new URL("../jobs/train_job.ts", import.meta.url),
    data: { backend: options.backend },
    prepare: async (params, { dataRoot }) => {
      if (params.preset !== undefined && params.model !== undefined) {
        throw invalidParams("model", "must not be given together with 'preset'");
      }
      if (params.model !== undefined) await dataRoot.resolve(params.model, { field: "model" });
      if (params.subject !== undefined) {
        await dataRoot.resolve(params.subject, { field: "subject" });
      }
    },
  });
  return inModelFolder(kind, ["model", "subject"]);
}
