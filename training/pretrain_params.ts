/**
 * The parameters of a pretraining run (`deno task pretrain`), declared once: the parser, the usage
 * text and the checks derive from them.
 *
 * @module
 */
import { declareParams, type ParamDeclaration, type ParamSpecs } from "../params/mod.ts";

const pretrainSpecs = {
  stage: {
    type: "enum",
    values: ["base", "sr1", "sr2"],
    help: "the stage to train (required); run them in order",
  },
  steps: {
    type: "integer",
    min: 1,
    max: 10_000_000,
    help: "train until step N in all",
    defaultText: "base 5000, sr1 1500, sr2 800",
  },
  batchSize: {
    type: "integer",
    min: 1,
    max: 4096,
    option: "batch",
    metavar: "B",
    help: "examples per step",
    defaultText: "16 base, 8 SR",
  },
  learningRate: {
    type: "number",
    exclusiveMin: 0,
    max: 10,
    option: "lr",
    help: "Adam learning rate",
    defaultText: "5e-4",
  },
  resume: {
    type: "boolean",
    default: false,
    help: "continue the run in --run from its checkpoint (none: start fresh)",
  },
  runDir: {
    type: "string",
    minLength: 1,
    option: "run",
    metavar: "DIR",
    help: "run folder",
    defaultText: "runs/pretrain/<stage>",
  },
  preset: { type: "enum", values: ["small", "tiny"], default: "small", help: "cascade preset" },
  baseRun: {
    type: "string",
    minLength: 1,
    metavar: "DIR|FILE",
    help: "SR stages: the base run folder, or an exported cascade .safetensors, whose\n" +
      "text encoder the stage uses, frozen",
    defaultText: "runs/pretrain/base",
  },
  crop: {
    type: "integer",
    min: 0,
    max: 4096,
    help: "SR stages: random crop side, 0 = none",
    defaultText: "sr1 64, sr2 128",
  },
  initFrom: {
    type: "string",
    minLength: 1,
    metavar: "FILE",
    help:
      "start a fresh run from an exported cascade (e.g. models/default/cascade.safetensors);\n" +
      "SR stages take only their UNet from it and keep the --base-run's text encoder",
  },
  objectScale: {
    type: "string",
    metavar: "MIN,MAX",
    help: "object size range in the training scenes, as a fraction of the image side\n" +
      "(larger objects give a 32² base more pixels per shape)",
    defaultText: "the world's, 0.4,0.62",
  },
  objectWeight: {
    type: "number",
    exclusiveMin: 0,
    max: 1000,
    metavar: "K",
    help: "loss weight of the object's pixels against the background's (K > 1 spends more\n" +
      "of the gradient on the objects)",
    defaultText: "1, the plain loss",
  },
  emaDecay: {
    type: "number",
    exclusiveMin: 0,
    exclusiveMax: 1,
    metavar: "D",
    help: "keep an exponential moving average of the weights with decay D (e.g. 0.999: about\n" +
      "the last 1,000 steps), which the export ships; the sample grids show the raw weights",
    defaultText: "none",
  },
  dataSeed: {
    type: "integer",
    min: 0,
    max: 2 ** 24 - 1,
    help: "EmojiScenes stream seed (eval/ owns the seeds from 2^24 up); give a run that\n" +
      "continues another one (--init-from) fresh scenes",
    defaultText: "1048576 + stage index",
  },
  timeBudgetMinutes: {
    type: "number",
    exclusiveMin: 0,
    option: "time-budget-min",
    metavar: "M",
    help: "stop cleanly, with a checkpoint, before M minutes",
    defaultText: "none",
  },
  checkpointEverySteps: {
    type: "integer",
    min: 0,
    max: 10_000_000,
    default: 250,
    option: "checkpoint-every",
    help: "checkpoint every N steps (0 = at the end, or by time, only)",
  },
  checkpointEveryMinutes: {
    type: "number",
    min: 0,
    max: 10_000,
    default: 10,
    option: "checkpoint-minutes",
    metavar: "M",
    help: "and at least every M minutes",
  },
  sampleEverySteps: {
    type: "integer",
    min: 0,
    max: 10_000_000,
    default: 250,
    option: "sample-every",
    help: "sample grid + loss curve every N steps",
  },
  logEverySteps: {
    type: "integer",
    min: 1,
    max: 10_000_000,
    default: 10,
    option: "log-every",
    help: "progress line every N steps",
  },
} as const satisfies ParamSpecs;

/**
 * The pretraining parameters.
 *
 * @example
 * ```ts
 * import { pretrainParams } from "./pretrain_params.ts";
 * console.log(pretrainParams.name("batchSize", "option")); // --batch
 * ```
 */
export const pretrainParams: ParamDeclaration<typeof pretrainSpecs> = declareParams(
  "pretrain",
  pretrainSpecs,
);
