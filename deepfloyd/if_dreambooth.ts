/**
 * The forward half of DreamBooth on DeepFloyd IF (in IF's ε parameterisation as diffusers'
 * `train_dreambooth_lora.py` trains it): uniform integer timesteps, the ε channels of the
 * 6-channel output, and for stage II the upscaled low-resolution image noised to a (low)
 * augmentation level, as IF samples it. The loss (Eq. 2) and the step are dreambooth/'s.
 *
 * @module
 */
import { Rng, tf } from "./deps.ts";
import type { IFUNet } from "./if_unet.ts";
import type { DDPMScheduler } from "./ddpm_scheduler.ts";

/** Images and their prompt embeddings (borrowed). */
export interface IFTrainBatch {
  /** Target images `[N, H, W, 3]` in [−1, 1]. */
  images: tf.Tensor4D;
  /** T5 prompt embeddings `[N, L, D]` (e.g. from `encodeIFPromptsStreaming`, frozen encoder). */
  promptEmbeds: tf.Tensor3D;
  /** Stage II: the low-resolution images upscaled to `[N, H, W, 3]`, in [−1, 1]. */
  lowRes?: tf.Tensor4D;
}

/** Options of {@link ifTrainingPrediction} (and of dreambooth/'s `ifDreamBoothLoss`). */
export interface IFDreamBoothLossOptions {
  /** Seed of the timesteps and noise of this step. */
  seed: number;
  /** λ of the prior-preservation term. Default 1. */
  priorLossWeight?: number;
  /**
   * Stage II: the noise-augmentation level (integer timestep of `imageNoisingScheduler`). Default
   * 0, IF's lowest: DreamBooth fine-tunes SR at t_aug = 1e-5 (σ ≈ 1.6e-5), below what IF's level 0
   * already adds (σ = 6.4e-3, 0.82 of an 8-bit step); see reports/2026-12-07-if-noise-level-mapping.md.
   */
  noiseLevel?: number;
  /** Stage II: the scheduler that noises the upscaled image. */
  imageNoisingScheduler?: DDPMScheduler;
}

/** What {@link ifTrainingPrediction} returns (tensors owned by the caller). */
export interface IFTrainingPrediction {
  /** The predicted ε (the first 3 of the 6 output channels), `[N, H, W, 3]`. */
  prediction: tf.Tensor4D;
  /** The clean images x₀ of the rows, `[N, H, W, 3]`. */
  xStart: tf.Tensor4D;
  /** The noise ε added to each row, `[N, H, W, 3]`. */
  noise: tf.Tensor4D;
  /** log-SNR of each row's integer timestep, log(ᾱ_t / (1 − ᾱ_t)). */
  logSnr: number[];
}

/**
 * The forward half of one IF training step, as diffusers' IF DreamBooth scripts run it: t ~
 * U{0, …, T − 1} per row, x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε, (stage II) the upscaled low-resolution
 * image noised to `noiseLevel` concatenated to the input and the level as class label, and the ε
 * channels of the UNet's output. The loss over these rows (Eq. 2: instance + λ·prior) is
 * dreambooth/'s `dreamboothLoss`.
 *
 * @param unet The UNet (its trainable variables get gradients when called inside `minimize`).
 * @param scheduler Gives ᾱ_t (the stage's DDPM scheduler).
 * @param batches The batches whose rows are concatenated in order (e.g. instance, then prior).
 * @param options Seed and stage II's augmentation.
 * @returns The prediction, targets and log-SNRs, owned by the caller.
 */
export function ifTrainingPrediction(
  unet: IFUNet,
  scheduler: DDPMScheduler,
  batches: readonly IFTrainBatch[],
  options: IFDreamBoothLossOptions,
): IFTrainingPrediction {
  const stageII = unet.config.classEmbedType === "timestep";
  const level = options.noiseLevel ?? 0;
  if (stageII && (!options.imageNoisingScheduler || batches.some((b) => !b.lowRes))) {
    throw new RangeError(
      `Cannot compute the IF stage II loss as it needs 'imageNoisingScheduler' and 'lowRes' images in every batch`,
    );
  }
  const n = batches.reduce((a, b) => a + b.images.shape[0], 0);
  const rng = new Rng(options.seed, { algorithm: "mulberry32" });
  const t = Array.from({ length: n }, () => rng.int(scheduler.config.numTrainTimesteps));
  const logSnr = t.map((i) => {
    const a = scheduler.alphasCumprod[i];
    return Math.log(a / (1 - a));
  });
  const out = tf.tidy(() => {
    const xStart = tf.concat(batches.map((p) => p.images), 0) as tf.Tensor4D;
    const text = tf.concat(batches.map((p) => p.promptEmbeds), 0) as tf.Tensor3D;
    const noise = tf.randomNormal(xStart.shape, 0, 1, "float32", options.seed) as tf.Tensor4D;
    let input = scheduler.addNoise(xStart, noise, t); // x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε
    if (stageII) {
      const low = tf.concat(batches.map((p) => p.lowRes!), 0) as tf.Tensor4D;
      const augNoise = tf.randomNormal(low.shape, 0, 1, "float32", options.seed + 1) as tf.Tensor4D;
      const aug = options.imageNoisingScheduler!.addNoise(low, augNoise, new Array(n).fill(level));
      input = tf.concat([input, aug], 3);
    }
    const pred = unet.forward(input, {
      timesteps: t,
      encoderHiddenStates: text,
      classLabels: stageII ? new Array(n).fill(level) : undefined,
    });
    const prediction = tf.slice(pred, [0, 0, 0, 0], [-1, -1, -1, xStart.shape[3]]) as tf.Tensor4D;
    return { prediction, xStart, noise };
  });
  return { ...out, logSnr };
}
