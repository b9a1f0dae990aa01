/**
 * The parameters of SR fine-tuning (`deno task train-sr`, the RPC `superres.start` job), declared
 * once: the CLI's parser and usage text and the RPC schema derive from them. Bounds match
 * `createSrFineTuneConfig`'s. This file imports nothing heavy, so the server thread may load it.
 *
 * @module
 */
import {
  declareParams,
  type ParamDeclaration,
  type ParamFields,
  type ParamSpecs,
} from "../params/mod.ts";
// The LoRA options, declared once for every trainer (deno task train spreads them too).
import { loraParamSpecs } from "../diffusion/model/lora_params.ts";

const superResSpecs = {
  model: {
    type: "string",
    minLength: 1,
    maxLength: 4096,
    metavar: "PATH|preset:NAME",
    help: "cascade checkpoint, or a folder holding cascade.safetensors or model.safetensors\n" +
      "(over RPC relative to the data root)",
    defaultText: "the default model",
  },
  subjectDir: {
    type: "string",
    minLength: 1,
    maxLength: 4096,
    option: "subject",
    field: "subject",
    metavar: "NAME|DIR",
    help: "built-in subject (dog, cat, …) or a folder of photos",
    defaultText: "dog",
  },
  stage: { type: "integer", min: 1, max: 2, help: "the SR stage to fine-tune", defaultText: "1" },
  allStages: { type: "boolean", default: false, help: "fine-tune every SR stage" },
  augLevel: {
    type: "number",
    min: 0,
    max: 1,
    metavar: "T",
    help: "t_aug while fine-tuning (the augmentation's own diffusion time)",
    defaultText: "1e-5",
  },
  sampleAugLevel: {
    type: "number",
    min: 0,
    max: 1,
    metavar: "T",
    help: "t_aug at inference for the fine-tuned stages",
    defaultText: "--aug-level",
  },
  steps: { type: "integer", min: 1, max: 10_000_000, help: "steps per stage", defaultText: "60" },
  learningRate: {
    type: "number",
    exclusiveMin: 0,
    max: 10,
    option: "lr",
    help: "learning rate",
    defaultText: "2e-4",
  },
  batchSize: {
    type: "integer",
    min: 1,
    max: 1024,
    option: "batch",
    help: "examples per step",
    defaultText: "4",
  },
  crop: {
    type: "integer",
    min: 1,
    max: 4096,
    field: false,
    help: "random crop side for the fine-tuned stage(s)",
    defaultText: "none for stage 1, 128 for stage 2",
  },
  identifier: {
    type: "string",
    minLength: 1,
    maxLength: 100,
    metavar: "V",
    help: "the identifier [V]",
    defaultText: "the model's (personalised models carry it), else sks",
  },
  classNoun: {
    type: "string",
    minLength: 1,
    maxLength: 100,
    metavar: "NOUN",
    help: "class noun",
    defaultText: "the subject's",
  },
  prompt: {
    type: "string",
    minLength: 1,
    maxLength: 1000,
    field: false,
    metavar: "TEMPLATE",
    help: "prompt with {identifier} and {class}",
    defaultText: '"a {identifier} {class}"',
  },
  dropIdentifier: {
    type: "boolean",
    default: false,
    field: false,
    help: 'train on "a {class}" (no identifier)',
  },
  runDir: {
    type: "string",
    minLength: 1,
    field: false,
    metavar: "DIR",
    help: "run folder",
    defaultText: "runs/superres/<subject>",
  },
  resume: { type: "boolean", default: false, field: false, help: "continue the runs in --run-dir" },
  timeBudgetMinutes: {
    type: "number",
    exclusiveMin: 0,
    field: false,
    option: "time-budget-min",
    metavar: "M",
    help: "stop cleanly (checkpoint) after M minutes per stage",
  },
  checkpointEverySteps: {
    type: "integer",
    min: 0,
    max: 10_000_000,
    field: false,
    option: "checkpoint-every",
    help: "checkpoint every N steps",
    defaultText: "50",
  },
  sampleEverySteps: {
    type: "integer",
    min: 0,
    max: 10_000_000,
    field: false,
    option: "sample-every",
    help: "sample grid every N steps (0 = none)",
    defaultText: "--steps, i.e. before and after",
  },
  sampleSteps: {
    type: "integer",
    min: 0,
    max: 1000,
    help: "sampler steps of the sample grid (0 = none)",
    defaultText: "10",
  },
  seed: { type: "integer", min: 0, max: 2 ** 31 - 1, help: "seed", defaultText: "0" },
  method: {
    type: "enum",
    values: ["dreambooth", "lora"],
    default: "dreambooth",
    metavar: "NAME",
    help: "dreambooth (every weight of the SR stage), or lora (low-rank adapters only, as\n" +
      "deno task train --method lora: <run-dir>/lora.safetensors, merged into cascade.safetensors)",
  },
  ...loraParamSpecs,
} as const satisfies ParamSpecs;

/**
 * The SR fine-tuning parameters.
 *
 * @example
 * ```ts
 * import { superResParams } from "./superres_params.ts";
 * console.log(superResParams.name("subjectDir", "field")); // subject
 * ```
 */
export const superResParams: ParamDeclaration<typeof superResSpecs> = declareParams(
  "fine-tune",
  superResSpecs,
);

/** The SR fine-tuning parameters as RPC fields. */
export type SuperResFields = ParamFields<typeof superResSpecs>;
