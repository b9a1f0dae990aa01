/**
 * Samplers for continuous-time VP diffusion: DDIM (deterministic; Song et al. 2021) and ancestral
 * (the DDPM posterior; Ho et al. 2020), with classifier-free guidance (Ho & Salimans 2022) and
 * Imagen's dynamic thresholding (Saharia et al. 2022, §2.3). A sampler is a pure function of its
 * inputs and seed: it returns its time grid and has no hidden state or call order.
 *
 * @module
 */
import { Rng, tf } from "../deps.ts";
import { type Schedule, scheduleAt } from "./schedule.ts";
import { convertPrediction, type Prediction } from "./prediction.ts";
import { inRange, oneOf, positiveInt } from "../_validate.ts";

/** The kinds of sampler. */
export type SamplerKind = "ddim" | "ancestral";

/** How x̂ is kept in range at each step. */
export type Thresholding = "dynamic" | "static" | "none";

/** Sampler settings: typed data. */
export interface SamplerConfig {
  /** `ddim` (deterministic after the initial noise) or `ancestral`. Default "ddim". */
  readonly kind: SamplerKind;
  /** Number of denoising steps. Default 50. */
  readonly steps: number;
  /** Classifier-free guidance weight w (1 = no guidance; Imagen: ε̃ = w ε_c + (1 − w) ε_u). Default 1. */
  readonly guidance: number;
  /** `dynamic` (Imagen), `static` (clip to [−1, 1]) or `none`. Default "dynamic". */
  readonly thresholding: Thresholding;
  /** Percentile of |x̂| used by dynamic thresholding. Default 0.995. */
  readonly dynamicPercentile: number;
}

/** Defaults of {@link SamplerConfig}. */
export const DEFAULT_SAMPLER: SamplerConfig = Object.freeze({
  kind: "ddim",
  steps: 50,
  guidance: 1,
  thresholding: "dynamic",
  dynamicPercentile: 0.995,
});

/**
 * Merges options over {@link DEFAULT_SAMPLER} and validates them.
 *
 * @param options Any subset of {@link SamplerConfig}.
 * @returns A new frozen config.
 *
 * @example
 * ```ts
 * import { createSamplerConfig } from "./sampler.ts";
 * console.log(createSamplerConfig({ steps: 10 }).kind); // "ddim"
 * ```
 */
export function createSamplerConfig(options: Partial<SamplerConfig> = {}): SamplerConfig {
  const c = { ...DEFAULT_SAMPLER, ...options };
  const act = "sample";
  oneOf(act, "kind", c.kind, ["ddim", "ancestral"] as const);
  positiveInt(act, "steps", c.steps);
  inRange(act, "guidance", c.guidance, 0, 1000);
  oneOf(act, "thresholding", c.thresholding, ["dynamic", "static", "none"] as const);
  inRange(act, "dynamicPercentile", c.dynamicPercentile, 0, 1);
  return Object.freeze(c);
}

/**
 * The time grid of a sampler with `steps` steps: t_i = 1 − i/steps, i = 0…steps (from pure noise at
 * t = 1 to the clean end t = 0).
 *
 * @param steps Number of steps (positive integer).
 * @returns `steps + 1` decreasing times.
 *
 * @example
 * ```ts
 * import { timeGrid } from "./sampler.ts";
 * console.log(timeGrid(4)); // Float64Array(5) [ 1, 0.75, 0.5, 0.25, 0 ]
 * ```
 */
export function timeGrid(steps: number): Float64Array {
  positiveInt("sample", "steps", steps);
  const g = new Float64Array(steps + 1);
  for (let i = 0; i <= steps; i++) g[i] = 1 - i / steps;
  g[steps] = 0;
  return g;
}

/** A denoiser as the samplers see it. */
export interface Denoiser {
  /** What `predict` returns. */
  readonly prediction: Prediction;
  /**
   * Predictions for z_t at log-SNR λ: the conditional one, and the unconditional (null-condition)
   * one when `unconditional` is true. Outputs belong to the caller.
   */
  predict(
    zt: tf.Tensor4D,
    logSnr: number,
    options: { unconditional: boolean },
  ): { conditional: tf.Tensor4D; unconditional?: tf.Tensor4D };
}

/**
 * Classifier-free guidance in x-space: x̃ = x_u + w (x_c − x_u), equivalent at fixed z_t to Imagen's
 * ε̃ = w ε_c + (1 − w) ε_u.
 *
 * @param conditional x̂ with the text (borrowed).
 * @param unconditional x̂ with the null condition (borrowed).
 * @param options `guidance`: the weight w (required).
 * @returns x̃, owned by the caller.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { tf } from "../deps.ts";
 * import { guide } from "./sampler.ts";
 * console.log(guide(tf.tensor1d([1]), tf.tensor1d([0]), { guidance: 3 }).dataSync()[0]); // 3
 * ```
 */
export function guide<T extends tf.Tensor>(
  conditional: T,
  unconditional: T,
  options: { guidance: number },
): T {
  return tf.tidy(() =>
    tf.add(unconditional, tf.mul(options.guidance, tf.sub(conditional, unconditional))) as T
  );
}

/**
 * Imagen's dynamic thresholding: per example, s = max(percentile_p(|x̂|), 1); x̂ ← clip(x̂, −s, s)/s.
 * With `maxValue`, s is also capped there (diffusers' `sample_max_value`; DeepFloyd IF uses 1.5).
 *
 * @param xStart Predicted clean images `[B, H, W, C]` (borrowed).
 * @param options `percentile` (default 0.995), `maxValue` (default Infinity: no cap).
 * @returns The thresholded images, owned by the caller.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { tf } from "../deps.ts";
 * import { dynamicThreshold } from "./sampler.ts";
 * const y = await dynamicThreshold(tf.tensor4d([0, 2, 4, -4], [1, 2, 2, 1]), { percentile: 1 });
 * console.log(y.dataSync()); // Float32Array(4) [ 0, 0.5, 1, -1 ]
 * ```
 */
export async function dynamicThreshold(
  xStart: tf.Tensor4D,
  options: { percentile?: number; maxValue?: number } = {},
): Promise<tf.Tensor4D> {
  const p = inRange("threshold", "percentile", options.percentile ?? 0.995, 0, 1);
  const maxValue = options.maxValue ?? Infinity;
  if (!(maxValue >= 1)) {
    throw new RangeError(
      `Cannot threshold as 'maxValue' must be at least 1: current value is ${maxValue}`,
    );
  }
  const b = xStart.shape[0];
  const n = xStart.size / b;
  const data = (await xStart.data()) as Float32Array;
  const s = new Float32Array(b);
  const buf = new Float32Array(n);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < n; j++) buf[j] = Math.abs(data[i * n + j]);
    buf.sort();
    const pos = p * (n - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, n - 1);
    const q = buf[lo] + (buf[hi] - buf[lo]) * (pos - lo); // linear interpolation, like numpy
    s[i] = Math.min(maxValue, Math.max(1, q));
  }
  return tf.tidy(() => {
    const st = tf.tensor4d(s, [b, 1, 1, 1]);
    return tf.div(tf.maximum(tf.minimum(xStart, st), tf.neg(st)), st); // clip(x̂, −s, s)/s
  });
}

/** α and σ at one time of the grid (what `scheduleAt` returns). */
export interface StepTime {
  /** α at this time. */
  readonly alpha: number;
  /** σ at this time. */
  readonly sigma: number;
}

/**
 * One DDIM step from time t to the earlier time s (Song et al. 2021, η = 0): with
 * ε̂ = (z_t − α_t x̂)/σ_t, z_s = α_s x̂ + σ_s ε̂.
 *
 * @param zt z_t `[B, H, W, C]` (borrowed).
 * @param xHat The (guided, thresholded) prediction x̂ of the clean images (borrowed).
 * @param options `from` (α_t, σ_t) and `to` (α_s, σ_s).
 * @returns z_s, owned by the caller.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { tf } from "../deps.ts";
 * import { ddimStep } from "./sampler.ts";
 * const z = tf.tensor4d([1], [1, 1, 1, 1]), x = tf.tensor4d([0.5], [1, 1, 1, 1]);
 * const s = ddimStep(z, x, { from: { alpha: 0.6, sigma: 0.8 }, to: { alpha: 1, sigma: 0 } });
 * console.log(s.dataSync()[0]); // 0.5
 * tf.dispose([z, x, s]);
 * ```
 */
export function ddimStep(
  zt: tf.Tensor4D,
  xHat: tf.Tensor4D,
  options: { from: StepTime; to: StepTime },
): tf.Tensor4D {
  const { from: at, to } = options;
  return tf.tidy(() => {
    const eps = tf.div(tf.sub(zt, tf.mul(at.alpha, xHat)), at.sigma); // ε̂ = (z_t − α_t x̂)/σ_t
    return tf.add(tf.mul(to.alpha, xHat), tf.mul(to.sigma, eps)); // z_s = α_s x̂ + σ_s ε̂
  });
}

/**
 * One ancestral step from time t to the earlier time s: z_s ~ q(z_s | z_t, x̂) with mean
 * (α_{t|s} σ_s²/σ_t²) z_t + (α_s σ²_{t|s}/σ_t²) x̂ and variance σ²_{t|s} σ_s²/σ_t², where
 * α_{t|s} = α_t/α_s and σ²_{t|s} = σ_t² − α²_{t|s} σ_s² (Kingma et al. 2021, Eq. 3–4).
 *
 * @param zt z_t `[B, H, W, C]` (borrowed).
 * @param xHat The (guided, thresholded) prediction x̂ of the clean images (borrowed).
 * @param options `from` (α_t, σ_t), `to` (α_s, σ_s), `noise` ~ N(0, I) of z_t's shape (borrowed).
 * @returns z_s, owned by the caller.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { tf } from "../deps.ts";
 * import { ancestralStep } from "./sampler.ts";
 * const z = tf.tensor4d([1], [1, 1, 1, 1]), x = tf.tensor4d([0.5], [1, 1, 1, 1]);
 * const noise = tf.zeros([1, 1, 1, 1]) as tf.Tensor4D;
 * const s = ancestralStep(z, x, { from: { alpha: 0.6, sigma: 0.8 }, to: { alpha: 1, sigma: 0 }, noise });
 * console.log(s.dataSync()[0]); // 0.5
 * tf.dispose([z, x, noise, s]);
 * ```
 */
export function ancestralStep(
  zt: tf.Tensor4D,
  xHat: tf.Tensor4D,
  options: { from: StepTime; to: StepTime; noise: tf.Tensor4D },
): tf.Tensor4D {
  const { from: at, to, noise } = options;
  const alphaTS = at.alpha / to.alpha; // α_{t|s}
  const sigma2TS = at.sigma ** 2 - alphaTS ** 2 * to.sigma ** 2; // σ²_{t|s}
  const cz = (alphaTS * to.sigma ** 2) / at.sigma ** 2;
  const cx = (to.alpha * sigma2TS) / at.sigma ** 2;
  const std = Math.sqrt(Math.max(0, (sigma2TS * to.sigma ** 2) / at.sigma ** 2));
  return tf.tidy(() => {
    const mean = tf.add(tf.mul(cz, zt), tf.mul(cx, xHat));
    return tf.add(mean, tf.mul(std, noise));
  });
}

/** Options of {@link sampleImages}. */
export interface SampleImagesOptions {
  /** Shape of the images `[B, H, W, C]`. */
  shape: [number, number, number, number];
  /** The noise schedule. */
  schedule: Schedule;
  /** Sampler settings (merged over {@link DEFAULT_SAMPLER}). */
  sampler?: Partial<SamplerConfig>;
  /** Seed of the initial noise and of the ancestral noise. Default 0. */
  seed?: number;
  /** Called after each step with `(done, total)`. */
  onStep?: (done: number, total: number) => void;
}

/** What a sampler returns. */
export interface SampleResult {
  /** The images in [−1, 1] `[B, H, W, C]`, owned by the caller. */
  images: tf.Tensor4D;
  /** The time grid it used (`steps + 1` values from 1 to 0). */
  timeGrid: Float64Array;
}

/**
 * Runs a sampler from pure noise at t = 1 to t = 0.
 *
 * Each step takes {@link ddimStep} or {@link ancestralStep} on the guided, thresholded x̂; the last
 * step returns x̂.
 *
 * @param denoiser The model, as a {@link Denoiser}.
 * @param options See {@link SampleImagesOptions}.
 * @returns The images and the time grid.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { tf } from "../deps.ts";
 * import { sampleImages } from "./sampler.ts";
 * import { DEFAULT_SCHEDULE } from "./schedule.ts";
 * // A denoiser that always predicts x = 0.5.
 * const denoiser = { prediction: "x" as const,
 *   predict: (z: tf.Tensor4D) => ({ conditional: tf.fill(z.shape, 0.5) as tf.Tensor4D }) };
 * const { images, timeGrid } = await sampleImages(denoiser,
 *   { shape: [1, 2, 2, 1], schedule: DEFAULT_SCHEDULE, sampler: { steps: 3 } });
 * console.log(images.dataSync()[0], timeGrid.length); // 0.5 4
 * ```
 */
export async function sampleImages(
  denoiser: Denoiser,
  options: SampleImagesOptions,
): Promise<SampleResult> {
  const cfg = createSamplerConfig(options.sampler);
  const { shape, schedule } = options;
  shape.forEach((d, i) => positiveInt("sample", `shape[${i}]`, d));
  const grid = timeGrid(cfg.steps);
  const rng = new Rng(options.seed ?? 0);
  const initRng = rng.fork(0);
  const stepRng = rng.fork(1);
  const size = shape.reduce((a, b) => a * b, 1);
  const guided = cfg.guidance !== 1;
  let z = tf.tensor4d(initRng.normals(size), shape); // z_1 ~ N(0, I)
  try {
    for (let i = 0; i < cfg.steps; i++) {
      const at = scheduleAt(schedule, grid[i]);
      const last = i === cfg.steps - 1;
      // x̂ at (z_t, λ_t), guided.
      let xHat = tf.tidy(() => {
        const out = denoiser.predict(z, at.logSnr, { unconditional: guided });
        const toX = (pred: tf.Tensor4D) =>
          convertPrediction(pred, {
            from: denoiser.prediction,
            to: "x",
            zt: z,
            alpha: at.alpha,
            sigma: at.sigma,
          });
        const xc = toX(out.conditional);
        if (!guided) return xc;
        if (!out.unconditional) {
          throw new Error("Cannot sample as the denoiser returned no unconditional prediction");
        }
        return guide(xc, toX(out.unconditional), { guidance: cfg.guidance });
      });
      if (cfg.thresholding === "dynamic") {
        const t = await dynamicThreshold(xHat, { percentile: cfg.dynamicPercentile });
        xHat.dispose();
        xHat = t;
      } else if (cfg.thresholding === "static") {
        const t = tf.clipByValue(xHat, -1, 1);
        xHat.dispose();
        xHat = t;
      }
      let next: tf.Tensor4D;
      if (last) {
        next = xHat;
      } else {
        const to = scheduleAt(schedule, grid[i + 1]);
        const noise = cfg.kind === "ancestral" ? stepRng.normals(size) : null;
        next = tf.tidy(() =>
          cfg.kind === "ddim"
            ? ddimStep(z, xHat, { from: at, to })
            : ancestralStep(z, xHat, { from: at, to, noise: tf.tensor4d(noise!, shape) })
        );
        xHat.dispose();
      }
      z.dispose();
      z = next;
      options.onStep?.(i + 1, cfg.steps);
    }
    const images = tf.clipByValue(z, -1, 1);
    z.dispose();
    return { images, timeGrid: grid };
  } catch (e) {
    z.dispose();
    throw e;
  }
}
