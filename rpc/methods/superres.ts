import type { JobKind } from "../job_kind.ts";
import { invalidParams } from "../rpc_error.ts";
import { s, type Schema } from "../schema.ts";
import { workerJobKind } from "../worker_job_kind.ts";
import type { SuperResJobParams } from "../jobs/superres_job.ts";
import { inModelFolder } from "./_model_folder_kind.ts";
// The declaration alone (no tfjs in the server thread).
import { superResParams as declaredSuperResParams } from "../../superres/superres_params.ts";
import { LORA_PARAM_NAMES } from "../../diffusion/model/lora_params.ts";

/** The validated params of `superres.start` (paths relative to the data root). */
export type SuperResParams = SuperResJobParams;

/** The params of `superres.start`. */
export const superResParams: Schema<SuperResParams> = s.declared(declaredSuperResParams, {
  preset: s.optional(s.enum(["tiny", "small"] as const, {
    description: "A fresh preset cascade instead of `model` (default tiny when neither is given).",
  })),
});

/**
 * The `superres` job kind (served as `superres.start`): instance-specific SR fine-tuning
 * (superres/'s `fineTuneSuperRes`) in a Worker, through the adapter rpc/jobs/superres_job.ts. The
 * run folder is `<data root>/models/<job id>/`; the personalised cascade
 * (`cascade.safetensors`) lands there, where `model.list` and `sample {model}` find it.
 * Resumable: cancellation checkpoints, `jobs.resume` continues.
 *
 * @param options `backend`: the server's `--backend` (default automatic).
 * @returns The job kind.
 *
 * @example
 * ```ts
 * import { superResJobKind } from "./superres.ts";
 * console.log(superResJobKind().name); // superres
 * ```
 */
export function superResJobKind(
  options: { backend?: string } = {},
): JobKind<SuperResParams, unknown> {
  const kind = workerJobKind({
    name: "superres",
    summary: "Fine-tunes a cascade's SR stages on the subject; cascade in models/<job id>/.",
    params: superResParams,
    resumable: true,
    module: new URL("../jobs/superres_job.ts", import.meta.url),
    data: { backend: options.backend },
    prepare: async (params, { dataRoot }) => {
      if (params.preset !== undefined && params.model !== undefined) {
        throw invalidParams("model", "must not be given together with 'preset'");
      }
      if (params.stage !== undefined && params.allStages) {
        throw invalidParams("allStages", "must not be given together with 'stage'");
      }
      for (const k of LORA_PARAM_NAMES) {
        if (params[k] !== undefined && params.method !== "lora") {
          throw invalidParams(
            k,
            `needs method 'lora': current value is ${JSON.stringify(params[k])}`,
          );
        }
      }
      if (params.model !== undefined) await dataRoot.resolve(params.model, { field: "model" });
      if (params.subject !== undefined) {
        await dataRoot.resolve(params.subject, { field: "subject" });
      }
    },
  });
  return inModelFolder(kind, ["model", "subject"]);
}
