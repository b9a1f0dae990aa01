/**
 * One training step of a diffusion UNet (base or super-resolution): sample t, ε (and for SR the
 * augmentation level and a random crop), corrupt, predict, Eq. 1 loss, Adam update. Shared by the
 * pretraining loop, DreamBooth fine-tuning (training/) and SR fine-tuning (superres/).
 *
 * @module
 */
import { type Adam, type AdamState, createAdam, tf } from "./deps.ts";
import { diffuse } from "./forward_process.ts";
import { noiseAugment } from "./noise_augment.ts";
import { Rng } from "./rng.ts";
import { type Schedule, scheduleAt } from "./schedule.ts";
import { diffusionLoss, LOSS_WEIGHTINGS, type LossWeighting } from "./diffusion_loss.ts";
import type { UNet } from "./unet.ts";
import type { TextEmbedding } from "./t5_encoder.ts";
import { inRange, oneOf, positiveInt } from "./_validate.ts";

/** Trainer settings: typed data. */
export interface TrainerConfig {
  /** The schedule t is mapped through. */
  readonly schedule: Schedule;
  /** Adam learning rate. Default 1e-3. */
  readonly learningRate: number;
  /** Adam β1. Default 0.9. */
  readonly beta1: number;
  /** Adam β2. Default 0.999. */
  readonly beta2: number;
  /** Eq. 1 weight w_t. Default "minSnr". */
  readonly weighting: LossWeighting;
  /** γ of Min-SNR-γ. Default 5. */
  readonly gamma: number;
  /** Probability of replacing an example's text by the null condition (for classifier-free guidance). Default 0.1. */
  readonly condDropout: number;
  /** SR only: t_aug is drawn uniformly from [minAugLevel, maxAugLevel] (Imagen trains over a range and samples at a fixed level). Default 0. */
  readonly minAugLevel: number;
  /** SR only: upper end of the t_aug range (DreamBooth fine-tunes SR stages with tiny levels, e.g. 1e-3 or 1e-5). Default 0.5. */
  readonly maxAugLevel: number;
  /** SR only: side of the random square crop of the high-res image (0 = no crop). Default 0. */
  readonly cropSize: number;
  /** Seed of t, ε, dropout, augmentation and crops. Default 0. */
  readonly seed: number;
}

/** Defaults of {@link TrainerConfig} (the schedule is the default cosine). */
export const DEFAULT_TRAINER_CONFIG: Omit<TrainerConfig, "schedule"> = Object.freeze({
  learningRate: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  weighting: "minSnr" as LossWeighting,
  gamma: 5,
  condDropout: 0.1,
  minAugLevel: 0,
  maxAugLevel: 0.5,
  cropSize: 0,
  seed: 0,
});

/** One batch. Tensors are borrowed. */
export interface TrainBatch {
  /** Clean images in [−1, 1]: `[B, H, W, C]` (for SR: the high-res images). */
  xStart: tf.Tensor4D;
  /** The text condition of each example (null: unconditional model). */
  text?: TextEmbedding | null;
  /** SR only: the low-res images `[B, H/f, W/f, C]`. */
  lowRes?: tf.Tensor4D | null;
  /** Per-example loss weights (e.g. DreamBooth's prior-preservation λ): `[B]`. Default all 1. */
  exampleWeights?: ArrayLike<number>;
}

/** Everything a {@link DiffusionTrainer} needs to resume (e.g. in another process). */
export interface DiffusionTrainerState {
  /** Steps taken. */
  step: number;
  /** Adam's iterations and moments, keyed by the UNet's own parameter names (stable across processes). */
  optimizer: AdamState;
}

/** Trains a {@link UNet}; owns its optimizer state (`dispose()`). The UNet stays the caller's. */
export class DiffusionTrainer {
  /** The settings. */
  readonly config: TrainerConfig;
  /** The model being trained (borrowed). */
  readonly unet: UNet;
  readonly #optimizer: Adam;
  #rng: Rng;
  #step = 0;

  /**
   * @param unet The model (borrowed; its variables are updated in place).
   * @param options Any subset of {@link TrainerConfig}; `schedule` is required.
   *
   * @example
   * ```ts
   * import { initBackend } from "../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { tf } from "./deps.ts";
   * import { UNet } from "./unet.ts";
   * import { DiffusionTrainer } from "./diffusion_trainer.ts";
   * import { DEFAULT_SCHEDULE } from "./schedule.ts";
   * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 0 });
   * using trainer = new DiffusionTrainer(net, { schedule: DEFAULT_SCHEDULE });
   * const x = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
   * console.log(typeof trainer.step({ xStart: x })); // "number"
   * x.dispose();
   * ```
   */
  constructor(unet: UNet, options: Partial<TrainerConfig> & { schedule: Schedule }) {
    const c = { ...DEFAULT_TRAINER_CONFIG, ...options };
    const act = "create a trainer";
    inRange(act, "learningRate", c.learningRate, 0, 10);
    inRange(act, "beta1", c.beta1, 0, 1);
    inRange(act, "beta2", c.beta2, 0, 1);
    oneOf(act, "weighting", c.weighting, LOSS_WEIGHTINGS);
    inRange(act, "gamma", c.gamma, 0, 1e6);
    inRange(act, "condDropout", c.condDropout, 0, 1);
    inRange(act, "maxAugLevel", c.maxAugLevel, 0, 1);
    inRange(act, "minAugLevel", c.minAugLevel, 0, c.maxAugLevel);
    if (c.cropSize !== 0) positiveInt(act, "cropSize", c.cropSize);
    this.config = Object.freeze(c);
    this.unet = unet;
    this.#optimizer = createAdam({
      learningRate: c.learningRate,
      beta1: c.beta1,
      beta2: c.beta2,
      epsilon: 1e-8,
    });
    this.#rng = new Rng(c.seed);
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.#step;
  }

  /**
   * One step: draws t ~ U[0, 1], ε ~ N(0, I), the condition dropout, for SR t_aug and a crop, then
   * minimises Eq. 1 with Adam.
   *
   * @param batch The {@link TrainBatch} (borrowed).
   * @returns The loss before the update.
   *
   * @example
   * ```ts
   * import { initBackend } from "../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { tf } from "./deps.ts";
   * import { UNet } from "./unet.ts";
   * import { DiffusionTrainer } from "./diffusion_trainer.ts";
   * import { DEFAULT_SCHEDULE } from "./schedule.ts";
   * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 0 });
   * using trainer = new DiffusionTrainer(net, { schedule: DEFAULT_SCHEDULE, seed: 3 });
   * const x = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
   * console.log(trainer.step({ xStart: x }) >= 0); // true
   * x.dispose();
   * ```
   */
  step(batch: TrainBatch): number {
    const c = this.config;
    const cfg = this.unet.config;
    const sr = cfg.lowResChannels > 0;
    const [b, h, w, ch] = batch.xStart.shape;
    if (sr && !batch.lowRes) {
      throw new RangeError(`Cannot train a step as a super-resolution UNet needs 'lowRes'`);
    }
    const size = c.cropSize > 0 ? c.cropSize : h;
    if (c.cropSize > h || c.cropSize > w) {
      throw new RangeError(
        `Cannot train a step as 'cropSize' (${c.cropSize}) is larger than the images (${h}×${w})`,
      );
    }
    // Everything random, drawn in a fixed order from one seeded stream.
    const rng = this.#rng.fork(this.#step);
    const lambdas = new Float32Array(b);
    const alphas = new Float32Array(b);
    const sigmas = new Float32Array(b);
    for (let i = 0; i < b; i++) {
      const at = scheduleAt(c.schedule, rng.uniform());
      lambdas[i] = at.logSnr;
      alphas[i] = at.alpha;
      sigmas[i] = at.sigma;
    }
    const keep = new Float32Array(b);
    for (let i = 0; i < b; i++) keep[i] = rng.uniform() < c.condDropout ? 0 : 1;
    const noise = rng.normals(b * size * size * ch);
    let aug: {
      lambdas: Float32Array;
      alphas: Float32Array;
      sigmas: Float32Array;
      noise: Float32Array;
    } | null = null;
    if (sr) {
      aug = {
        lambdas: new Float32Array(b),
        alphas: new Float32Array(b),
        sigmas: new Float32Array(b),
        noise: rng.normals(b * h * w * ch),
      };
      for (let i = 0; i < b; i++) {
        const at = scheduleAt(
          c.schedule,
          c.minAugLevel + rng.uniform() * (c.maxAugLevel - c.minAugLevel),
        );
        aug.lambdas[i] = at.logSnr;
        aug.alphas[i] = at.alpha;
        aug.sigmas[i] = at.sigma;
      }
    }
    const crop = c.cropSize > 0 ? [rng.int(h - size + 1), rng.int(w - size + 1)] : [0, 0];
    const weights = batch.exampleWeights ? Float32Array.from(batch.exampleWeights) : null;
    this.#step++;

    const lossValue = tf.tidy(() => {
      const t4 = (a: Float32Array) => tf.tensor4d(a, [b, 1, 1, 1]);
      let x = batch.xStart;
      let lowRes: tf.Tensor4D | null = null;
      if (sr && aug) {
        let augNoise = tf.tensor4d(aug.noise, [b, h, w, ch]);
        if (c.cropSize > 0) {
          augNoise = tf.slice(augNoise, [0, crop[0], crop[1], 0], [b, size, size, ch]);
        }
        // Noise conditioning augmentation: z_aug = α_aug up(x_low) + σ_aug ε_aug.
        lowRes = noiseAugment(batch.lowRes!, augNoise, {
          alpha: t4(aug.alphas),
          sigma: t4(aug.sigmas),
          factor: h / batch.lowRes!.shape[1],
          crop: c.cropSize > 0 ? [crop[0], crop[1]] : null,
        });
      }
      if (c.cropSize > 0) x = tf.slice(x, [0, crop[0], crop[1], 0], [b, size, size, ch]);
      const eps = tf.tensor4d(noise, [b, size, size, ch]);
      const zt = diffuse(x, eps, { alpha: t4(alphas), sigma: t4(sigmas) }); // z_t = α_t x + σ_t ε
      const keepT = tf.tensor1d(keep);
      const logSnrT = tf.tensor1d(lambdas);
      const augT = aug ? tf.tensor1d(aug.lambdas) : null;
      const cost = this.#optimizer.minimize(() => {
        const pred = this.unet.apply(zt, {
          logSnr: logSnrT,
          text: batch.text ?? null,
          keep: batch.text ? keepT : null,
          lowRes,
          augLogSnr: augT,
        });
        if (!weights) {
          return diffusionLoss(pred, {
            prediction: cfg.prediction,
            xStart: x,
            noise: eps,
            logSnr: lambdas,
            weighting: c.weighting,
            gamma: c.gamma,
          });
        }
        // Per-example weights: the loss of each example separately, weighted, averaged.
        let total: tf.Scalar = tf.scalar(0);
        for (let i = 0; i < b; i++) {
          const li = diffusionLoss(tf.slice(pred, [i, 0, 0, 0], [1, size, size, ch]), {
            prediction: cfg.prediction,
            xStart: tf.slice(x, [i, 0, 0, 0], [1, size, size, ch]),
            noise: tf.slice(eps, [i, 0, 0, 0], [1, size, size, ch]),
            logSnr: [lambdas[i]],
            weighting: c.weighting,
            gamma: c.gamma,
          });
          total = tf.add(total, tf.mul(li, weights[i]));
        }
        return tf.div(total, b) as tf.Scalar;
      }, this.unet.variables);
      return cost.dataSync()[0];
    });
    return lossValue;
  }

  /**
   * A copy of the state to checkpoint: the step (every draw of step n depends only on the seed and
   * n) and Adam's moments under the UNet's parameter names.
   *
   * @returns The {@link DiffusionTrainerState}.
   *
   * @example
   * ```ts
   * import { initBackend } from "../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { UNet } from "./unet.ts";
   * import { DiffusionTrainer } from "./diffusion_trainer.ts";
   * import { DEFAULT_SCHEDULE } from "./schedule.ts";
   * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 0 });
   * using trainer = new DiffusionTrainer(net, { schedule: DEFAULT_SCHEDULE });
   * console.log(trainer.getState().step); // 0
   * ```
   */
  getState(): DiffusionTrainerState {
    const byTf = new Map([...this.unet.params.vars].map(([name, v]) => [v.name, name]));
    const s = this.#optimizer.getState();
    const moments: AdamState["moments"] = {};
    for (const [tfName, m] of Object.entries(s.moments)) {
      const name = byTf.get(tfName);
      if (name !== undefined) moments[name] = m;
    }
    return { step: this.#step, optimizer: { iterations: s.iterations, moments } };
  }

  /**
   * Resumes from a state {@link DiffusionTrainer.getState} returned: the next step draws what an
   * uninterrupted trainer would, so a resumed run matches one that never stopped.
   *
   * @param state The {@link DiffusionTrainerState}.
   * @returns Nothing.
   * @throws {RangeError} When the step is not an integer ≥ 0 or a moment names an unknown parameter.
   *
   * @example
   * ```ts
   * import { initBackend } from "../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { UNet } from "./unet.ts";
   * import { DiffusionTrainer } from "./diffusion_trainer.ts";
   * import { DEFAULT_SCHEDULE } from "./schedule.ts";
   * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 0 });
   * using trainer = new DiffusionTrainer(net, { schedule: DEFAULT_SCHEDULE });
   * trainer.setState({ step: 3, optimizer: { iterations: 3, moments: {} } });
   * console.log(trainer.steps); // 3
   * ```
   */
  setState(state: DiffusionTrainerState): void {
    if (!Number.isInteger(state?.step) || state.step < 0) {
      throw new RangeError(
        `Cannot restore a trainer as 'step' must be an integer ≥ 0: current value is ${state?.step}`,
      );
    }
    const vars = this.unet.params.vars;
    const moments: AdamState["moments"] = {};
    for (const [name, m] of Object.entries(state.optimizer.moments)) {
      const v = vars.get(name);
      if (!v) {
        throw new RangeError(
          `Cannot restore a trainer as the optimizer state names an unknown parameter '${name}'`,
        );
      }
      moments[v.name] = m;
    }
    this.#optimizer.setState({ iterations: state.optimizer.iterations, moments });
    // Step n forks the n-th draw of the seeded stream: replay the stream up to the step.
    this.#rng = new Rng(this.config.seed);
    for (let i = 0; i < state.step; i++) this.#rng.nextUint32();
    this.#step = state.step;
  }

  /** Frees the optimizer state. */
  dispose(): void {
    this.#optimizer.dispose();
  }

  /** Frees the optimizer state (`using`). */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
