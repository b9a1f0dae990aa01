import type { JobKind } from "../job_kind.ts";
import { invalidParams } from "../rpc_error.ts";
import { s, type Schema } from "../schema.ts";
import { workerJobKind } from "../worker_job_kind.ts";
import { inModelFolder } from "./_model_folder_kind.ts";

/** The validated params of `train.start` (all optional: the defaults of `deno task train`). */
export interface TrainParams {
  /** A fresh preset base model (`tiny` for CI) instead of `model`. */
  preset?: "tiny" | "small";
  /** Base model relative to the data root: a cascade checkpoint or a folder holding one. */
  model?: string;
  /** Instance image folder relative to the data root (default: the built-in dog). */
  subject?: string;
  /** Class noun (default `dog`). */
  classNoun?: string;
  /** Rare-token identifier (drawn when absent). */
  identifier?: string;
  /** Training steps. */
  steps?: number;
  /** Learning rate. */
  learningRate?: number;
  /** Prior preservation (default true). */
  priorPreservation?: boolean;
  /** Class-prior images to generate. */
  numClassImages?: number;
  /** Fine-tune the text encoder as well. */
  trainTextEncoder?: boolean;
  /** Seed. */
  seed?: number;
  /** Ancestral sampler steps per class image (default 25). */
  classSteps?: number;
  /** Fine-tune the SR stages after the base stage (default true). */
  superRes?: boolean;
  /** Render the final samples (default true). */
  finalSamples?: boolean;
  /** Validation grid every N steps, 0 = never (default 100). */
  sampleEverySteps?: number;
}

/** The params of `train.start`. */
export const trainParams: Schema<TrainParams> = s.object({
  preset: s.optional(s.enum(["tiny", "small"] as const, {
    description: "A fresh preset base model instead of `model` (`tiny` for CI).",
  })),
  model: s.optional(s.string({
    minLength: 1,
    maxLength: 4096,
    description: "Base cascade (.safetensors, or a folder holding model.safetensors) " +
      "relative to the data root.",
  })),
  subject: s.optional(s.string({
    minLength: 1,
    maxLength: 4096,
    description: "Instance image folder relative to the data root (default: the built-in dog).",
  })),
  classNoun: s.optional(s.string({ minLength: 1, maxLength: 100, description: "Default dog." })),
  identifier: s.optional(s.string({
    minLength: 1,
    maxLength: 100,
    description: "Rare-token identifier (drawn when absent).",
  })),
  steps: s.optional(s.integer({ minimum: 1, maximum: 1_000_000, description: "Default 200." })),
  learningRate: s.optional(s.number({
    exclusiveMinimum: 0,
    maximum: 1,
    description: "Learning rate (finite, > 0).",
  })),
  priorPreservation: s.optional(s.boolean({ description: "Default true." })),
  numClassImages: s.optional(s.integer({
    minimum: 1,
    maximum: 10_000,
    description: "Class-prior images to generate.",
  })),
  trainTextEncoder: s.optional(s.boolean({ description: "Fine-tune the text encoder too." })),
  seed: s.optional(s.integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
  classSteps: s.optional(s.integer({
    minimum: 1,
    maximum: 1000,
    description: "Sampler steps per class image (default 25).",
  })),
  superRes: s.optional(s.boolean({
    description: "Fine-tune the SR stages after the base stage (default true).",
  })),
  finalSamples: s.optional(s.boolean({ description: "Render the final samples (default true)." })),
  sampleEverySteps: s.optional(s.integer({
    minimum: 0,
    maximum: 1_000_000,
    description: "Validation grid every N steps, 0 = never (default 100).",
  })),
});

/**
 * The `train` job kind (served as `train.start`): DreamBooth fine-tuning through
 * training/dreambooth_rpc_job.ts in a Worker (through the adapter rpc/jobs/train_job.ts). The model folder is `<data root>/models/<job id>/`
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
