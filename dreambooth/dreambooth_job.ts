/**
 * DreamBooth fine-tuning of a cascade's base stage (paper §4.1–4.2) as a {@link TrainingJob} for
 * the shared run machinery ({@link runTraining}: atomic checkpoints, `--resume`, NaN guard, loss
 * log, sample grids, ETA, summary).
 *
 * Each step takes `instanceBatch` instance images (drawn from the images and their flips) with
 * the prompt "a [V] [class noun]" and, with prior preservation, as many class-prior images with
 * "a [class noun]", concatenates them into ONE batch and trains through the shared
 * {@link StageTrainer} with `dreamboothLoss` (Eq. 2: instance + λ·prior) as the step's loss. Every
 * UNet layer of the base stage is fine-tuned; the text encoder stays frozen unless
 * `trainTextEncoder`. All draws of step n depend only on (seed, n): a resumed run is bit for bit
 * the uninterrupted one.
 *
 * @module
 */
import { imagesToTensor } from "./deps.ts";
import {
  Cascade,
  EMA_PREFIX,
  type FloatImage,
  type NamedTensor,
  type tf,
  WeightEma,
} from "./deps.ts";
import { hashInts, Rng } from "./deps.ts";
import { type BatchLoss, StageTrainer, type StageTrainerConfig, type StepResult } from "./deps.ts";
import { loadTrainerState, type RunCheckpoint, saveTrainerState } from "./deps.ts";
import type { SampleGrid, TrainingJob } from "./deps.ts";
import { dreamboothBatchLoss } from "./dreambooth_loss.ts";
import { rgbImageFromUint8 } from "./deps.ts";
import { dreamboothParams } from "./dreambooth_params.ts";
import { resolveParams } from "../params/mod.ts";

/** Settings of a DreamBooth run: typed data, stored in the run's `config.json`. */
export interface DreamBoothConfig {
  /** The identifier's text ([V]). */
  readonly identifier: string;
  /** The class noun ("" = the no-class-noun ablation). */
  readonly classNoun: string;
  /** Prompt of the instance images. Default "a [V] [class noun]" ("a [V]" without a noun). */
  readonly instancePrompt: string;
  /** Prompt of the class-prior images. Default "a [class noun]". */
  readonly classPrompt: string;
  /** Use the prior-preservation term (false = naive fine-tuning). Default true. */
  readonly priorPreservation: boolean;
  /** λ of Eq. 2. Default 1. */
  readonly priorLossWeight: number;
  /**
   * Class-prior images generated and cycled through. Default 64: measured on this 2-core machine
   * (small preset, 25 ancestral steps, guidance 3, load ~7) one image costs ~3.6 s, so 64 take ~4
   * min, a quarter of the 15-minute budget of `deno task train`, and each is seen ~12 times in 200
   * steps of 4 prior rows; the paper's 200×N (1,000 for 5 photos) would take ~1 h here.
   */
  readonly numClassImages: number;
  /** Instance examples per step (as many prior examples join them). Default 4. */
  readonly instanceBatch: number;
  /** Fine-tune the text encoder too. Default false (frozen, as in the paper). */
  readonly trainTextEncoder: boolean;
  /** Trainer settings (learning rate, weighting, dropout, clipping, seed). */
  readonly trainer: Omit<StageTrainerConfig, "schedule">;
  /** Prompts of the validation grid. */
  readonly validationPrompts: readonly string[];
  /** Sampler steps of the validation grid. Default 25. */
  readonly sampleSteps: number;
  /** Seed of the validation grid. Default 1. */
  readonly sampleSeed: number;
  /**
   * Decay of an EMA of the fine-tuned weights (see `WeightEma`), checkpointed with the run and
   * shipped as the model ({@link DreamBoothJob.useAverage}). Default none (absent).
   */
  readonly emaDecay?: number;
  /**
   * The concepts of a several-subject run (`--concepts`), in batch order; the fields above
   * (identifier, class noun, prompts) are the first concept's. Absent in a one-subject run.
   */
  readonly concepts?: readonly ConceptPrompts[];
}

/** What a several-subject run records of each concept. */
export interface ConceptPrompts {
  /** The concept's name (built-in subject or folder). */
  readonly name: string;
  /** Its identifier. */
  readonly identifier: string;
  /** Its class noun. */
  readonly classNoun: string;
  /** Its instance prompt. */
  readonly instancePrompt: string;
  /** Its class-prior prompt. */
  readonly classPrompt: string;
}

/** The images of one concept of a several-subject job (see {@link createDreamBoothJob}). */
export interface JobConcept {
  /** The instance pool (flips included). */
  readonly instanceImages: readonly FloatImage[];
  /** The class-prior images (needed with prior preservation). */
  readonly classImages?: readonly FloatImage[];
  /** Per-image prompts aligned with `instanceImages` (null entries: the concept's prompt). */
  readonly instancePrompts?: readonly (string | null)[] | null;
}

/** Defaults of the trainer for DreamBooth: lr 1e-4 (measured; see README), no condition dropout. */
export const DEFAULT_DREAMBOOTH_TRAINER: Omit<StageTrainerConfig, "schedule"> = Object.freeze({
  learningRate: 1e-4,
  beta1: 0.9,
  beta2: 0.99,
  epsilon: 1e-8,
  weighting: "minSnr",
  gamma: 5,
  condDropout: 0,
  maxAugLevel: 0.5,
  cropSize: 0,
  gradClip: 1,
  seed: 0,
});

/**
 * DreamBench-style prompts for the validation grid and the final samples: four contexts, two
 * properties, two art renditions (the EmojiScenes world draws no art styles: those two show what
 * the model does with unknown words).
 *
 * @param identifier [V].
 * @param classNoun The class noun.
 * @returns Eight prompts.
 *
 * @example
 * ```ts
 * import { dreamboothPrompts } from "./dreambooth_job.ts";
 * console.log(dreamboothPrompts("sks", "dog")[0]); // "a sks dog on the beach"
 * ```
 */
export function dreamboothPrompts(identifier: string, classNoun: string): string[] {
  const s = classNoun ? `${identifier} ${classNoun}` : identifier;
  return [
    `a ${s} on the beach`,
    `a ${s} in the snow`,
    `a ${s} in the jungle`,
    `a ${s} with a city in the background`,
    `a red ${s}`,
    `a shiny ${s}`,
    `a painting of a ${s} in the style of van gogh`,
    `a watercolor painting of a ${s}`,
  ];
}

const act = "create a DreamBooth config";

function finite(name: string, v: number, min: number, open = false): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || (open && v === min)) {
    throw new RangeError(
      `Cannot ${act} as '${name}' must be a finite number ${
        open ? ">" : "≥"
      } ${min}: current value is ${v}`,
    );
  }
}

/**
 * Merges and validates a DreamBooth config (all checks run before any compute).
 *
 * @param input `identifier` and `classNoun` required; every other field optional.
 * @returns A frozen {@link DreamBoothConfig}.
 * @throws {RangeError} Naming the value: non-finite or negative hyperparameters, prior preservation without a class noun.
 *
 * @example
 * ```ts
 * import { createDreamBoothConfig } from "./dreambooth_job.ts";
 * const c = createDreamBoothConfig({ identifier: "sks", classNoun: "dog" });
 * console.log(c.instancePrompt, "|", c.classPrompt); // "a sks dog | a dog"
 * ```
 */
export function createDreamBoothConfig(
  input: Partial<Omit<DreamBoothConfig, "trainer">> & {
    identifier: string;
    classNoun: string;
    trainer?: Partial<Omit<StageTrainerConfig, "schedule">>;
  },
): DreamBoothConfig {
  if (typeof input.identifier !== "string" || input.identifier.trim() === "") {
    throw new RangeError(`Cannot ${act} as 'identifier' must be a non-empty string`);
  }
  if (typeof input.classNoun !== "string") {
    throw new RangeError(`Cannot ${act} as 'classNoun' must be a string`);
  }
  const noun = input.classNoun.trim();
  const v = input.identifier.trim();
  const c: DreamBoothConfig = {
    identifier: v,
    classNoun: noun,
    instancePrompt: input.instancePrompt ?? (noun ? `a ${v} ${noun}` : `a ${v}`),
    classPrompt: input.classPrompt ?? `a ${noun}`,
    priorPreservation: input.priorPreservation ?? dreamboothParams.specs.priorPreservation.default,
    priorLossWeight: input.priorLossWeight ?? dreamboothParams.specs.priorLossWeight.default,
    numClassImages: input.numClassImages ?? dreamboothParams.specs.numClassImages.default,
    instanceBatch: input.instanceBatch ?? dreamboothParams.specs.instanceBatch.default,
    trainTextEncoder: input.trainTextEncoder ?? dreamboothParams.specs.trainTextEncoder.default,
    trainer: Object.freeze({ ...DEFAULT_DREAMBOOTH_TRAINER, ...input.trainer }),
    validationPrompts: Object.freeze([
      ...(input.validationPrompts ?? dreamboothPrompts(v, noun).slice(0, 6)),
      ...(input.validationPrompts ? [] : [`a ${noun || "photo"}`]),
    ]),
    sampleSteps: input.sampleSteps ?? 25,
    sampleSeed: input.sampleSeed ?? 1,
    ...(input.emaDecay !== undefined ? { emaDecay: input.emaDecay } : {}),
    ...(input.concepts !== undefined
      ? { concepts: Object.freeze(input.concepts.map((k) => Object.freeze({ ...k }))) }
      : {}),
  };
  if (c.emaDecay !== undefined && !(c.emaDecay > 0 && c.emaDecay < 1)) {
    throw new RangeError(
      `Cannot ${act} as 'emaDecay' must be a number in (0, 1): current value is ${c.emaDecay}`,
    );
  }
  // The declared parameters are checked against their declaration (dreambooth_params.ts): the
  // same bounds and words as deno task train and train.start.
  resolveParams(dreamboothParams, {
    priorLossWeight: c.priorLossWeight,
    learningRate: c.trainer.learningRate,
    instanceBatch: c.instanceBatch,
  }, { verb: act });
  finite("gradClip", c.trainer.gradClip, 0);
  finite("condDropout", c.trainer.condDropout, 0);
  for (const k of ["numClassImages", "sampleSteps"] as const) {
    const min = k === "numClassImages" ? 0 : 1;
    if (!Number.isInteger(c[k]) || c[k] < min) {
      throw new RangeError(
        `Cannot ${act} as '${k}' must be an integer ≥ ${min}: current value is ${c[k]}`,
      );
    }
  }
  for (const [i, k] of (c.concepts ?? []).entries()) {
    if (c.priorPreservation && k.classNoun.trim() === "") {
      throw new RangeError(
        `Cannot ${act} as prior preservation needs a class noun (concept ${i}'s 'classNoun' is empty)`,
      );
    }
  }
  if (c.concepts && new Set(c.concepts.map((k) => k.identifier)).size !== c.concepts.length) {
    throw new RangeError(
      `Cannot ${act} as the concepts' identifiers must differ: ${
        JSON.stringify(c.concepts.map((k) => k.identifier))
      }`,
    );
  }
  if (c.priorPreservation && noun === "") {
    throw new RangeError(
      `Cannot ${act} as prior preservation needs a class noun ('classNoun' is empty): give one, or pass --no-prior-preservation for the no-class-noun ablation`,
    );
  }
  if (c.priorPreservation && c.numClassImages < 1) {
    throw new RangeError(
      `Cannot ${act} as prior preservation needs 'numClassImages' ≥ 1: current value is ${c.numClassImages}`,
    );
  }
  return Object.freeze(c);
}

/** A DreamBooth job; borrows the cascade (fine-tuned in place), owns its trainer (`dispose()`). */
export interface DreamBoothJob extends TrainingJob {
  /** The config. */
  readonly config: DreamBoothConfig;
  /** The cascade whose base stage is fine-tuned. */
  readonly cascade: Cascade;
  /** The trainer. */
  readonly trainer: StageTrainer;
  /**
   * The batch of step `step`: `gradAccum` micro-batches in a row, each instance rows first then
   * as many prior rows; `numInstance` is per micro-batch. What {@link TrainingJob.trainStep} trains on.
   */
  batchAt(step: number): { images: FloatImage[]; prompts: string[]; numInstance: number };
  /** The weight EMA (null without `emaDecay`). */
  readonly ema: WeightEma | null;
  /**
   * Loads the EMA weights into the cascade (the model to ship); a no-op without `emaDecay`. Call
   * after training: the next step would train the averaged weights.
   */
  useAverage(): Promise<void>;
  /** Frees the trainer. */
  dispose(): void;
  /** Frees the trainer (`using`). */
  [Symbol.dispose](): void;
}

/** The image sets of a job checked against the base stage (sizes) and each other (captions). */
function checkJobInputs(
  c: DreamBoothConfig,
  size: number,
  inst: readonly FloatImage[],
  prior: readonly FloatImage[],
  captions: readonly (string | null)[] | null,
): void {
  if (inst.length === 0) {
    throw new RangeError(`Cannot create a DreamBooth job as 'instanceImages' is empty`);
  }
  if (c.priorPreservation && prior.length === 0) {
    throw new RangeError(
      `Cannot create a DreamBooth job with prior preservation as 'classImages' is empty`,
    );
  }
  for (const im of [...inst, ...prior]) {
    if (im.width !== size || im.height !== size) {
      throw new RangeError(
        `Cannot create a DreamBooth job as an image is ${im.width}×${im.height}, not the base stage's ${size}×${size}`,
      );
    }
  }
  if (captions !== null && captions.length !== inst.length) {
    throw new RangeError(
      `Cannot create a DreamBooth job as 'instancePrompts' has ${captions.length} entries for ${inst.length} instance images`,
    );
  }
}

/** The weight average (null without `emaDecay`), under the names of the checkpoint's own weights. */
function createJobEma(cascade: Cascade, c: DreamBoothConfig): WeightEma | null {
  if (c.emaDecay === undefined) return null;
  return new WeightEma([
    ...[...cascade.stages[0].unet.params.vars].map(([n, v]) =>
      [`stages.0.${n}`, v] as [string, tf.Variable]
    ),
    ...(c.trainTextEncoder
      ? [...cascade.textEncoder.params.vars].map(([n, v]) =>
        [`text_encoder.${n}`, v] as [string, tf.Variable]
      )
      : []),
  ], c.emaDecay);
}

/** Tokens of a list of prompts: ids and masks, `maxLength` per prompt, in a row. */
function promptEncoder(
  cascade: Cascade,
): (prompts: string[]) => { ids: Int32Array; mask: Uint8Array } {
  const maxLength = cascade.textEncoder.config.maxLength;
  return (prompts: string[]) => {
    const ids = new Int32Array(prompts.length * maxLength);
    const mask = new Uint8Array(prompts.length * maxLength);
    prompts.forEach((p, k) => {
      const e = cascade.tokenizer.encodeFixed(p, maxLength);
      ids.set(e.ids, k * maxLength);
      mask.set(e.mask, k * maxLength);
    });
    return { ids, mask };
  };
}

/** One concept's images and prompts as the batcher uses them. */
interface BatchConcept {
  inst: readonly FloatImage[];
  prior: readonly FloatImage[];
  captions: readonly (string | null)[] | null;
  instancePrompt: string;
  classPrompt: string;
}

/**
 * The batch of a step ({@link DreamBoothJob.batchAt}): instance rows drawn from the pool with a
 * seed of (seed, step); prior rows cycle. With accumulation, micro-batch k holds instance draws
 * k·b… and prior rows k·b… of the step (one micro-batch: as before). With several concepts each
 * micro-batch is one `[instance…, prior…]` chunk per concept, in order (concept j > 0 draws with
 * its own seed; concept 0 draws as a one-subject run).
 */
function jobBatcher(
  c: DreamBoothConfig,
  concepts: readonly BatchConcept[],
): DreamBoothJob["batchAt"] {
  const nInst = c.instanceBatch;
  const nPrior = c.priorPreservation ? nInst : 0;
  const accum = c.trainer.gradAccum ?? 1;
  return (step: number) => {
    const drawn = concepts.map(({ inst }, j) => {
      const rng = new Rng(hashInts(c.trainer.seed, step, 0xdb00 + j));
      return Array.from({ length: nInst * accum }, () => rng.int(inst.length));
    });
    const images: FloatImage[] = [];
    const prompts: string[] = [];
    for (let m = 0; m < accum; m++) {
      for (const [j, k] of concepts.entries()) {
        for (const i of drawn[j].slice(m * nInst, (m + 1) * nInst)) {
          images.push(k.inst[i]);
          prompts.push(k.captions?.[i] ?? k.instancePrompt);
        }
        for (let r = 0; r < nPrior; r++) {
          images.push(k.prior[((step - 1) * nPrior * accum + m * nPrior + r) % k.prior.length]);
          prompts.push(k.classPrompt);
        }
      }
    }
    return { images, prompts, numInstance: nInst };
  };
}

/** The checkpointed tensors: the base UNet, the EMA (if any), the text encoder (if trained). */
async function jobTensors(
  cascade: Cascade,
  c: DreamBoothConfig,
  ema: WeightEma | null,
): Promise<Map<string, NamedTensor>> {
  const tensors = new Map<string, NamedTensor>();
  for (const [k, v] of await cascade.stages[0].unet.exportWeights({ prefix: "stages.0." })) {
    tensors.set(k, v);
  }
  if (ema) { for (const [k, v] of await ema.export()) tensors.set(k, v); }
  if (c.trainTextEncoder) {
    for (const [k, v] of await cascade.textEncoder.exportWeights({ prefix: "text_encoder." })) {
      tensors.set(k, v);
    }
  }
  return tensors;
}

/** Loads the EMA weights into the base UNet (and the text encoder when trained). */
async function loadAverage(cascade: Cascade, c: DreamBoothConfig, ema: WeightEma): Promise<void> {
  const avg = new Map<string, NamedTensor>();
  for (const [k, v] of await ema.export()) avg.set(k.slice(EMA_PREFIX.length), v);
  cascade.stages[0].unet.loadWeights(avg, { prefix: "stages.0." });
  if (c.trainTextEncoder) cascade.textEncoder.loadWeights(avg, { prefix: "text_encoder." });
}

/** The validation grid: the base stage alone samples the config's validation prompts. */
async function jobSamples(cascade: Cascade, c: DreamBoothConfig): Promise<SampleGrid> {
  const stage = cascade.stages[0];
  const view = new Cascade({
    textEncoder: cascade.textEncoder,
    tokenizer: cascade.tokenizer,
    stages: [stage],
  });
  const { images } = await view.sample({
    prompt: c.validationPrompts,
    seed: c.sampleSeed,
    steps: c.sampleSteps,
  });
  return {
    images: images.map((im) => rgbImageFromUint8(im)),
    labels: [...c.validationPrompts],
    scale: Math.max(1, Math.round(128 / stage.imageSize)),
    columns: 4,
  };
}

/** The concepts of a job (one for a one-subject run), checked against the config's. */
function jobConcepts(c: DreamBoothConfig, given: readonly JobConcept[]): BatchConcept[] {
  if ((c.concepts?.length ?? 1) !== given.length) {
    throw new RangeError(
      `Cannot create a DreamBooth job as 'concepts' has ${given.length} entries for the config's ${
        c.concepts?.length ?? 1
      } concepts`,
    );
  }
  return given.map((k, j) => ({
    inst: k.instanceImages,
    prior: c.priorPreservation ? k.classImages ?? [] : [],
    captions: k.instancePrompts ?? null,
    instancePrompt: c.concepts?.[j].instancePrompt ?? c.instancePrompt,
    classPrompt: c.concepts?.[j].classPrompt ?? c.classPrompt,
  }));
}

/**
 * Builds a DreamBooth job on a loaded cascade.
 *
 * @param cascade The cascade (borrowed; its base UNet, and text encoder when trained, change in place).
 * @param options `config` (a {@link DreamBoothConfig}), `instanceImages` (the pool, flips
 * included), `classImages` (the prior images; needed with prior preservation), `loss` (the step
 * loss; default `dreamboothBatchLoss` with the config's batch split and λ).
 * @returns The job, owned by the caller.
 *
 * @example
 * ```ts
 * import { initBackend } from "./deps.ts";
 * import { createPreset } from "../diffusion/mod.ts";
 * import { createDreamBoothConfig, createDreamBoothJob } from "./dreambooth_job.ts";
 * await initBackend({ quiet: true });
 * using cascade = await createPreset("tiny", { seed: 0 });
 * const im = { data: new Float32Array(32 * 32 * 3), width: 32, height: 32 };
 * const config = createDreamBoothConfig({ identifier: "sks", classNoun: "dog", instanceBatch: 1 });
 * using job = createDreamBoothJob(cascade, { config, instanceImages: [im], classImages: [im] });
 * console.log((await job.trainStep()).step); // 1
 * ```
 */
export function createDreamBoothJob(
  cascade: Cascade,
  options: {
    config: DreamBoothConfig;
    instanceImages: readonly FloatImage[];
    classImages?: readonly FloatImage[];
    loss?: BatchLoss;
    /**
     * Per-image prompts aligned with `instanceImages` (captions; a null entry uses the instance
     * prompt). Default: the instance prompt for every image.
     */
    instancePrompts?: readonly (string | null)[] | null;
    /**
     * The images of each concept of a several-subject run, aligned with `config.concepts`
     * (`instanceImages`, `classImages` and `instancePrompts` are then ignored).
     */
    concepts?: readonly JobConcept[];
  },
): DreamBoothJob {
  const c = options.config;
  const concepts = jobConcepts(c, options.concepts ?? [options]);
  const captions = concepts.some((k) => k.captions !== null);
  const stage = cascade.stages[0];
  for (const k of concepts) checkJobInputs(c, stage.imageSize, k.inst, k.prior, k.captions);
  const trainer = new StageTrainer(stage.unet, {
    ...c.trainer,
    schedule: stage.schedule,
    textEncoder: cascade.textEncoder,
    trainTextEncoder: c.trainTextEncoder,
  });
  const nInst = c.instanceBatch;
  const nPrior = c.priorPreservation ? nInst : 0;
  const accum = c.trainer.gradAccum ?? 1;
  const ema = createJobEma(cascade, c);
  // Eq. 2 on the concatenated batch [instance…, prior…]: instance + λ·prior (the pipeline passes
  // its own, built from the declared λ; the default builds the same from the config).
  const loss: BatchLoss = options.loss ??
    dreamboothBatchLoss({
      numInstance: nInst,
      priorLossWeight: c.priorLossWeight,
      numConcepts: concepts.length,
    });
  const encode = promptEncoder(cascade);
  const chunkPrompts = concepts.flatMap((k) => [
    ...Array(nInst).fill(k.instancePrompt),
    ...Array(nPrior).fill(k.classPrompt),
  ]);
  const tokens = encode(Array.from({ length: accum }, () => chunkPrompts).flat());
  const batchAt = jobBatcher(c, concepts);

  const job: DreamBoothJob = {
    config: c,
    cascade,
    trainer,
    batchAt,
    ema,
    async useAverage() {
      if (ema) await loadAverage(cascade, c, ema);
    },
    get step() {
      return trainer.step;
    },
    async trainStep(): Promise<StepResult> {
      const b = batchAt(trainer.step + 1);
      const xStart = imagesToTensor(b.images);
      try {
        // The async read keeps GPU backends free of synchronous device→host reads.
        // With captions the step's prompts vary with the images drawn.
        const r = await trainer.trainStepAsync({
          xStart,
          tokens: captions ? encode(b.prompts) : tokens,
          loss,
        });
        ema?.update();
        return r;
      } finally {
        xStart.dispose();
      }
    },
    async checkpoint(): Promise<RunCheckpoint> {
      const tensors = await jobTensors(cascade, c, ema);
      return {
        tensors,
        state: {
          ...saveTrainerState(tensors, await trainer.readState()),
          ...(ema ? { emaUpdates: ema.updates } : {}),
        },
        metadata: {
          stage: "dreambooth",
          identifier: c.identifier,
          classNoun: c.classNoun,
          ...(c.concepts ? { concepts: JSON.stringify(c.concepts) } : {}),
        },
      };
    },
    restore(ckpt: RunCheckpoint): Promise<void> {
      stage.unet.loadWeights(ckpt.tensors, { prefix: "stages.0." });
      if (c.trainTextEncoder) {
        cascade.textEncoder.loadWeights(ckpt.tensors, { prefix: "text_encoder." });
      }
      trainer.setState(loadTrainerState(ckpt));
      ema?.restore(ckpt);
      return Promise.resolve();
    },
    samples(): Promise<SampleGrid> {
      return jobSamples(cascade, c);
    },
    dispose() {
      trainer.dispose();
      ema?.dispose();
    },
    [Symbol.dispose]() {
      this.dispose();
    },
  };
  return job;
}
