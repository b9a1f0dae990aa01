/**
 * Pretraining of one stage of a cascade on the EmojiScenes world, as a {@link TrainingJob} for
 * {@link runTraining}:
 *
 * - `base` (stage 0): the base UNet and the T5-style text encoder, trained together (no pretrained
 *   T5 exists here); captions dropped to the null condition with probability 0.1 for guidance.
 * - `sr1`, `sr2` (stages 1, 2): a super-resolution UNet on (low-res, high-res) pairs of the same
 *   scene rendered at both sizes, with noise-conditioning augmentation (t_aug ~ U[0, maxAugLevel])
 *   and, for large stages, random crops; the text encoder is the frozen one of the base run's
 *   checkpoint.
 *
 * Step n trains on scenes `(n − 1)·B … n·B − 1` of the data stream, so the data position is a
 * function of the step and a resumed run sees exactly the scenes an uninterrupted one would.
 *
 * @module
 */
import { imagesToTensor } from "./deps.ts";
import {
  buildCascadeSync,
  Cascade,
  type CascadeConfig,
  createCascadeConfig,
  createEmojiScenes,
  type EmojiScenes,
  type FloatImage,
  type NamedTensor,
  noiseAugment,
  readSafetensors,
  sampleImages,
  scheduleAt,
  type TextTokenizer,
  tf,
  tokenizerFromDescription,
  unetDenoiser,
} from "./deps.ts";
import { Rng } from "./deps.ts";
import { StageTrainer, type StageTrainerConfig } from "./deps.ts";
import { loadTrainerState, type RunCheckpoint, saveTrainerState } from "./deps.ts";
import { EMA_PREFIX, WeightEma } from "./deps.ts";
import type { SampleGrid, TrainingJob } from "./deps.ts";
import type { StepResult } from "./deps.ts";
import { rgbImageFromUint8 } from "./deps.ts";

/** Stage names of {@link PretrainConfig}. */
export const PRETRAIN_STAGES = Object.freeze(["base", "sr1", "sr2"] as const);

/** A stage name: `base`, `sr1` or `sr2`. */
export type PretrainStage = typeof PRETRAIN_STAGES[number];

/**
 * The data stream seeds of pretraining. EmojiScenes stream seeds below 2^24 belong to training
 * (eval/ uses only `[0x0e7a0000, 0x0e7a00ff]`, see eval/eval_seeds.ts); pretraining uses
 * `0x00100000 + stage` for training scenes and `0x00100100 + stage` for the sample-grid scenes.
 */
export const PRETRAIN_SEEDS = Object.freeze({ data: 0x00100000, samples: 0x00100100 });

/** Settings of a pretraining job: typed data, stored in the run's `config.json`. */
export interface PretrainConfig {
  /** The cascade's config up to the trained stage (those stages are built; only `stage` is trained). */
  readonly cascade: CascadeConfig;
  /** Which stage to train. */
  readonly stage: PretrainStage;
  /** Examples per step. Default 16 (base), 8 (SR). */
  readonly batchSize: number;
  /** The trainer's settings (learning rate, loss weighting, dropout, t_aug range, crop size, seed). */
  readonly trainer: Omit<StageTrainerConfig, "schedule">;
  /** Stream seed of the training scenes. Default `PRETRAIN_SEEDS.data + stage index`. */
  readonly dataSeed: number;
  /** Seed of the initial weights (stage i: seed + 1 + i, as `buildCascade`). Default 0. */
  readonly modelSeed: number;
  /**
   * SR stages: the file that provides the frozen text encoder: the base run's checkpoint, or an
   * exported cascade (`cascade.safetensors`).
   */
  readonly baseCheckpoint: string | null;
  /**
   * Start from an exported cascade (`models/default/cascade.safetensors`) instead of fresh weights:
   * its text encoder and this stage's UNet, when it has them (e.g. to go on after `runs/` was lost).
   * Default: none (the key is left out, so that runs started before it existed resume).
   */
  readonly initFrom?: string;
  /**
   * Range of the object's size in the training scenes (`EmojiScenesOptions.objectScale`).
   * Default: the world's own (the key is left out, so that runs started before it existed resume).
   */
  readonly objectScale?: readonly [number, number];
  /**
   * Loss weight of the object's pixels relative to the background's (1: the plain loss). The
   * background fills most of a scene and carries most of the loss; a weight above 1 spends more
   * of the gradient on the object (`EmojiScenes.renderWithMask` coverage; `pixelWeights` = 1 +
   * (k − 1)·coverage). Default: 1 (the key is left out, so that runs started before it existed
   * resume).
   */
  readonly objectWeight?: number;
  /**
   * Keep an exponential moving average of the trained weights with this decay (in (0, 1); the
   * base stage averages the text encoder too), stored in the run's checkpoint beside the raw
   * weights; `exportCascade` ships the average (see {@link WeightEma}). Default: none (the key is
   * left out, so that runs started before it existed resume).
   */
  readonly emaDecay?: number;
  /** Prompts of the base stage's sample grid. */
  readonly samplePrompts: readonly string[];
  /** Sampler steps of the sample grid. Default 25. */
  readonly sampleSteps: number;
  /** Guidance weight of the sample grid. Default: the stage's sampler's. */
  readonly sampleGuidance: number | null;
}

/** Prompts of the base stage's sample grid (DreamBench-style, some classes held out as subjects). */
export const DEFAULT_SAMPLE_PROMPTS: readonly string[] = Object.freeze([
  "a teapot on the beach",
  "a dog in the snow",
  "a red backpack in the jungle",
  "a cat on a cobblestone street",
  "a vase on top of a wooden floor",
  "a blue clock in the city",
  "a candle on top of pink fabric",
  "a purple sneaker on the grass",
  "a teddy bear with a mountain in the background",
  "a bowl floating on top of water",
  "a boot with a wheat field in the background",
  "a yellow car on top of green grass",
  "a teapot",
  "a dog",
  "a glasses in front of a blue house",
  "a shiny backpack in the snow",
]);

const STAGE_INDEX: Record<PretrainStage, number> = { base: 0, sr1: 1, sr2: 2 };

/**
 * Merges and validates a pretraining config.
 *
 * @param input `cascade` and `stage` required; every other field of {@link PretrainConfig} optional.
 * @returns A frozen {@link PretrainConfig}.
 *
 * @example
 * ```ts
 * import { createPretrainConfig } from "./pretrain_job.ts";
 * import { presetConfig } from "./deps.ts";
 * const c = createPretrainConfig({ cascade: presetConfig("tiny"), stage: "base" });
 * console.log(c.batchSize, c.trainer.condDropout); // 16 0.1
 * ```
 */
export function createPretrainConfig(
  input: Partial<Omit<PretrainConfig, "cascade" | "trainer">> & {
    cascade: CascadeConfig | Parameters<typeof createCascadeConfig>[0];
    stage: PretrainStage;
    trainer?: Partial<Omit<StageTrainerConfig, "schedule">>;
  },
): PretrainConfig {
  const act = "create a pretraining config";
  if (!PRETRAIN_STAGES.includes(input.stage)) {
    throw new RangeError(
      `Cannot ${act} as 'stage' must be one of ${PRETRAIN_STAGES.join(", ")}: current value is ${
        JSON.stringify(input.stage)
      }`,
    );
  }
  const full = createCascadeConfig(input.cascade as CascadeConfig);
  const i = STAGE_INDEX[input.stage];
  if (i >= full.stages.length) {
    throw new RangeError(
      `Cannot ${act} as the cascade has ${full.stages.length} stages, so there is no stage '${input.stage}'`,
    );
  }
  // Only the stages up to the trained one: a later change to a later stage's config does not
  // invalidate this stage's run (its config.json must match to resume).
  const cascade = createCascadeConfig({ ...full, stages: full.stages.slice(0, i + 1) });
  const sr = i > 0;
  const c: PretrainConfig = {
    cascade,
    stage: input.stage,
    batchSize: input.batchSize ?? (sr ? 8 : 16),
    trainer: Object.freeze({
      learningRate: 5e-4,
      beta1: 0.9,
      beta2: 0.99,
      epsilon: 1e-8,
      weighting: "minSnr",
      gamma: 5,
      condDropout: 0.1,
      maxAugLevel: 0.5,
      cropSize: 0,
      gradClip: 1,
      seed: i,
      ...input.trainer,
    }),
    dataSeed: input.dataSeed ?? PRETRAIN_SEEDS.data + i,
    modelSeed: input.modelSeed ?? 0,
    baseCheckpoint: input.baseCheckpoint ?? null,
    ...(input.initFrom ? { initFrom: input.initFrom } : {}),
    ...(input.objectScale
      ? { objectScale: Object.freeze([...input.objectScale]) as [number, number] }
      : {}),
    ...(input.objectWeight !== undefined && input.objectWeight !== 1
      ? { objectWeight: input.objectWeight }
      : {}),
    ...(input.emaDecay !== undefined ? { emaDecay: input.emaDecay } : {}),
    samplePrompts: Object.freeze([...(input.samplePrompts ?? DEFAULT_SAMPLE_PROMPTS)]),
    sampleSteps: input.sampleSteps ?? 25,
    sampleGuidance: input.sampleGuidance ?? null,
  };
  for (const k of ["batchSize", "sampleSteps"] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) {
      throw new RangeError(
        `Cannot ${act} as '${k}' must be an integer ≥ 1: current value is ${c[k]}`,
      );
    }
  }
  if (!Number.isInteger(c.dataSeed) || c.dataSeed < 0 || c.dataSeed >= 2 ** 24) {
    throw new RangeError(
      `Cannot ${act} as 'dataSeed' must be an integer in [0, 2^24) (eval/ owns the seeds above): current value is ${c.dataSeed}`,
    );
  }
  if (sr && c.baseCheckpoint === null) {
    throw new RangeError(
      `Cannot ${act} as stage '${c.stage}' needs 'baseCheckpoint' (the base run's checkpoint with the trained text encoder)`,
    );
  }
  if (c.objectScale !== undefined) {
    const [lo, hi] = c.objectScale;
    if (c.objectScale.length !== 2 || !(lo > 0) || !(hi <= 1) || !(lo <= hi)) {
      throw new RangeError(
        `Cannot ${act} as 'objectScale' must be [min, max] with 0 < min ≤ max ≤ 1: current value is ${
          JSON.stringify(c.objectScale)
        }`,
      );
    }
  }
  if (c.objectWeight !== undefined && !(Number.isFinite(c.objectWeight) && c.objectWeight > 0)) {
    throw new RangeError(
      `Cannot ${act} as 'objectWeight' must be a finite number > 0: current value is ${c.objectWeight}`,
    );
  }
  if (c.emaDecay !== undefined && !(c.emaDecay > 0 && c.emaDecay < 1)) {
    throw new RangeError(
      `Cannot ${act} as 'emaDecay' must be a number in (0, 1): current value is ${c.emaDecay}`,
    );
  }
  const size = cascade.stages[i].imageSize;
  if (c.trainer.cropSize > size) {
    throw new RangeError(
      `Cannot ${act} as 'trainer.cropSize' (${c.trainer.cropSize}) is larger than the stage (${size})`,
    );
  }
  return Object.freeze(c);
}

/** A pretraining job: owns its cascade and trainer (`dispose()`). */
export interface PretrainJob extends TrainingJob {
  /** The config. */
  readonly config: PretrainConfig;
  /** The cascade being trained (only the trained stage and, for base, the text encoder change). */
  readonly cascade: Cascade;
  /** The trainer. */
  readonly trainer: StageTrainer;
  /** Frees everything. */
  dispose(): void;
  /** Frees everything (`using`). */
  [Symbol.dispose](): void;
}

async function exportWithPrefix(
  source: { exportWeights(o: { prefix: string }): Promise<Map<string, NamedTensor>> },
  prefix: string,
  into: Map<string, NamedTensor>,
) {
  for (const [k, v] of await source.exportWeights({ prefix })) into.set(k, v);
}

/**
 * Builds a pretraining job (the cascade with fresh seeded weights; for SR stages the text encoder
 * from `baseCheckpoint`).
 *
 * @param config A {@link PretrainConfig} (see {@link createPretrainConfig}).
 * @param options `world` (default: `createEmojiScenes()`), `tokenizer` (default: from the config).
 * @returns The job, owned by the caller.
 *
 * @example
 * ```ts
 * import { initBackend, presetConfig } from "./deps.ts";
 * import { createPretrainConfig, createPretrainJob } from "./pretrain_job.ts";
 * await initBackend({ quiet: true });
 * const config = createPretrainConfig({ cascade: presetConfig("tiny"), stage: "base", batchSize: 2 });
 * using job = await createPretrainJob(config);
 * console.log((await job.trainStep()).step); // 1
 * ```
 */
export async function createPretrainJob(
  config: PretrainConfig,
  options: { world?: EmojiScenes; tokenizer?: TextTokenizer } = {},
): Promise<PretrainJob> {
  const c = config;
  const i = STAGE_INDEX[c.stage];
  const sr = i > 0;
  const tokenizer = options.tokenizer ?? await tokenizerFromDescription(c.cascade.tokenizer);
  const world = options.world ??
    await createEmojiScenes(c.objectScale ? { objectScale: c.objectScale } : {});
  const cascade = buildCascadeSync(c.cascade, tokenizer, c.modelSeed);
  let trainer: StageTrainer;
  try {
    trainer = await prepareStageTrainer(c, cascade, i);
  } catch (e) {
    cascade.dispose();
    throw e;
  }
  const stage = cascade.stages[i];
  const ema = createPretrainEma(c, cascade, i);
  const sizes = sr ? [cascade.stages[i - 1].imageSize, stage.imageSize] : [stage.imageSize];
  const objectWeight = c.objectWeight ?? 1;
  const parts: PretrainParts = { c, i, sr, cascade, stage, tokenizer, world, trainer, sizes };
  const batches = createBatchSource(parts, objectWeight);

  const metadata = () => ({
    stage: c.stage,
    stageIndex: String(i),
    config: JSON.stringify(c.cascade),
  });

  const job: PretrainJob = {
    config: c,
    cascade,
    trainer,
    get step() {
      return trainer.step;
    },
    async trainStep(): Promise<StepResult> {
      const b = await batches.take(trainer.step + 1);
      const xStart = imagesToTensor(b.images[sr ? 1 : 0]);
      const lowRes = sr ? imagesToTensor(b.images[0]) : null;
      let pixelWeights: tf.Tensor4D | null = null;
      try {
        if (b.masks.length > 0) pixelWeights = objectPixelWeights(b.masks, xStart, objectWeight);
        const r = await trainer.trainStepAsync({
          xStart,
          lowRes,
          tokens: { ids: b.ids, mask: b.mask },
          pixelWeights,
        });
        ema?.update();
        return r;
      } finally {
        xStart.dispose();
        lowRes?.dispose();
        pixelWeights?.dispose();
      }
    },
    async checkpoint(): Promise<RunCheckpoint> {
      const tensors = new Map<string, NamedTensor>();
      // SR runs keep their own copy of the frozen encoder, so that a resume does not pick up a
      // base run that trained on.
      await exportWithPrefix(cascade.textEncoder, "text_encoder.", tensors);
      await exportWithPrefix(stage.unet, `stages.${i}.`, tensors);
      if (ema) { for (const [k, v] of await ema.export()) tensors.set(k, v); }
      const st = await trainer.readState();
      return {
        tensors,
        state: {
          ...saveTrainerState(tensors, st),
          dataSeed: c.dataSeed,
          nextScene: st.step * c.batchSize,
          ...(ema ? { emaUpdates: ema.updates } : {}),
        },
        metadata: metadata(),
      };
    },
    restore(ckpt: RunCheckpoint): Promise<void> {
      cascade.textEncoder.loadWeights(ckpt.tensors, { prefix: "text_encoder." });
      // Only this stage's tensors (the text encoder's and optimizer's are not under the prefix).
      stage.unet.loadWeights(ckpt.tensors, { prefix: `stages.${i}.` });
      trainer.setState(loadTrainerState(ckpt));
      ema?.restore(ckpt);
      batches.reset();
      return Promise.resolve();
    },
    async samples(): Promise<SampleGrid> {
      return sr ? await srSampleGrid(parts) : await baseSampleGrid(parts);
    },
    dispose() {
      trainer.dispose();
      ema?.dispose();
      cascade.dispose();
    },
    [Symbol.dispose]() {
      this.dispose();
    },
  };
  return job;
}

/** What the pieces of a pretraining job share. */
interface PretrainParts {
  c: PretrainConfig;
  /** The trained stage's index. */
  i: number;
  /** Whether the trained stage is a super-resolution stage. */
  sr: boolean;
  cascade: Cascade;
  stage: Cascade["stages"][number];
  tokenizer: TextTokenizer;
  world: EmojiScenes;
  trainer: StageTrainer;
  /** The image sizes each scene is rendered at (low-res and stage size for SR). */
  sizes: number[];
}

/**
 * Loads the starting weights (an SR stage's frozen encoder from `baseCheckpoint`; `initFrom`) into
 * the cascade and builds the trainer of stage `i`.
 */
async function prepareStageTrainer(
  c: PretrainConfig,
  cascade: Cascade,
  i: number,
): Promise<StageTrainer> {
  const sr = i > 0;
  if (sr) {
    // A base run's checkpoint, or an exported cascade (e.g. an averaged base whose encoder no
    // run checkpoint holds): both keep the encoder under "text_encoder.".
    const base = await readSafetensors(c.baseCheckpoint!);
    if (base.metadata.kind !== "cascade" && base.metadata.stage !== "base") {
      throw new RangeError(
        `Cannot pretrain stage '${c.stage}' as '${c.baseCheckpoint}' is neither a base-stage run checkpoint nor an exported cascade`,
      );
    }
    // A base run that kept a weight average ships the averaged encoder (exportCascade): use it.
    const averaged = base.tensors.has(`${EMA_PREFIX}text_encoder.shared.weight`);
    cascade.textEncoder.loadWeights(base.tensors, {
      prefix: `${averaged ? EMA_PREFIX : ""}text_encoder.`,
    });
  }
  if (c.initFrom !== undefined) {
    const { tensors, metadata } = await readSafetensors(c.initFrom);
    if (metadata.kind !== "cascade") {
      throw new RangeError(
        `Cannot pretrain from 'initFrom' ('${c.initFrom}') as it is not a cascade checkpoint`,
      );
    }
    // An SR stage trains on the base run's frozen encoder (loaded above), never the file's.
    if (!sr) cascade.textEncoder.loadWeights(tensors, { prefix: "text_encoder." });
    if ([...tensors.keys()].some((k) => k.startsWith(`stages.${i}.`))) {
      cascade.stages[i].unet.loadWeights(tensors, { prefix: `stages.${i}.` });
    }
  }
  const stage = cascade.stages[i];
  return new StageTrainer(stage.unet, {
    ...c.trainer,
    schedule: stage.schedule,
    textEncoder: cascade.textEncoder,
    trainTextEncoder: !sr,
  });
}

/** The weight average (with `emaDecay`), under the names of the checkpoint's own weights; null without. */
function createPretrainEma(c: PretrainConfig, cascade: Cascade, i: number): WeightEma | null {
  const sr = i > 0;
  const stage = cascade.stages[i];
  return c.emaDecay === undefined ? null : new WeightEma([
    ...[...stage.unet.params.vars].map(([n, v]) =>
      [`stages.${i}.${n}`, v] as [string, tf.Variable]
    ),
    ...(sr
      ? []
      : [...cascade.textEncoder.params.vars].map(([n, v]) =>
        [`text_encoder.${n}`, v] as [string, tf.Variable]
      )),
  ], c.emaDecay);
}

/** One training batch: images per size, captions, tokens and (with an object weight) object masks. */
interface PretrainBatch {
  images: FloatImage[][];
  captions: string[];
  ids: Int32Array;
  mask: Uint8Array;
  masks: Float32Array[];
}

/**
 * The batches of each step, rendered from the world's training stream; the next batch is rendered
 * while the current step runs its first awaits (sharp works in threads). `reset` drops the prefetch.
 */
function createBatchSource(
  parts: PretrainParts,
  objectWeight: number,
): { take(step: number): Promise<PretrainBatch>; reset(): void } {
  const { c, world, sizes, tokenizer } = parts;
  const maxLength = parts.cascade.textEncoder.config.maxLength;
  const batchAt = async (step: number): Promise<PretrainBatch> => {
    const images: FloatImage[][] = sizes.map(() => []);
    const captions: string[] = [];
    const masks: Float32Array[] = [];
    for await (
      const s of world.scenes({
        seed: c.dataSeed,
        start: (step - 1) * c.batchSize,
        count: c.batchSize,
        sizes,
        masks: objectWeight !== 1,
      })
    ) {
      s.images.forEach((im, k) => images[k].push(im));
      captions.push(s.caption);
      if (s.masks) masks.push(s.masks[s.masks.length - 1]);
    }
    const ids = new Int32Array(c.batchSize * maxLength);
    const mask = new Uint8Array(c.batchSize * maxLength);
    captions.forEach((text, k) => {
      const e = tokenizer.encodeFixed(text, maxLength);
      ids.set(e.ids, k * maxLength);
      mask.set(e.mask, k * maxLength);
    });
    return { images, captions, ids, mask, masks };
  };
  let prefetch: { step: number; batch: Promise<PretrainBatch> } | null = null;
  return {
    take(step: number) {
      const batch = prefetch?.step === step ? prefetch.batch : batchAt(step);
      const next = batchAt(step + 1);
      next.catch(() => {}); // a failure surfaces when the step that needs it awaits it
      prefetch = { step: step + 1, batch: next };
      return batch;
    },
    reset() {
      prefetch = null;
    },
  };
}

/** Per-pixel loss weights: 1 on the background, objectWeight on the object, the coverage in between. */
function objectPixelWeights(
  masks: Float32Array[],
  xStart: tf.Tensor4D,
  objectWeight: number,
): tf.Tensor4D {
  const [, h, w] = xStart.shape;
  const pw = new Float32Array(masks.length * h * w);
  masks.forEach((m, k) => {
    for (let p = 0; p < m.length; p++) pw[k * h * w + p] = 1 + (objectWeight - 1) * m[p];
  });
  return tf.tensor4d(pw, [masks.length, h, w, 1]);
}

/** Base-stage grid: the sample prompts drawn by the base stage alone. */
async function baseSampleGrid(parts: PretrainParts): Promise<SampleGrid> {
  const { c, cascade, stage, tokenizer } = parts;
  const guidance = c.sampleGuidance ?? stage.sampler.guidance;
  const view = new Cascade({
    textEncoder: cascade.textEncoder,
    tokenizer,
    stages: [cascade.stages[0]],
  });
  const { images } = await view.sample({
    prompt: c.samplePrompts,
    seed: 1,
    steps: c.sampleSteps,
    guidance,
  });
  return {
    images: images.map((im) => rgbImageFromUint8(im)),
    labels: [...c.samplePrompts],
    scale: Math.max(1, Math.round(128 / stage.imageSize)),
    columns: 4,
  };
}

/** SR grid: fixed held-out scenes; per scene the upsampled low-res input, the SR output and the truth. */
async function srSampleGrid(parts: PretrainParts): Promise<SampleGrid> {
  const { world, i, sizes, stage, cascade, trainer } = parts;
  const n = 3;
  const low: FloatImage[] = [], high: FloatImage[] = [], captions: string[] = [];
  for await (
    const s of world.scenes({ seed: PRETRAIN_SEEDS.samples + i, count: n, sizes })
  ) {
    low.push(s.images[0]);
    high.push(s.images[1]);
    captions.push(s.caption);
  }
  const out = await srOnly(parts, low, captions);
  const factor = stage.imageSize / cascade.stages[i - 1].imageSize;
  const images: FloatImage[] = [], labels: string[] = [];
  for (let k = 0; k < n; k++) {
    images.push(upsampleImage(low[k], factor), out[k], high[k]);
    labels.push(`input: ${captions[k]}`, `sample (step ${trainer.step})`, "truth");
  }
  return { images, labels, columns: 3, scale: 1 };
}

/** Runs only the SR stage on given low-res images (as the cascade would, at its augLevel). */
async function srOnly(
  parts: PretrainParts,
  low: FloatImage[],
  captions: string[],
): Promise<FloatImage[]> {
  const { c, cascade, tokenizer, stage: s } = parts;
  const text = cascade.textEncoder.encodePrompts(tokenizer, captions);
  const b = low.length;
  const lowT = imagesToTensor(low);
  const factor = s.imageSize / low[0].width;
  const aug = scheduleAt(s.schedule, s.augLevel);
  const noise = tf.tensor4d(new Rng(7).normals(b * s.imageSize * s.imageSize * 3), [
    b,
    s.imageSize,
    s.imageSize,
    3,
  ]);
  const lowRes = noiseAugment(lowT, noise, { alpha: aug.alpha, sigma: aug.sigma, factor });
  try {
    const out = await sampleImages(
      unetDenoiser(s.unet, {
        text: s.unet.config.textDim > 0 ? text : null,
        lowRes,
        augLogSnr: aug.logSnr,
      }),
      {
        shape: [b, s.imageSize, s.imageSize, 3],
        schedule: s.schedule,
        sampler: {
          ...s.sampler,
          steps: Math.min(c.sampleSteps, s.sampler.steps),
          guidance: c.sampleGuidance ?? s.sampler.guidance,
        },
        seed: 1,
      },
    );
    const data = await out.images.data() as Float32Array;
    out.images.dispose();
    const px = s.imageSize * s.imageSize * 3;
    return Array.from({ length: b }, (_, k) => ({
      data: Float32Array.from(
        data.subarray(k * px, (k + 1) * px),
        (v) => Math.max(-1, Math.min(1, v)),
      ),
      width: s.imageSize,
      height: s.imageSize,
    }));
  } finally {
    tf.dispose([text.tokens, text.pooled, text.mask, lowT, noise, lowRes]);
  }
}

function upsampleImage(im: FloatImage, f: number): FloatImage {
  const w = im.width * f, h = im.height * f;
  const data = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const src = (Math.floor(y / f) * im.width + Math.floor(x / f)) * 3;
      const dst = (y * w + x) * 3;
      data[dst] = im.data[src];
      data[dst + 1] = im.data[src + 1];
      data[dst + 2] = im.data[src + 2];
    }
  }
  return { data, width: w, height: h };
}
