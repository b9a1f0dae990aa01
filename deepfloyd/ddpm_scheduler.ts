/**
 * The discrete-time schedulers DeepFloyd IF's configs name, as diffusers v0.21 defines them:
 * betas (squaredcos_cap_v2 = the cosine schedule of Nichol & Dhariwal 2021), the timestep grids,
 * and the DDPM ancestral step with learned-range or fixed variances and dynamic thresholding.
 *
 * @module
 */
import { dynamicThreshold, tf } from "./deps.ts";
import { readSharedConfig, refuseField, type SharedSchedulerConfig } from "./_scheduler_config.ts";

/**
 * β_i = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), maxBeta) with ᾱ(t) = cos²((t + 0.008)/1.008 · π/2): the
 * cosine schedule (Nichol & Dhariwal 2021, Eq. 17), diffusers' `betas_for_alpha_bar`, stored as
 * float32 like diffusers'.
 *
 * @param numTrainTimesteps T.
 * @param options `maxBeta` (default 0.999).
 * @returns T betas.
 *
 * @example
 * ```ts
 * import { cosineBetas } from "./ddpm_scheduler.ts";
 * console.log(cosineBetas(1000)[999]); // 0.9990000128746033
 * ```
 */
export function cosineBetas(
  numTrainTimesteps: number,
  options: { maxBeta?: number } = {},
): Float32Array {
  const maxBeta = options.maxBeta ?? 0.999;
  const alphaBar = (t: number) => Math.cos((t + 0.008) / 1.008 * Math.PI / 2) ** 2;
  const betas = new Float32Array(numTrainTimesteps);
  for (let i = 0; i < numTrainTimesteps; i++) {
    const t1 = i / numTrainTimesteps, t2 = (i + 1) / numTrainTimesteps;
    betas[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return betas;
}

/**
 * ᾱ_t = Π_{s≤t} (1 − β_s) of a scheduler config, as float32 values (the product accumulated in
 * float64, as PyTorch's CPU cumprod does).
 *
 * @param c The shared scheduler config.
 * @returns T cumulative products.
 */
export function alphasCumprod(c: SharedSchedulerConfig): Float32Array {
  const n = c.numTrainTimesteps;
  let betas: Float32Array;
  if (c.trainedBetas) betas = Float32Array.from(c.trainedBetas);
  else if (c.betaSchedule === "squaredcos_cap_v2") betas = cosineBetas(n);
  else {
    betas = new Float32Array(n);
    const sq = c.betaSchedule === "scaled_linear";
    const a = sq ? Math.sqrt(c.betaStart) : c.betaStart;
    const b = sq ? Math.sqrt(c.betaEnd) : c.betaEnd;
    for (let i = 0; i < n; i++) {
      const v = Math.fround(n === 1 ? a : a + (b - a) * i / (n - 1));
      betas[i] = sq ? v * v : v;
    }
  }
  const out = new Float32Array(n);
  let acc = 1;
  for (let i = 0; i < n; i++) {
    acc *= Math.fround(1 - betas[i]);
    out[i] = acc;
  }
  return out;
}

/**
 * The inference timesteps of diffusers' `set_timesteps` ("leading", "linspace", "trailing"),
 * from the noisiest down.
 *
 * @param c The shared scheduler config.
 * @param steps Number of inference steps.
 * @returns The integer timesteps.
 */
export function inferenceTimesteps(c: SharedSchedulerConfig, steps: number): number[] {
  const n = c.numTrainTimesteps;
  if (!Number.isInteger(steps) || steps < 1 || steps > n) {
    throw new RangeError(
      `Cannot set timesteps as 'steps' must be an integer in [1, ${n}]: current value is ${steps}`,
    );
  }
  const out: number[] = [];
  // numpy rounds half to even.
  const round = (x: number) => {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  };
  if (c.timestepSpacing === "linspace") {
    for (let i = steps - 1; i >= 0; i--) {
      out.push(round(steps === 1 ? 0 : i * (n - 1) / (steps - 1)));
    }
  } else if (c.timestepSpacing === "leading") {
    const ratio = Math.floor(n / steps);
    for (let i = steps - 1; i >= 0; i--) out.push(i * ratio + c.stepsOffset);
  } else {
    const ratio = n / steps;
    for (let i = 0; n - i * ratio > 0; i++) out.push(round(n - i * ratio) - 1);
  }
  return out;
}

/**
 * x̂₀ from the model output (ε, x₀ or v parameterisation), then clipped or dynamically
 * thresholded as the config says. Shared by DDPM and DDIM.
 */
export async function predictOriginal(
  c: SharedSchedulerConfig,
  modelOutput: tf.Tensor4D,
  sample: tf.Tensor4D,
  alphaProd: number,
): Promise<tf.Tensor4D> {
  const x0 = tf.tidy(() => {
    const a = Math.sqrt(alphaProd), s = Math.sqrt(1 - alphaProd);
    if (c.predictionType === "epsilon") return tf.div(tf.sub(sample, tf.mul(modelOutput, s)), a);
    if (c.predictionType === "sample") return tf.clone(modelOutput);
    return tf.sub(tf.mul(sample, a), tf.mul(modelOutput, s));
  }) as tf.Tensor4D;
  if (c.thresholding) {
    const t = await dynamicThreshold(x0, {
      percentile: c.dynamicThresholdingRatio,
      maxValue: c.sampleMaxValue,
    });
    x0.dispose();
    return t;
  }
  if (c.clipSample) {
    const t = tf.clipByValue(x0, -c.clipSampleRange, c.clipSampleRange);
    x0.dispose();
    return t;
  }
  return x0;
}

/** A DDPM scheduler config (diffusers' `DDPMScheduler`). */
export interface DDPMSchedulerConfig extends SharedSchedulerConfig {
  readonly varianceType: "fixed_small" | "fixed_small_log" | "fixed_large" | "learned_range";
}

/** What one scheduler step returns; tensors owned by the caller. */
export interface SchedulerStepResult {
  /** x_{t−1} `[B, H, W, C]`. */
  prevSample: tf.Tensor4D;
  /** x̂₀ after clipping/thresholding. */
  predOriginalSample: tf.Tensor4D;
}

/**
 * DDPM ancestral sampling with diffusers' exact arithmetic: posterior mean from x̂₀ and x_t, and
 * a variance that is fixed (β̃_t, "fixed_small") or interpolated in log space between β̃_t and
 * β_t by the model's extra output channels ("learned_range", Nichol & Dhariwal 2021, Eq. 15).
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { tf } from "./deps.ts";
 * import { DDPMScheduler } from "./ddpm_scheduler.ts";
 * const s = new DDPMScheduler({ beta_schedule: "squaredcos_cap_v2", variance_type: "learned_range" });
 * const ts = s.timesteps(4);
 * console.log(ts); // [ 750, 500, 250, 0 ]
 * const x = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
 * const out = tf.zeros([1, 2, 2, 6]) as tf.Tensor4D;
 * const r = await s.step(out, ts[0], x, { steps: 4, noise: tf.zeros([1, 2, 2, 3]) as tf.Tensor4D });
 * console.log(r.prevSample.shape); // [ 1, 2, 2, 3 ]
 * ```
 */
export class DDPMScheduler {
  /** The validated config. */
  readonly config: DDPMSchedulerConfig;
  /** ᾱ_t for t = 0 … T − 1 (float32, as diffusers holds them). */
  readonly alphasCumprod: Float32Array;
  /** The config as given (diffusers names, overrides applied), to rebuild with other overrides. */
  readonly json: Readonly<Record<string, unknown>>;

  /**
   * @param json A parsed `scheduler_config.json` (diffusers names); missing fields take
   *   diffusers v0.21's defaults. `learned` variance, `sigmoid` betas and unknown classes are refused.
   * @param overrides Fields to replace, e.g. `{ variance_type: "fixed_small" }` as diffusers' IF
   *   DreamBooth script samples.
   */
  constructor(json: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
    const j = { ...json, ...overrides };
    this.json = Object.freeze(j);
    const cls = j._class_name ?? "DDPMScheduler";
    if (cls !== "DDPMScheduler") {
      refuseField("DDPM", "_class_name", cls, `must be "DDPMScheduler"`);
    }
    const shared = readSharedConfig("DDPM", j);
    const vt = j.variance_type ?? "fixed_small";
    const allowed = ["fixed_small", "fixed_small_log", "fixed_large", "learned_range"];
    if (!allowed.includes(vt as string)) {
      refuseField("DDPM", "variance_type", vt, `is not implemented (only ${allowed.join(", ")})`);
    }
    this.config = Object.freeze({
      ...shared,
      varianceType: vt as DDPMSchedulerConfig["varianceType"],
    });
    this.alphasCumprod = alphasCumprod(this.config);
  }

  /**
   * The inference timesteps for `steps` steps (noisiest first).
   *
   * @param steps Number of steps.
   * @returns Integer timesteps.
   */
  timesteps(steps: number): number[] {
    return inferenceTimesteps(this.config, steps);
  }

  /**
   * The forward process q(x_t | x_0): √ᾱ_t x₀ + √(1 − ᾱ_t) ε, per example (diffusers'
   * `add_noise`; IF stage II noises the upscaled low-res image with it at `noise_level`).
   *
   * @param x0 Clean images `[B, H, W, C]` (borrowed).
   * @param noise Standard normal noise of the same shape (borrowed).
   * @param t One integer timestep per example.
   * @returns x_t, owned by the caller.
   */
  addNoise(x0: tf.Tensor4D, noise: tf.Tensor4D, t: ArrayLike<number>): tf.Tensor4D {
    const b = x0.shape[0];
    if (t.length !== b) {
      throw new RangeError(
        `Cannot add noise as 't' must hold ${b} timesteps: current length is ${t.length}`,
      );
    }
    const a = new Float32Array(b), s = new Float32Array(b);
    for (let i = 0; i < b; i++) {
      const ti = t[i];
      if (!Number.isInteger(ti) || ti < 0 || ti >= this.config.numTrainTimesteps) {
        throw new RangeError(
          `Cannot add noise as 't' must hold integers in [0, ${this.config.numTrainTimesteps}): current value is ${ti}`,
        );
      }
      a[i] = Math.sqrt(this.alphasCumprod[ti]);
      s[i] = Math.sqrt(1 - this.alphasCumprod[ti]);
    }
    return tf.tidy(() =>
      tf.add(tf.mul(x0, tf.tensor4d(a, [b, 1, 1, 1])), tf.mul(noise, tf.tensor4d(s, [b, 1, 1, 1])))
    ) as tf.Tensor4D;
  }

  /**
   * One reverse step from timestep `t` (one of `timesteps(steps)`).
   *
   * @param modelOutput `[B, H, W, C]` or `[B, H, W, 2C]` (ε then the variance channel v); with
   *   a variance type other than learned_range the extra channels are dropped, as IF's pipeline does.
   * @param t The current timestep.
   * @param sample x_t `[B, H, W, C]` (borrowed).
   * @param options `steps` (the number of inference steps, which sets the previous timestep),
   *   `noise` (standard normal `[B, H, W, C]`, borrowed; needed unless t is 0).
   * @returns x_{t−1} and x̂₀, owned by the caller.
   */
  async step(
    modelOutput: tf.Tensor4D,
    t: number,
    sample: tf.Tensor4D,
    options: { steps: number; noise?: tf.Tensor4D },
  ): Promise<SchedulerStepResult> {
    const c = this.config;
    const ch = sample.shape[3];
    if (modelOutput.shape[3] !== ch && modelOutput.shape[3] !== 2 * ch) {
      throw new RangeError(
        `Cannot step as 'modelOutput' must have ${ch} or ${
          2 * ch
        } channels: current shape is [${modelOutput.shape}]`,
      );
    }
    if (!Number.isInteger(t) || t < 0 || t >= c.numTrainTimesteps) {
      throw new RangeError(
        `Cannot step as 't' must be an integer timestep in [0, ${c.numTrainTimesteps}): current value is ${t}`,
      );
    }
    const prevT = t - Math.floor(c.numTrainTimesteps / options.steps);
    const aT = this.alphasCumprod[t];
    const aPrev = prevT >= 0 ? this.alphasCumprod[prevT] : 1;
    const bT = 1 - aT, bPrev = 1 - aPrev;
    const curAlpha = aT / aPrev, curBeta = 1 - curAlpha;
    const [eps, v] = modelOutput.shape[3] === 2 * ch
      ? tf.split(modelOutput, 2, 3) as [tf.Tensor4D, tf.Tensor4D]
      : [modelOutput, null];
    try {
      const x0 = await predictOriginal(c, eps, sample, aT);
      if (t > 0 && !options.noise) {
        x0.dispose();
        throw new RangeError(`Cannot step as 'noise' is required for t = ${t} > 0`);
      }
      const prevSample = tf.tidy(() => {
        // Posterior mean μ̃_t(x_t, x̂₀) (Ho et al. 2020, Eq. 7).
        const mean = tf.add(
          tf.mul(x0, Math.sqrt(aPrev) * curBeta / bT),
          tf.mul(sample, Math.sqrt(curAlpha) * bPrev / bT),
        );
        if (t === 0) return mean;
        const smallVar = Math.max(bPrev / bT * curBeta, 1e-20); // β̃_t
        let std: tf.Tensor | number;
        if (c.varianceType === "learned_range") {
          if (!v) {
            throw new RangeError(
              `Cannot step with variance_type "learned_range" as 'modelOutput' has no variance channels: current shape is [${modelOutput.shape}]`,
            );
          }
          // log σ² = frac·log β_t + (1 − frac)·log β̃_t with frac = (v + 1)/2.
          const frac = tf.div(tf.add(v, 1), 2);
          const logVar = tf.add(
            tf.mul(frac, Math.log(curBeta)),
            tf.mul(tf.sub(1, frac), Math.log(smallVar)),
          );
          std = tf.exp(tf.mul(logVar, 0.5));
        } else if (c.varianceType === "fixed_large") std = Math.sqrt(curBeta);
        else std = Math.sqrt(smallVar); // fixed_small and fixed_small_log sample alike
        return tf.add(mean, tf.mul(options.noise!, std));
      }) as tf.Tensor4D;
      return { prevSample, predOriginalSample: x0 };
    } finally {
      if (v) {
        eps.dispose();
        v.dispose();
      }
    }
  }
}
