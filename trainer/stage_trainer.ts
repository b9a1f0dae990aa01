/**
 * Trains one cascade stage (a base or super-resolution UNet, and for the base stage of pretraining
 * also the text encoder) with the Eq. 1 loss, resumably: every random draw of step n comes from a
 * generator seeded by (seed, n), and {@link StageTrainer.getState} / {@link StageTrainer.setState}
 * carry the step and Adam's moments keyed by the models' own parameter names, so that a trainer
 * rebuilt in a new process continues bit for bit.
 *
 * Shared by pretraining (`deno task pretrain`), DreamBooth fine-tuning (the batch's `loss` is
 * Eq. 2 with its λ) and SR fine-tuning (low-res input, t_aug range, crops).
 *
 * @module
 */
import {
  type Adam,
  type AdamState,
  createAdam,
  diffuse,
  diffusionLoss,
  type DiffusionLossOptions,
  LOSS_WEIGHTINGS,
  type LossWeighting,
  noiseAugment,
  type Schedule,
  scheduleAt,
  type T5Encoder,
  type TextEmbedding,
  tf,
  type UNet,
} from "./deps.ts";
import { hashInts, Rng } from "./deps.ts";
import { learningRateAt, LR_SCHEDULES, type LrScheduleName } from "./lr_schedule.ts";
import { offsetNoise } from "./offset_noise.ts";

/** Settings of a {@link StageTrainer}: typed data. */
export interface StageTrainerConfig {
  /** The stage's noise schedule (t ~ U[0, 1] is mapped through it). */
  readonly schedule: Schedule;
  /** Adam learning rate. Default 2e-4. */
  readonly learningRate: number;
  /** Adam β1. Default 0.9. */
  readonly beta1: number;
  /** Adam β2. Default 0.99. */
  readonly beta2: number;
  /** Adam ε. Default 1e-8. */
  readonly epsilon: number;
  /** Eq. 1 weight w_t. Default "minSnr". */
  readonly weighting: LossWeighting;
  /** γ of Min-SNR-γ. Default 5. */
  readonly gamma: number;
  /** Probability that an example's text is replaced by the null condition (classifier-free guidance). Default 0.1. */
  readonly condDropout: number;
  /**
   * SR only: lower end of the t_aug range, t_aug ~ U[minAugLevel, maxAugLevel] (SR fine-tuning
   * pins both to one level). Default 0 (optional, so that run configs written before it still match
   * on resume).
   */
  readonly minAugLevel?: number;
  /** SR only: upper end of the t_aug range (noise-conditioning augmentation; sampling uses a fixed level). Default 0.5. */
  readonly maxAugLevel: number;
  /** SR only: side of a random square crop of the high-res image and its upsampled low-res input (0 = none). Default 0. */
  readonly cropSize: number;
  /** Clip the global gradient norm to this (0 = no clipping). Default 1. */
  readonly gradClip: number;
  /** Seed of every draw (t, ε, dropout, t_aug, crops). Default 0. */
  readonly seed: number;
  /**
   * Learning-rate schedule after the warm-up: `constant` or `cosine` (to 0 at `lrTotalSteps`).
   * Default constant. (The optional settings below are absent from configs written before them, so
   * that those runs still resume.)
   */
  readonly lrSchedule?: LrScheduleName;
  /** Steps of linear learning-rate warm-up from 0. Default 0. */
  readonly lrWarmupSteps?: number;
  /** The step where the cosine schedule reaches 0 (needed by `cosine`). */
  readonly lrTotalSteps?: number;
  /** Offset noise strength s (ε + s·δ, δ per image and channel; see `offsetNoise`). Default 0. */
  readonly noiseOffset?: number;
  /**
   * Gradient accumulation: a step's batch is split into this many equal micro-batches whose
   * gradients are averaged before the one update (the same update as the whole batch at once, in
   * a fraction of the activation memory). Default 1.
   */
  readonly gradAccum?: number;
}

/** Defaults of {@link StageTrainerConfig} (the schedule has none). */
export const DEFAULT_STAGE_TRAINER_CONFIG: Omit<StageTrainerConfig, "schedule"> = Object.freeze({
  learningRate: 2e-4,
  beta1: 0.9,
  beta2: 0.99,
  epsilon: 1e-8,
  weighting: "minSnr" as LossWeighting,
  gamma: 5,
  condDropout: 0.1,
  minAugLevel: 0,
  maxAugLevel: 0.5,
  cropSize: 0,
  gradClip: 1,
  seed: 0,
});

/** One batch; tensors are borrowed. */
export interface StageBatch {
  /** Clean images in [−1, 1] (SR: the high-res images): `[B, H, W, 3]`. */
  xStart: tf.Tensor4D;
  /**
   * Token ids `[B·L]` and mask of the captions (L = the encoder's `maxLength`): encoded inside the
   * gradient when the text encoder is trained, else once outside it. Needs the trainer's `textEncoder`.
   */
  tokens?: { ids: Int32Array; mask: Uint8Array } | null;
  /** A precomputed text condition (frozen encoder), instead of `tokens`. */
  text?: TextEmbedding | null;
  /** SR only: the low-res images `[B, h, w, 3]` (h divides H). */
  lowRes?: tf.Tensor4D | null;
  /**
   * The loss of the step (e.g. DreamBooth's Eq. 2, `dreamboothLoss` with its λ), given the UNet's
   * prediction and the step's Eq. 1 targets (cropped; `pixelWeights` included). Default
   * `diffusionLoss` (Eq. 1).
   */
  loss?: BatchLoss | null;
  /**
   * Per-pixel loss weights `[B, H, W, 1]` at `xStart`'s size (borrowed; cropped with it), e.g. more
   * weight on the object than on its background (`diffusionLoss`'s `pixelWeights`). Default none.
   */
  pixelWeights?: tf.Tensor4D | null;
}

/**
 * A step's loss from the UNet's prediction `[B, H, W, C]` and the targets `diffusionLoss` takes
 * (clean images, noise, log-SNR per row, prediction kind, weighting, γ, pixel weights).
 */
export type BatchLoss = (prediction: tf.Tensor4D, targets: DiffusionLossOptions) => tf.Scalar;

/** What one {@link StageTrainer.trainStep} reports. */
export interface StepResult {
  /** The loss before the update. */
  loss: number;
  /** The global gradient norm before clipping (NaN: not measured by this trainer). */
  gradNorm: number;
  /** The step number just taken (1-based). */
  step: number;
  /** The learning rate of the step (after the schedule). */
  learningRate?: number;
}

/** A step computed but not applied: `[loss, ‖g‖]` and the gradients, owned. */
interface PendingStep {
  stepNo: number;
  stats: tf.Tensor;
  grads: tf.Tensor[];
  dispose(): void;
}

/** Everything needed to resume a {@link StageTrainer}. */
export interface StageTrainerState {
  /** Steps taken. */
  step: number;
  /** Adam's iterations and moments, keyed by stable parameter names (`unet.<name>`, `text_encoder.<name>`). */
  optimizer: AdamState;
}

/** Thrown by {@link StageTrainer.trainStep} when the loss or a gradient is NaN/±Inf (no update was applied). */
export class NonFiniteLossError extends Error {
  /** The step that failed (1-based). */
  readonly step: number;
  /**
   * @param step The failed step.
   * @param loss The loss value.
   * @param gradNorm The gradient norm.
   */
  constructor(step: number, loss: number, gradNorm: number) {
    super(
      `Stopped at step ${step} as the loss is not finite (loss ${loss}, gradient norm ${gradNorm}); ` +
        `no update was applied`,
    );
    this.name = "NonFiniteLossError";
    this.step = step;
  }
}

function check(name: string, value: number, lo: number, hi: number, loOpen = false): number {
  if (
    typeof value !== "number" || !Number.isFinite(value) || value < lo || value > hi ||
    (loOpen && value === lo)
  ) {
    throw new RangeError(
      `Cannot create a stage trainer as '${name}' must be a number in ${
        loOpen ? "(" : "["
      }${lo}, ${hi}]: current value is ${value}`,
    );
  }
  return value;
}

/** Every random draw of one step. */
interface StepDraws {
  lambdas: Float32Array;
  alphas: Float32Array;
  sigmas: Float32Array;
  keep: Float32Array;
  noise: Float32Array;
  aug: { lambdas: Float32Array; alphas: Float32Array; sigmas: Float32Array } | null;
  augNoise: Float32Array | null;
  crop: number[];
}

/**
 * Every draw of step `stepNo`, in a fixed order, from a generator that depends only on (seed,
 * step): t per example, the condition dropout, ε, (SR) t_aug per example and ε_aug, the crop, and
 * last the offset noise (so that without it every other draw is as before).
 */
function drawStep(
  c: StageTrainerConfig,
  stepNo: number,
  shape: {
    batch: number;
    height: number;
    width: number;
    channels: number;
    size: number;
    sr: boolean;
  },
): StepDraws {
  const { batch: b, height: h, width: w, channels: ch, size, sr } = shape;
  const rng = new Rng(hashInts(c.seed, stepNo, 0x7a11));
  const lambdas = new Float32Array(b), alphas = new Float32Array(b), sigmas = new Float32Array(b);
  for (let i = 0; i < b; i++) {
    const at = scheduleAt(c.schedule, rng.uniform());
    lambdas[i] = at.logSnr;
    alphas[i] = at.alpha;
    sigmas[i] = at.sigma;
  }
  const keep = new Float32Array(b);
  for (let i = 0; i < b; i++) keep[i] = rng.uniform() < c.condDropout ? 0 : 1;
  const noise = rng.normals(b * size * size * ch);
  let aug: StepDraws["aug"] = null;
  let augNoise: Float32Array | null = null;
  if (sr) {
    const minAug = c.minAugLevel ?? 0;
    aug = {
      lambdas: new Float32Array(b),
      alphas: new Float32Array(b),
      sigmas: new Float32Array(b),
    };
    for (let i = 0; i < b; i++) {
      const at = scheduleAt(c.schedule, minAug + rng.uniform() * (c.maxAugLevel - minAug));
      aug.lambdas[i] = at.logSnr;
      aug.alphas[i] = at.alpha;
      aug.sigmas[i] = at.sigma;
    }
    augNoise = rng.normals(b * size * size * ch);
  }
  const crop = c.cropSize > 0 ? [rng.int(h - size + 1), rng.int(w - size + 1)] : [0, 0];
  if ((c.noiseOffset ?? 0) > 0) {
    offsetNoise(noise, { offsets: rng.normals(b * ch), channels: ch, strength: c.noiseOffset! });
  }
  return { lambdas, alphas, sigmas, keep, noise, aug, augNoise, crop };
}

/**
 * Trains a UNet (and optionally the text encoder) on batches; owns only its optimizer state.
 */
export class StageTrainer {
  /** The merged settings. */
  readonly config: StageTrainerConfig;
  /** The UNet being trained (borrowed; updated in place). */
  readonly unet: UNet;
  /** The text encoder (borrowed), trained only when `trainTextEncoder`. */
  readonly textEncoder: T5Encoder | null;
  /** Whether the text encoder's weights are trained too. */
  readonly trainTextEncoder: boolean;
  readonly #adam: Adam;
  readonly #variables: tf.Variable[];
  readonly #stableNames: Map<string, string>; // tf variable name → stable name
  #step = 0;

  /**
   * @param unet The UNet (borrowed).
   * @param options Any subset of {@link StageTrainerConfig} (`schedule` required), plus
   * `textEncoder` (default none: batches carry `text` or are unconditional) and
   * `trainTextEncoder` (default false; true makes the encoder's variables trainable).
   *
   * @example
   * ```ts
   * import { DEFAULT_SCHEDULE, initBackend, tf, UNet } from "./deps.ts";
   * import { StageTrainer } from "./stage_trainer.ts";
   * await initBackend({ quiet: true });
   * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 0 });
   * const trainer = new StageTrainer(net, { schedule: DEFAULT_SCHEDULE });
   * const x = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
   * console.log(trainer.trainStep({ xStart: x }).step); // 1
   * x.dispose();
   * trainer.dispose();
   * ```
   */
  constructor(
    unet: UNet,
    options: Partial<StageTrainerConfig> & {
      schedule: Schedule;
      textEncoder?: T5Encoder | null;
      trainTextEncoder?: boolean;
    },
  ) {
    const { textEncoder = null, trainTextEncoder = false, ...rest } = options;
    const c = { ...DEFAULT_STAGE_TRAINER_CONFIG, ...rest };
    check("learningRate", c.learningRate, 0, 10, true);
    check("beta1", c.beta1, 0, 0.999999);
    check("beta2", c.beta2, 0, 0.999999);
    check("epsilon", c.epsilon, 0, 1);
    if (!LOSS_WEIGHTINGS.includes(c.weighting)) {
      throw new RangeError(
        `Cannot create a stage trainer as 'weighting' must be one of ${
          LOSS_WEIGHTINGS.join(", ")
        }: current value is ${JSON.stringify(c.weighting)}`,
      );
    }
    check("gamma", c.gamma, 0, 1e6);
    check("condDropout", c.condDropout, 0, 1);
    check("maxAugLevel", c.maxAugLevel, 0, 1);
    check("minAugLevel", c.minAugLevel ?? 0, 0, c.maxAugLevel);
    check("gradClip", c.gradClip, 0, 1e9);
    check("noiseOffset", c.noiseOffset ?? 0, 0, 10);
    if (c.lrSchedule !== undefined && !LR_SCHEDULES.includes(c.lrSchedule)) {
      throw new RangeError(
        `Cannot create a stage trainer as 'lrSchedule' must be one of ${
          LR_SCHEDULES.join(", ")
        }: current value is ${JSON.stringify(c.lrSchedule)}`,
      );
    }
    for (const k of ["lrWarmupSteps", "lrTotalSteps", "gradAccum"] as const) {
      const v = c[k];
      const min = k === "lrWarmupSteps" ? 0 : 1;
      if (v !== undefined && (!Number.isInteger(v) || v < min)) {
        throw new RangeError(
          `Cannot create a stage trainer as '${k}' must be an integer ≥ ${min}: current value is ${v}`,
        );
      }
    }
    if (c.lrSchedule === "cosine" && c.lrTotalSteps === undefined) {
      throw new RangeError(
        `Cannot create a stage trainer as the cosine 'lrSchedule' needs 'lrTotalSteps'`,
      );
    }
    for (const k of ["cropSize", "seed"] as const) {
      if (!Number.isInteger(c[k]) || (k !== "seed" && c[k] < 0)) {
        throw new RangeError(
          `Cannot create a stage trainer as '${k}' must be ${
            k === "seed" ? "an integer" : "an integer ≥ 0"
          }: current value is ${c[k]}`,
        );
      }
    }
    if (c.cropSize > 0 && c.cropSize > unet.config.imageSize) {
      throw new RangeError(
        `Cannot create a stage trainer as 'cropSize' (${c.cropSize}) is larger than the UNet's imageSize (${unet.config.imageSize})`,
      );
    }
    if (trainTextEncoder && textEncoder === null) {
      throw new RangeError(
        `Cannot create a stage trainer as 'trainTextEncoder' needs a 'textEncoder'`,
      );
    }
    if (trainTextEncoder && unet.config.textDim === 0) {
      throw new RangeError(
        `Cannot create a stage trainer as 'trainTextEncoder' is set but the UNet takes no text ('textDim' is 0)`,
      );
    }
    this.config = Object.freeze(c);
    this.unet = unet;
    this.textEncoder = textEncoder;
    this.trainTextEncoder = trainTextEncoder;
    this.#stableNames = new Map();
    const vars: tf.Variable[] = [];
    // With LoRA adapters attached only they train (the base weights stay frozen).
    const unetVars = unet.lora
      ? [...unet.lora.params.vars].map(([n, v]) => [`lora.${n}`, v] as const)
      : [...unet.params.vars];
    for (const [name, v] of unetVars) {
      vars.push(v);
      this.#stableNames.set(v.name, `unet.${name}`);
    }
    if (trainTextEncoder && textEncoder?.isHalf) {
      throw new RangeError(
        `Cannot train the text encoder as it is stored in 16 bits (storeHalf): frozen weights only`,
      );
    }
    if (trainTextEncoder && textEncoder) {
      const textVars = textEncoder.lora
        ? [...textEncoder.lora.params.vars].map(([n, v]) => [`lora.${n}`, v] as const)
        : [...textEncoder.params.vars];
      for (const [name, v] of textVars) {
        v.trainable = true;
        vars.push(v);
        this.#stableNames.set(v.name, `text_encoder.${name}`);
      }
    }
    this.#variables = vars;
    this.#adam = createAdam({
      learningRate: c.learningRate,
      beta1: c.beta1,
      beta2: c.beta2,
      epsilon: c.epsilon,
    });
  }

  /** Steps taken so far. */
  get step(): number {
    return this.#step;
  }

  /** The variables being trained. */
  get variables(): readonly tf.Variable[] {
    return this.#variables;
  }

  /**
   * One step: draws t ~ U[0, 1], ε ~ N(0, I), the condition dropout and (SR) t_aug and a crop from
   * a generator seeded by (seed, step), minimises the batch's loss (default Eq. 1), clips
   * the gradient's global norm and updates with Adam. A NaN/Inf loss or gradient throws
   * {@link NonFiniteLossError} before any update.
   *
   * @param batch The {@link StageBatch} (borrowed).
   * @returns The {@link StepResult}.
   *
   * @example
   * ```ts
   * import { DEFAULT_SCHEDULE, initBackend, tf, UNet } from "./deps.ts";
   * import { StageTrainer } from "./stage_trainer.ts";
   * await initBackend({ quiet: true });
   * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 0 });
   * const trainer = new StageTrainer(net, { schedule: DEFAULT_SCHEDULE, seed: 3 });
   * const x = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
   * console.log(trainer.trainStep({ xStart: x }).loss >= 0); // true
   * x.dispose();
   * trainer.dispose();
   * ```
   */
  trainStep(batch: StageBatch): StepResult {
    const pending = this.#forward(batch);
    let read: number[];
    try {
      read = Array.from(pending.stats.dataSync());
    } catch (err) {
      pending.dispose();
      throw err;
    }
    return this.#finish(pending, read);
  }

  /**
   * {@link StageTrainer.trainStep} with the loss and gradient norm read by `await tensor.data()`:
   * one device→host read per step and no synchronous one, which is what GPU backends need (webgpu
   * under Deno cannot read synchronously at all). Same draws, same update, same result.
   *
   * @param batch The {@link StageBatch} (borrowed; keep it alive until the promise settles).
   * @returns The {@link StepResult}.
   *
   * @example
   * ```ts
   * import { DEFAULT_SCHEDULE, initBackend, tf, UNet } from "./deps.ts";
   * import { StageTrainer } from "./stage_trainer.ts";
   * await initBackend({ quiet: true });
   * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 0 });
   * const trainer = new StageTrainer(net, { schedule: DEFAULT_SCHEDULE, seed: 3 });
   * const x = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
   * console.log((await trainer.trainStepAsync({ xStart: x })).step); // 1
   * console.log((await trainer.readState()).step); // 1
   * x.dispose();
   * trainer.dispose();
   * ```
   */
  async trainStepAsync(batch: StageBatch): Promise<StepResult> {
    const pending = this.#forward(batch);
    let read: number[];
    try {
      read = Array.from(await pending.stats.data());
    } catch (err) {
      pending.dispose();
      throw err;
    }
    return this.#finish(pending, read);
  }

  /**
   * Loss, gradients and their global norm of one step, all on the backend: `stats` is
   * `[loss, ‖g‖]`, the one tensor a step reads back. Owns everything it returns.
   */
  /** Refuses a batch the step cannot take; returns the side of the trained square. */
  #checkBatch(batch: StageBatch): number {
    const c = this.config;
    const [b, h, w] = batch.xStart.shape;
    if (this.unet.config.lowResChannels > 0 && !batch.lowRes) {
      throw new RangeError(`Cannot train a step as a super-resolution UNet needs 'lowRes'`);
    }
    if (batch.tokens && !this.textEncoder) {
      throw new RangeError(`Cannot train a step on 'tokens' without the trainer's 'textEncoder'`);
    }
    const pws = batch.pixelWeights?.shape;
    if (pws && (pws.length !== 4 || pws[0] !== b || pws[1] !== h || pws[2] !== w || pws[3] !== 1)) {
      throw new RangeError(
        `Cannot train a step as 'pixelWeights' must have shape [${b}, ${h}, ${w}, 1]: current shape is [${pws}]`,
      );
    }
    const size = c.cropSize > 0 ? c.cropSize : h;
    if (size > h || size > w) {
      throw new RangeError(
        `Cannot train a step as 'cropSize' (${c.cropSize}) is larger than the images (${h}×${w})`,
      );
    }
    return size;
  }

  #forward(batch: StageBatch): PendingStep {
    const c = this.config;
    const cfg = this.unet.config;
    const sr = cfg.lowResChannels > 0;
    const [b, h, w, ch] = batch.xStart.shape;
    const size = this.#checkBatch(batch);
    const stepNo = this.#step + 1;
    const { lambdas, alphas, sigmas, keep, noise, aug, augNoise, crop } = drawStep(c, stepNo, {
      batch: b,
      height: h,
      width: w,
      channels: ch,
      size,
      sr,
    });
    const accum = c.gradAccum ?? 1;
    if (b % accum !== 0) {
      throw new RangeError(
        `Cannot train a step as the batch of ${b} rows does not split into 'gradAccum' = ${accum} equal micro-batches`,
      );
    }
    const usesText = cfg.textDim > 0;
    const tokLen = batch.tokens ? batch.tokens.ids.length / b : 0;
    const trainText = usesText && this.trainTextEncoder && batch.tokens;

    // Frozen text condition: encoded once, outside the gradient.
    const frozenText = usesText && !trainText && batch.tokens
      ? this.textEncoder!.encode(batch.tokens.ids, batch.tokens.mask, { batch: b })
      : null;
    try {
      const { stats, grads } = tf.tidy(() => {
        const t4 = (a: Float32Array) => tf.tensor4d(a, [b, 1, 1, 1]);
        let x = batch.xStart;
        if (c.cropSize > 0) x = tf.slice(x, [0, crop[0], crop[1], 0], [b, size, size, ch]);
        let pw = batch.pixelWeights ?? null;
        if (pw !== null && c.cropSize > 0) {
          pw = tf.slice(pw, [0, crop[0], crop[1], 0], [b, size, size, 1]);
        }
        let lowRes: tf.Tensor4D | null = null;
        if (sr && aug && augNoise) {
          // Noise-conditioning augmentation: z_aug = α(t_aug) up(x_low) + σ(t_aug) ε_aug.
          lowRes = noiseAugment(batch.lowRes!, tf.tensor4d(augNoise, [b, size, size, ch]), {
            alpha: t4(aug.alphas),
            sigma: t4(aug.sigmas),
            factor: h / batch.lowRes!.shape[1],
            crop: c.cropSize > 0 ? [crop[0], crop[1]] : null,
          });
        }
        const eps = tf.tensor4d(noise, [b, size, size, ch]);
        const zt = diffuse(x, eps, { alpha: t4(alphas), sigma: t4(sigmas) }); // z_t = α_t x + σ_t ε
        const keepT = tf.tensor1d(keep);
        const logSnrT = tf.tensor1d(lambdas);
        const augT = aug ? tf.tensor1d(aug.lambdas) : null;
        // The loss of rows [r0, r0 + n) (the whole batch when not accumulating).
        const f = (r0: number, n: number) => {
          const whole = n === b;
          const rows = <T extends tf.Tensor>(t: T | null): T | null =>
            t === null || whole ? t : tf.slice(t, r0, n) as T;
          const frozen = usesText && !trainText ? frozenText ?? batch.text ?? null : null;
          const ids = batch.tokens?.ids, mask = batch.tokens?.mask;
          const text = trainText
            ? this.textEncoder!.encode(
              whole ? ids! : ids!.subarray(r0 * tokLen, (r0 + n) * tokLen),
              whole ? mask! : mask!.subarray(r0 * tokLen, (r0 + n) * tokLen),
              { batch: n },
            )
            : frozen === null || whole || frozen.tokens.shape[0] !== b
            ? frozen
            : {
              tokens: rows(frozen.tokens)!,
              pooled: rows(frozen.pooled)!,
              mask: rows(frozen.mask)!,
            };
          const pred = this.unet.apply(rows(zt)!, {
            logSnr: rows(logSnrT)!,
            text,
            keep: text ? rows(keepT) : null,
            lowRes: rows(lowRes),
            augLogSnr: rows(augT),
          });
          const targets: DiffusionLossOptions = {
            prediction: cfg.prediction,
            xStart: rows(x)!,
            noise: rows(eps)!,
            logSnr: whole ? lambdas : lambdas.subarray(r0, r0 + n),
            weighting: c.weighting,
            gamma: c.gamma,
            pixelWeights: rows(pw),
          };
          return batch.loss ? batch.loss(pred, targets) : diffusionLoss(pred, targets); // Eq. 1 by default
        };
        const { value, list } = this.#lossAndGrads(f, b, accum);
        const norm = tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g)))));
        return { stats: tf.stack([tf.reshape(value, []), norm]), grads: list };
      });
      return {
        stepNo,
        stats,
        grads,
        dispose: () => tf.dispose([stats, ...grads]),
      };
    } finally {
      if (frozenText) {
        frozenText.tokens.dispose();
        frozenText.pooled.dispose();
        frozenText.mask.dispose();
      }
    }
  }

  /**
   * The loss `lossOf(r0, n)` of the whole batch and its gradients, in `accum` equal micro-batches
   * (the mean of their losses and gradients is the whole batch's, as every loss here is a mean over
   * equal-sized row groups). Call inside a `tf.tidy`.
   */
  #lossAndGrads(
    lossOf: (r0: number, n: number) => tf.Scalar,
    b: number,
    accum: number,
  ): { value: tf.Scalar; list: tf.Tensor[] } {
    if (accum === 1) {
      const r = tf.variableGrads(() => lossOf(0, b), this.#variables);
      return { value: r.value, list: this.#variables.map((v) => r.grads[v.name]) };
    }
    const n = b / accum;
    const losses: tf.Scalar[] = [];
    let sums: tf.Tensor[] | null = null;
    for (let k = 0; k < accum; k++) {
      const r = tf.variableGrads(() => lossOf(k * n, n), this.#variables);
      losses.push(r.value);
      const g = this.#variables.map((v) => r.grads[v.name]);
      sums = sums === null ? g : sums.map((s, i) => tf.add(s, g[i]));
    }
    return {
      value: tf.div(tf.addN(losses), accum) as tf.Scalar,
      list: sums!.map((s) => tf.div(s, accum)),
    };
  }

  /** Checks the read `[loss, ‖g‖]`, clips and applies Adam; frees `pending`. */
  #finish(pending: PendingStep, [lossValue, gradNorm]: number[]): StepResult {
    const c = this.config;
    const learningRate = this.learningRateAt(pending.stepNo);
    try {
      if (!Number.isFinite(lossValue) || !Number.isFinite(gradNorm)) {
        throw new NonFiniteLossError(pending.stepNo, lossValue, gradNorm);
      }
      tf.tidy(() => {
        const scale = c.gradClip > 0 && gradNorm > c.gradClip ? c.gradClip / gradNorm : 1;
        const list = pending.grads;
        const applied = scale === 1 ? list : list.map((g) => tf.mul(g, scale));
        this.#adam.applyGradients(this.#variables, applied, { learningRate });
      });
    } finally {
      pending.dispose();
    }
    this.#step = pending.stepNo;
    return { loss: lossValue, gradNorm, step: pending.stepNo, learningRate };
  }

  /**
   * The learning rate of step `step` (1-based) under the configured schedule and warm-up.
   *
   * @param step The step.
   * @returns The learning rate.
   */
  learningRateAt(step: number): number {
    const c = this.config;
    return learningRateAt(step, {
      learningRate: c.learningRate,
      schedule: c.lrSchedule ?? "constant",
      warmupSteps: c.lrWarmupSteps ?? 0,
      ...(c.lrTotalSteps !== undefined ? { totalSteps: c.lrTotalSteps } : {}),
    });
  }

  /**
   * A copy of the state to checkpoint: the step and Adam's moments under stable names.
   *
   * @returns The {@link StageTrainerState}.
   *
   * @example
   * ```ts
   * import { DEFAULT_SCHEDULE, initBackend, UNet } from "./deps.ts";
   * import { StageTrainer } from "./stage_trainer.ts";
   * await initBackend({ quiet: true });
   * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 0 });
   * const trainer = new StageTrainer(net, { schedule: DEFAULT_SCHEDULE });
   * console.log(trainer.getState().step); // 0
   * trainer.dispose();
   * ```
   */
  getState(): StageTrainerState {
    return this.#stable(this.#adam.getState());
  }

  /**
   * {@link StageTrainer.getState} read with `await tensor.data()`: the form that works on every
   * backend (webgpu keeps Adam's moments on the GPU and cannot read them synchronously).
   *
   * @returns The {@link StageTrainerState}.
   */
  async readState(): Promise<StageTrainerState> {
    return this.#stable(await this.#adam.readState());
  }

  /** Adam's state keyed by stable parameter names. */
  #stable(s: AdamState): StageTrainerState {
    const moments: AdamState["moments"] = {};
    for (const [name, m] of Object.entries(s.moments)) {
      const stable = this.#stableNames.get(name);
      if (stable !== undefined) moments[stable] = m;
    }
    return { step: this.#step, optimizer: { iterations: s.iterations, moments } };
  }

  /**
   * Resumes from a state {@link StageTrainer.getState} returned (possibly in another process).
   *
   * @param state The {@link StageTrainerState}.
   * @returns Nothing.
   * @throws {RangeError} When the step is not a non-negative integer or a moment names an unknown parameter.
   *
   * @example
   * ```ts
   * import { DEFAULT_SCHEDULE, initBackend, UNet } from "./deps.ts";
   * import { StageTrainer } from "./stage_trainer.ts";
   * await initBackend({ quiet: true });
   * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 0 });
   * const trainer = new StageTrainer(net, { schedule: DEFAULT_SCHEDULE });
   * trainer.setState({ step: 5, optimizer: { iterations: 5, moments: {} } });
   * console.log(trainer.step); // 5
   * trainer.dispose();
   * ```
   */
  setState(state: StageTrainerState): void {
    if (!Number.isInteger(state?.step) || state.step < 0) {
      throw new RangeError(
        `Cannot restore a stage trainer as 'step' must be an integer ≥ 0: current value is ${state?.step}`,
      );
    }
    const byStable = new Map<string, string>();
    for (const [tfName, stable] of this.#stableNames) byStable.set(stable, tfName);
    const moments: AdamState["moments"] = {};
    for (const [stable, m] of Object.entries(state.optimizer.moments)) {
      const tfName = byStable.get(stable);
      if (tfName === undefined) {
        throw new RangeError(
          `Cannot restore a stage trainer as the optimizer state names an unknown parameter '${stable}'`,
        );
      }
      moments[tfName] = m;
    }
    this.#adam.setState({ iterations: state.optimizer.iterations, moments });
    this.#step = state.step;
  }

  /** Frees the optimizer state. */
  dispose(): void {
    this.#adam.dispose();
  }

  /** Frees the optimizer state (`using`). */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
