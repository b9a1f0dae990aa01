/**
 * The parameters of a DreamBooth run, declared once: `deno task train` parses and documents them
 * from here, the RPC `train.start` schema is derived from here, and {@link trainDreamBooth} checks
 * its options and fills its defaults from here. λ (`priorLossWeight`, `--prior-weight`) goes from
 * this declaration through the pipeline (`dreambooth_train.ts`) to the loss of Eq. 2.
 *
 * @module
 */
// params/ directly, not through deps.ts: the RPC server thread imports this file and must not load tfjs.
import {
  declareParams,
  type ParamDeclaration,
  type ParamFields,
  type ParamInput,
  type ParamSpecs,
} from "../params/mod.ts";
// The LoRA options, declared once for every trainer (deno task train-sr spreads them too).
import { loraParamSpecs } from "../diffusion/model/lora_params.ts";

const dreamboothSpecs = {
  instanceDir: {
    type: "string",
    minLength: 1,
    maxLength: 4096,
    field: "subject",
    metavar: "DIR",
    help: "folder of subject photos",
    defaultText: "the built-in dog, data/subjects/dog",
  },
  classNoun: {
    type: "string",
    maxLength: 100,
    metavar: "NOUN",
    help: 'class noun ("" = ablation, needs --no-prior-preservation)',
    defaultText: "the folder's subject.json",
  },
  identifier: {
    type: "string",
    minLength: 1,
    maxLength: 100,
    help: "the identifier [V] (must round-trip through the tokenizer)",
    defaultText: "drawn by the paper's rule",
  },
  instancePrompt: {
    type: "string",
    minLength: 1,
    maxLength: 1000,
    metavar: "TEXT",
    help: "prompt of the instance images ({identifier} or [V] and {class} are filled in)",
    defaultText: '"a {identifier} {class}"',
  },
  classPrompt: {
    type: "string",
    minLength: 1,
    maxLength: 1000,
    metavar: "TEXT",
    help: "prompt of the class-prior images ({class} is filled in)",
    defaultText: '"a {class}"',
  },
  classDir: {
    type: "string",
    minLength: 1,
    maxLength: 4096,
    metavar: "DIR",
    help:
      "your own class-prior images; only the missing ones (up to --num-class-images) are generated",
    defaultText: "none: all generated",
  },
  concepts: {
    type: "string",
    minLength: 1,
    maxLength: 4096,
    metavar: "FILE", // over RPC: a file under the data root, whose folders must be too
    help: "JSON list of concepts trained together, each with its own identifier and prior term\n" +
      "(fields: subject|instanceDir, classNoun, identifier, instancePrompt, classDir, classPrompt;\n" +
      "see dreambooth/README.md); excludes the one-subject options",
    defaultText: "none: one subject",
  },
  model: {
    type: "string",
    minLength: 1,
    maxLength: 4096,
    metavar: "PATH|preset:NAME|hf:ORG/NAME",
    help:
      "base model: cascade checkpoint, model folder, pretraining checkpoint, preset:tiny|small;\n" +
      "or a DeepFloyd IF stage I diffusers folder or hf:ORG/NAME[@REV] (IF DreamBooth)",
    defaultText: "models/default, else the newest runs/pretrain/ checkpoint, else preset:tiny",
  },
  srModel: {
    type: "string",
    minLength: 1,
    maxLength: 4096,
    metavar: "DIR|hf:ORG/NAME",
    help: "DeepFloyd IF stage II folder or hf:ORG/NAME[@REV], fine-tuned after stage I (IF only)",
    defaultText: "none: stage I only",
  },
  srNoiseLevel: {
    type: "integer",
    min: 0,
    max: 999,
    default: 0,
    metavar: "N",
    help: "IF stage II fine-tuning noise-augmentation level (IF's integer level; the paper's\n" +
      "t_aug = 1e-5 lies below level 0, see reports/2026-12-07-if-noise-level-mapping.md)",
  },
  out: {
    type: "string",
    minLength: 1,
    field: false,
    metavar: "DIR",
    help: "output model folder",
    defaultText: "runs/dreambooth/<subject>",
  },
  method: {
    type: "enum",
    values: ["dreambooth", "lora", "textual-inversion"],
    default: "dreambooth",
    metavar: "NAME",
    help:
      "dreambooth (every weight), lora (low-rank adapters only: base and SR stages, or IF stage I;\n" +
      "adapters in <out>/lora.safetensors, merged into model.safetensors), or textual-inversion\n" +
      "(only the identifier's embedding rows are trained; no prior term)",
  },
  ...loraParamSpecs,
  steps: { type: "integer", min: 1, max: 1_000_000, default: 200, help: "training steps" },
  learningRate: {
    type: "number",
    exclusiveMin: 0,
    max: 10,
    option: "lr",
    help: "learning rate",
    defaultText: "1e-4; 5e-4 for lora; 5e-3 for textual-inversion",
  },
  instanceBatch: {
    type: "integer",
    min: 1,
    max: 256,
    default: 4,
    option: "batch",
    help: "instance examples per step; as many class examples join them",
  },
  priorPreservation: {
    type: "boolean",
    default: true,
    help: "prior preservation (the class-prior term of Eq. 2; off = naive fine-tuning)",
  },
  priorLossWeight: {
    type: "number",
    min: 0,
    max: 1000,
    default: 1,
    option: "prior-weight",
    metavar: "L",
    help: "λ of Eq. 2, the weight of the class-prior term",
  },
  numClassImages: {
    type: "integer",
    min: 1,
    max: 10_000,
    default: 64,
    help: "class-prior images (cached in --cache-dir)",
  },
  classSteps: {
    type: "integer",
    min: 1,
    max: 1000,
    default: 25,
    help: "ancestral sampler steps per class image",
  },
  trainTextEncoder: {
    type: "boolean",
    default: false,
    help: "fine-tune the text encoder too (default frozen; with --method lora: its adapters)",
  },
  resume: {
    type: "boolean",
    default: false,
    field: false,
    help: "continue the run in --out from its last checkpoint",
  },
  checkpointEverySteps: {
    type: "integer",
    min: 0,
    max: 1_000_000,
    default: 50,
    option: "checkpoint-every",
    help: "checkpoint every N steps (0 = at the end, or by time, only)",
  },
  sampleEverySteps: {
    type: "integer",
    min: 0,
    max: 1_000_000,
    default: 100,
    option: "validation-every",
    help:
      "grid of the validation prompts every N steps, in <out>/samples/, with eval's world-net metrics in <out>/validation.jsonl when they apply (0 = end only)",
  },
  validationPrompts: {
    type: "strings",
    minLength: 1,
    maxLength: 1000,
    maxItems: 64,
    option: "validation-prompt",
    metavar: "TEXT",
    help: "a prompt of the validation grid ({identifier} or [V] and {class} are filled in)",
    defaultText: "six DreamBench prompts and the class prompt",
  },
  checkpointsKeep: {
    type: "integer",
    min: 0,
    max: 10_000,
    default: 0,
    metavar: "K",
    help: "also keep the newest K step checkpoints in <out>/checkpoints/ (older ones deleted)",
  },
  lrSchedule: {
    type: "enum",
    values: ["constant", "cosine"],
    default: "constant",
    help: "learning-rate schedule after the warm-up (cosine: to 0 at the last step)",
  },
  lrWarmup: {
    type: "integer",
    min: 0,
    max: 1_000_000,
    default: 0,
    help: "steps of linear learning-rate warm-up from 0",
  },
  gradAccum: {
    type: "integer",
    min: 1,
    max: 256,
    default: 1,
    help: "gradient accumulation: N micro-batches of --batch per step (effective batch N×batch)",
  },
  emaDecay: {
    type: "number",
    exclusiveMin: 0,
    exclusiveMax: 1,
    metavar: "D",
    help: "keep an EMA of the fine-tuned weights (e.g. 0.999) and ship it as the model",
    defaultText: "none",
  },
  snrGamma: {
    type: "number",
    exclusiveMin: 0,
    max: 1_000_000,
    default: 5,
    metavar: "G",
    help: "γ of the min-SNR-γ loss weight w_t = min(SNR, γ)",
  },
  noiseOffset: {
    type: "number",
    min: 0,
    max: 1,
    default: 0,
    metavar: "S",
    help: "offset noise: ε + S·δ with δ ~ N(0, 1) per image and channel",
  },
  logEverySteps: {
    type: "integer",
    min: 1,
    max: 1_000_000,
    default: 10,
    option: "log-every",
    help: "progress line every N steps",
  },
  timeBudgetMinutes: {
    type: "number",
    exclusiveMin: 0,
    option: "time-budget-min",
    metavar: "M",
    help: "stop cleanly (checkpoint) before M minutes of training",
    defaultText: "none",
  },
  cacheDir: {
    type: "string",
    minLength: 1,
    field: false,
    metavar: "DIR",
    help: "class-image cache",
    defaultText: "runs/cache/class_images",
  },
  seed: {
    type: "integer",
    min: 0,
    max: 2 ** 31 - 1,
    default: 0,
    help: "seed of the identifier draw, data, class images, noise",
  },
  flip: { type: "boolean", default: true, help: "flip augmentation" },
  finalSamples: {
    type: "boolean",
    default: true,
    option: "samples",
    help: "the final DreamBench samples",
  },
  superRes: {
    type: "boolean",
    default: true,
    option: "superres",
    help: "the SR fine-tuning of the later stages",
  },
} as const satisfies ParamSpecs;

/**
 * The DreamBooth parameters (keys as in code; `--option` on the command line; the key, or
 * `subject` for `instanceDir`, over RPC). Bounds match what the trainer accepts, so a bad value is
 * refused before any work.
 *
 * @example
 * ```ts
 * import { dreamboothParams } from "./dreambooth_params.ts";
 * console.log(dreamboothParams.specs.priorLossWeight.default); // 1
 * console.log(dreamboothParams.name("priorLossWeight", "option")); // --prior-weight
 * ```
 */
export const dreamboothParams: ParamDeclaration<typeof dreamboothSpecs> = declareParams(
  "train",
  dreamboothSpecs,
);

/** The DreamBooth parameters as a caller gives them (every one optional). */
export type DreamBoothParams = ParamInput<typeof dreamboothParams.specs>;

/** The DreamBooth parameters as RPC fields (`subject` for `instanceDir`; no `out`, `resume`, `cacheDir`). */
export type DreamBoothFields = ParamFields<typeof dreamboothParams.specs>;
