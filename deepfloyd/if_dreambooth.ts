/**
 * DreamBooth on DeepFloyd IF (Ruiz et al. 2022, Eq. 2, in IF's ε parameterisation as diffusers'
 * `train_dreambooth_lora.py` trains it): the instance images' denoising loss plus λ times the
 * class images' (prior preservation), with uniform integer timesteps and the ε channels of the
 * 6-channel output. Stage II is conditioned on the upscaled low-resolution image noised to a
 * (low) augmentation level, as IF samples it.
 *
 * @module
 */
import { type Adam, Rng, tf } from "./deps.ts";
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

/** Options of {@link ifDreamBoothLoss}. */
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

/**
 * The DreamBooth loss of one step: E‖ε̂(x_t, c) − ε‖² over the instance batch plus
 * `priorLossWeight` × the same over the class batch (Eq. 2), t ~ U{0, …, T − 1}.
 *
 * @param unet The UNet (its trainable variables get gradients; call inside `minimize`).
 * @param scheduler Gives ᾱ_t (the stage's DDPM scheduler).
 * @param instance The subject's images and prompt embeddings.
 * @param prior The class images and embeddings, or null (no prior preservation).
 * @param options Seed, λ and stage II's augmentation.
 * @returns The scalar loss, owned by the caller.
 */
export function ifDreamBoothLoss(
  unet: IFUNet,
  scheduler: DDPMScheduler,
  instance: IFTrainBatch,
  prior: IFTrainBatch | null,
  options: IFDreamBoothLossOptions,
): tf.Scalar {
  const c = unet.config;
  const lambda = options.priorLossWeight ?? 1;
  const stageII = c.classEmbedType === "timestep";
  const level = options.noiseLevel ?? 0;
  if (stageII && (!options.imageNoisingScheduler || !instance.lowRes || (prior && !prior.lowRes))) {
    throw new RangeError(
      `Cannot compute the IF stage II loss as it needs 'imageNoisingScheduler' and 'lowRes' images in every batch`,
    );
  }
  return tf.tidy(() => {
    const parts = prior ? [instance, prior] : [instance];
    const x0 = tf.concat(parts.map((p) => p.images), 0) as tf.Tensor4D;
    const text = tf.concat(parts.map((p) => p.promptEmbeds), 0) as tf.Tensor3D;
    const n = x0.shape[0];
    const rng = new Rng(options.seed, { algorithm: "mulberry32" });
    const t = Array.from({ length: n }, () => rng.int(scheduler.config.numTrainTimesteps));
    const noise = tf.randomNormal(x0.shape, 0, 1, "float32", options.seed) as tf.Tensor4D;
    let input = scheduler.addNoise(x0, noise, t); // x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε
    if (stageII) {
      const low = tf.concat(parts.map((p) => p.lowRes!), 0) as tf.Tensor4D;
      const augNoise = tf.randomNormal(low.shape, 0, 1, "float32", options.seed + 1) as tf.Tensor4D;
      const aug = options.imageNoisingScheduler!.addNoise(low, augNoise, new Array(n).fill(level));
      input = tf.concat([input, aug], 3);
    }
    const pred = unet.forward(input, {
      timesteps: t,
      encoderHiddenStates: text,
      classLabels: stageII ? new Array(n).fill(level) : undefined,
    });
    const eps = tf.slice(pred, [0, 0, 0, 0], [-1, -1, -1, x0.shape[3]]);
    const perExample = tf.mean(tf.square(tf.sub(eps, noise)), [1, 2, 3]); // [N]
    const ni = instance.images.shape[0];
    const instanceLoss = tf.mean(tf.slice(perExample, [0], [ni]));
    if (!prior) return instanceLoss as tf.Scalar;
    const priorLoss = tf.mean(tf.slice(perExample, [ni], [n - ni]));
    return tf.add(instanceLoss, tf.mul(priorLoss, lambda)) as tf.Scalar; // Eq. 2
  });
}

/**
 * One DreamBooth optimisation step: gradients of {@link ifDreamBoothLoss} with respect to
 * `variables` (default the UNet's LoRA adapters, see `IFUNet.initLoRA`), one Adam update.
 *
 * @param unet The UNet.
 * @param adam The optimizer (backend's `createAdam`).
 * @param scheduler The stage's DDPM scheduler.
 * @param batches `{ instance, prior }` (prior null: no prior preservation).
 * @param options The loss options and `variables`.
 * @returns The loss before the update.
 */
export async function ifDreamBoothStep(
  unet: IFUNet,
  adam: Adam,
  scheduler: DDPMScheduler,
  batches: { instance: IFTrainBatch; prior: IFTrainBatch | null },
  options: IFDreamBoothLossOptions & { variables?: tf.Variable[] },
): Promise<number> {
  const variables = options.variables ?? unet.loraVariables();
  if (variables.length === 0) {
    throw new RangeError(
      `Cannot train as there is nothing to train: add LoRA adapters (initLoRA) or pass 'variables'`,
    );
  }
  const loss = adam.minimize(
    () => ifDreamBoothLoss(unet, scheduler, batches.instance, batches.prior, options),
    variables,
  );
  const value = (await loss.data())[0];
  loss.dispose();
  return value;
}
