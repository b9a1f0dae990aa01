/**
 * diffusers' DDIM scheduler (v0.21): the deterministic (η = 0) or stochastic DDIM update on the
 * integer timesteps of an IF scheduler config.
 *
 * @module
 */
import { tf } from "./deps.ts";
import { readSharedConfig, refuseField, type SharedSchedulerConfig } from "./_scheduler_config.ts";
import {
  alphasCumprod,
  inferenceTimesteps,
  predictOriginal,
  type SchedulerStepResult,
} from "./ddpm_scheduler.ts";

/** A DDIM scheduler config (diffusers' `DDIMScheduler`). */
export interface DDIMSchedulerConfig extends SharedSchedulerConfig {
  /** ᾱ before the first training step is 1 (else ᾱ_0). */
  readonly setAlphaToOne: boolean;
}

/**
 * DDIM (Song et al. 2021, Eq. 12): x_{t−1} = √ᾱ_{prev} x̂₀ + √(1 − ᾱ_{prev} − σ²) ε + σ z.
 *
 * @example
 * ```ts
 * import { DDIMScheduler } from "./ddim_scheduler.ts";
 * const s = new DDIMScheduler({ beta_schedule: "squaredcos_cap_v2", steps_offset: 1 });
 * console.log(s.timesteps(5)); // [ 801, 601, 401, 201, 1 ]
 * ```
 */
export class DDIMScheduler {
  /** The validated config. */
  readonly config: DDIMSchedulerConfig;
  /** ᾱ_t (float32). */
  readonly alphasCumprod: Float32Array;

  /**
   * @param json A parsed scheduler config (diffusers names; a DDPM config is accepted too, as
   *   diffusers' `from_config` does); `rescale_betas_zero_snr` is refused.
   * @param overrides Fields to replace.
   */
  constructor(json: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
    const j = { ...json, ...overrides };
    const cls = j._class_name ?? "DDIMScheduler";
    if (cls !== "DDIMScheduler" && cls !== "DDPMScheduler") {
      refuseField("DDIM", "_class_name", cls, `must be "DDIMScheduler" or "DDPMScheduler"`);
    }
    if ((j.rescale_betas_zero_snr ?? false) !== false) {
      refuseField("DDIM", "rescale_betas_zero_snr", j.rescale_betas_zero_snr, "is not implemented");
    }
    const one = j.set_alpha_to_one ?? true;
    if (typeof one !== "boolean") {
      refuseField("DDIM", "set_alpha_to_one", one, "must be a boolean");
    }
    this.config = Object.freeze({ ...readSharedConfig("DDIM", j), setAlphaToOne: one });
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
   * One DDIM step from timestep `t`.
   *
   * @param modelOutput `[B, H, W, C]` (borrowed).
   * @param t The current timestep.
   * @param sample x_t `[B, H, W, C]` (borrowed).
   * @param options `steps` (number of inference steps), `eta` (default 0), `noise` (needed when
   *   eta > 0, borrowed).
   * @returns x_{t−1} and x̂₀, owned by the caller.
   */
  async step(
    modelOutput: tf.Tensor4D,
    t: number,
    sample: tf.Tensor4D,
    options: { steps: number; eta?: number; noise?: tf.Tensor4D },
  ): Promise<SchedulerStepResult> {
    const c = this.config;
    if (!Number.isInteger(t) || t < 0 || t >= c.numTrainTimesteps) {
      throw new RangeError(
        `Cannot step as 't' must be an integer timestep in [0, ${c.numTrainTimesteps}): current value is ${t}`,
      );
    }
    const eta = options.eta ?? 0;
    if (eta > 0 && !options.noise) {
      throw new RangeError(`Cannot step as 'noise' is required when eta = ${eta} > 0`);
    }
    const prevT = t - Math.floor(c.numTrainTimesteps / options.steps);
    const aT = this.alphasCumprod[t];
    const aPrev = prevT >= 0
      ? this.alphasCumprod[prevT]
      : (c.setAlphaToOne ? 1 : this.alphasCumprod[0]);
    const bT = 1 - aT;
    const x0 = await predictOriginal(c, modelOutput, sample, aT);
    const prevSample = tf.tidy(() => {
      const eps = c.predictionType === "epsilon"
        ? modelOutput
        : c.predictionType === "sample"
        ? tf.div(tf.sub(sample, tf.mul(x0, Math.sqrt(aT))), Math.sqrt(bT))
        : tf.add(tf.mul(modelOutput, Math.sqrt(aT)), tf.mul(sample, Math.sqrt(bT)));
      const variance = (1 - aPrev) / bT * (1 - aT / aPrev);
      const std = eta * Math.sqrt(variance);
      const dir = tf.mul(eps, Math.sqrt(1 - aPrev - std * std));
      const prev = tf.add(tf.mul(x0, Math.sqrt(aPrev)), dir);
      return std > 0 ? tf.add(prev, tf.mul(options.noise!, std)) : prev;
    }) as tf.Tensor4D;
    return { prevSample, predOriginalSample: x0 };
  }
}
