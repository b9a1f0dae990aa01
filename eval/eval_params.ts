/**
 * The parameters of an evaluation run (`deno task eval`, the RPC `eval.start` job), declared
 * once: the CLI's parser and usage text and the RPC schema derive from them. This file imports
 * nothing heavy, so the server thread may load it.
 *
 * @module
 */
import {
  declareParams,
  type ParamDeclaration,
  type ParamFields,
  type ParamSpecs,
} from "../params/mod.ts";

const evalSpecs = {
  model: {
    type: "string",
    minLength: 1,
    maxLength: 4096,
    metavar: "PATH",
    help:
      "cascade checkpoint, or a folder holding cascade.safetensors, model.safetensors or one\n" +
      "checkpoint (over RPC relative to the data root); on the command line also preset:NAME and\n" +
      '"real" (score the subject\'s own images, the paper\'s "real images" row)',
  },
  subject: {
    type: "string",
    minLength: 1,
    maxLength: 4096,
    metavar: "NAME|DIR",
    help:
      "built-in subject or a folder of images (over RPC: a folder relative to the data root;\n" +
      "name a built-in one with builtInSubject)",
    defaultText: "dog",
  },
  classNoun: {
    type: "string",
    minLength: 1,
    maxLength: 100,
    option: "class",
    metavar: "NOUN",
    help: "class noun (required with a folder)",
    defaultText: "the model's (personalised models carry it), else the built-in subject's",
  },
  identifier: {
    type: "string",
    minLength: 1,
    maxLength: 100,
    metavar: "WORD",
    help: "rare-token identifier in the prompts",
    defaultText: "the model's (personalised models carry it), else sks",
  },
  out: {
    type: "string",
    minLength: 1,
    default: "runs/eval/report",
    field: false,
    metavar: "DIR",
    help: "output folder",
  },
  samples: { type: "integer", min: 1, max: 64, help: "images per prompt", defaultText: "4" },
  pres: {
    type: "integer",
    min: 1,
    max: 256,
    help: "images of the class prompt for PRES",
    defaultText: "8",
  },
  prompts: {
    type: "integer",
    min: 1,
    max: 24,
    help: "use only the first N prompts",
    defaultText: "all 24",
  },
  steps: {
    type: "integer",
    min: 1,
    max: 1000,
    help: "sampler steps of every stage",
    defaultText: "the cascade's for the base, --sr-steps for the SR stages",
  },
  srSteps: {
    type: "integer",
    min: 1,
    max: 1000,
    help: "sampler steps of each super-resolution stage (the 64² the eval nets read hardly\n" +
      "changes, and it halves SR's time)",
    defaultText: "10, or the stage's own when fewer",
  },
  stages: {
    type: "integer",
    min: 1,
    max: 8,
    help: "run only the first N stages",
    defaultText: "up to the first stage at ≥ 128²",
  },
  guidance: {
    type: "number",
    min: 0,
    max: 100,
    metavar: "W",
    help: "guidance weight",
    defaultText: "the cascade's",
  },
  seed: {
    type: "integer",
    min: 0,
    max: 2 ** 31 - 1,
    help: "generation and bootstrap seed",
    defaultText: "0",
  },
} as const satisfies ParamSpecs;

/**
 * The evaluation parameters.
 *
 * @example
 * ```ts
 * import { evalParams } from "./eval_params.ts";
 * console.log(evalParams.name("classNoun", "option")); // --class
 * ```
 */
export const evalParams: ParamDeclaration<typeof evalSpecs> = declareParams("evaluate", evalSpecs);

/** The evaluation parameters as RPC fields. */
export type EvalFields = ParamFields<typeof evalSpecs>;
