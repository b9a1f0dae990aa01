/**
 * The parameters of sampling, declared once: `deno task sample` parses and documents them from
 * here and the RPC `sample`/`sample.start` schema is derived from here (this file imports nothing
 * heavy, so the server thread may load it).
 *
 * @module
 */
import {
  declareParams,
  type ParamDeclaration,
  type ParamFields,
  type ParamSpecs,
} from "../../params/mod.ts";

const sampleSpecs = {
  prompt: {
    type: "string",
    notBlank: true,
    maxLength: 10_000,
    help:
      "the prompt (required; longer than the text encoder reads: a warning says what is dropped);\n" +
      "with a personalised model, {identifier} (or [V]) and {class} are its identifier and class noun",
  },
  model: {
    type: "string",
    minLength: 1,
    maxLength: 4096,
    metavar: "FILE|DIR",
    help: "cascade checkpoint (.safetensors), or a folder holding cascade.safetensors\n" +
      "(models/default) or model.safetensors (a personalised model of deno task train);\n" +
      "or DeepFloyd IF: a stage I diffusers folder, hf:ORG/NAME[@REV], or an IF model of deno task train",
    defaultText: "the shipped default model, models/default",
  },
  preset: {
    type: "enum",
    values: ["tiny", "small"],
    help: "fresh (untrained) preset instead of a checkpoint",
  },
  seed: { type: "integer", min: 0, max: 2 ** 31 - 1, default: 0, help: "seed" },
  steps: {
    type: "integer",
    min: 1,
    max: 1000,
    help: "sampler steps for every stage",
    defaultText: "each stage's own",
  },
  guidance: {
    type: "number",
    min: 0,
    max: 100,
    metavar: "W",
    help: "classifier-free guidance weight, 1 = none",
    defaultText: "each stage's own",
  },
  sampler: {
    type: "enum",
    values: ["ddim", "ancestral"],
    help: "sampler kind",
    defaultText: "each stage's own",
  },
  stages: {
    type: "integer",
    min: 1,
    max: 8,
    help: "run only the first N stages",
    defaultText: "all",
  },
  // Cascades of this project only (refused for DeepFloyd IF). Over RPC, `lora` is relative to the
  // data root like `model`.
  lora: {
    type: "string",
    minLength: 1,
    maxLength: 4096,
    metavar: "FILE|DIR",
    help:
      "LoRA adapters (lora.safetensors of a deno task train --method lora run, or its folder)\n" +
      "applied to --model (then default: the base model they were trained on)",
    defaultText: "none; --model's lora.safetensors when --lora-scale is given",
  },
  loraScale: {
    type: "number",
    min: -100,
    max: 100,
    metavar: "S",
    help: "scale of the LoRA update (0 = the base model, 1 = as trained)",
    defaultText: "1",
  },
  // DeepFloyd IF only (deepfloyd/cli.ts and the RPC sample job sample IF models; refused for a
  // cascade). `count` is the command line's only (an RPC sample job writes one image).
  srModel: {
    type: "string",
    minLength: 1,
    maxLength: 4096,
    metavar: "DIR|hf:ORG/NAME",
    help: "IF only: stage II folder or hf:ORG/NAME[@REV] (64→256)",
    defaultText: "none: stage I only",
  },
  negativePrompt: {
    type: "string",
    maxLength: 10_000,
    metavar: "TEXT",
    help: "IF only: the negative prompt of classifier-free guidance",
    defaultText: '""',
  },
  count: {
    type: "integer",
    min: 1,
    max: 64,
    field: false,
    help: "IF only: images to sample (--out x.png gives x-000.png, x-001.png, …)",
    defaultText: "1",
  },
  srSteps: {
    type: "integer",
    min: 1,
    max: 1000,
    help: "IF only: stage II steps",
    defaultText: "50",
  },
  srGuidance: {
    type: "number",
    min: 0,
    max: 100,
    metavar: "W",
    help: "IF only: stage II guidance",
    defaultText: "4",
  },
  noiseLevel: {
    type: "integer",
    min: 0,
    max: 999,
    metavar: "N",
    help: "IF only: stage II noise augmentation of the upscaled stage I image",
    defaultText: "250",
  },
} as const satisfies ParamSpecs;

/** The parameters only DeepFloyd IF sampling takes (refused for a cascade of this project). */
export const IF_SAMPLE_ONLY = [
  "srModel",
  "negativePrompt",
  "count",
  "srSteps",
  "srGuidance",
  "noiseLevel",
] as const;

/** The parameters only the cascades of this project take (refused for DeepFloyd IF). */
export const CASCADE_SAMPLE_ONLY = ["lora", "loraScale"] as const;

/**
 * The sampling parameters (the same names on the command line, `--prompt`, and over RPC, `prompt`).
 *
 * @example
 * ```ts
 * import { sampleParams } from "./sample_params.ts";
 * console.log(sampleParams.specs.seed.default); // 0
 * ```
 */
export const sampleParams: ParamDeclaration<typeof sampleSpecs> = declareParams(
  "sample",
  sampleSpecs,
);

/** The sampling parameters as RPC fields. */
export type SampleFields = ParamFields<typeof sampleSpecs>;
