/**
 * Noise-conditioning augmentation of a super-resolution stage's input (Imagen, Saharia et al. 2022,
 * §2.5; Ho et al. 2021, cascaded diffusion): the low-res image is upsampled to the stage's size and
 * corrupted by the forward process at the augmentation's own diffusion time t_aug,
 * z_aug = α(t_aug) · up(x_low) + σ(t_aug) · ε_aug, and the stage is conditioned on t_aug.
 *
 * @module
 */
import { tf, upsampleNearest } from "../deps.ts";
import { diffuse } from "./forward_process.ts";

/** Options of {@link noiseAugment}. */
export interface NoiseAugmentOptions {
  /** α(t_aug): a number, or a tensor broadcastable to the output such as `[B, 1, 1, 1]`. */
  alpha: number | tf.Tensor;
  /** σ(t_aug): a number, or a tensor broadcastable to the output. */
  sigma: number | tf.Tensor;
  /**
   * A square crop `[top, left]` of the upsampled image, of `noise`'s size (training crops the
   * high-res image and its condition alike). Default none: `noise` has the upsampled size.
   */
  crop?: readonly [number, number] | null;
}

/**
 * The SR condition: z_aug = α(t_aug) · up(x_low) + σ(t_aug) · ε_aug, with nearest-neighbour
 * upsampling by an integer factor (default: `noise`'s size over `lowRes`'s) and, with `crop`, a
 * square crop of `noise`'s size taken from the upsampled image.
 *
 * @param lowRes The low-res images `[B, h, w, C]` in [−1, 1] (borrowed).
 * @param noise ε_aug ~ N(0, I), `[B, H, W, C]` (borrowed): the output's shape.
 * @param options `alpha`, `sigma` (required), `factor` (the upsampling factor; default H / h),
 * `crop` (see {@link NoiseAugmentOptions}; needs `factor`).
 * @returns z_aug `[B, H, W, C]`, owned by the caller.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { tf } from "../deps.ts";
 * import { noiseAugment } from "./noise_augment.ts";
 * const low = tf.ones([1, 1, 1, 1]) as tf.Tensor4D, eps = tf.ones([1, 2, 2, 1]) as tf.Tensor4D;
 * const z = noiseAugment(low, eps, { alpha: 0.6, sigma: 0.8 });
 * console.log(z.shape, z.dataSync()[3].toFixed(1)); // [ 1, 2, 2, 1 ] "1.4"
 * tf.dispose([low, eps, z]);
 * ```
 */
export function noiseAugment(
  lowRes: tf.Tensor4D,
  noise: tf.Tensor4D,
  options: NoiseAugmentOptions & { factor?: number },
): tf.Tensor4D {
  const [b, size, , ch] = noise.shape;
  const factor = options.factor ?? size / lowRes.shape[1];
  if (!Number.isInteger(factor) || factor < 1) {
    throw new RangeError(
      `Cannot augment the low-res input as the upsampling factor must be an integer ≥ 1: current value is ${factor}`,
    );
  }
  return tf.tidy(() => {
    let up = upsampleNearest(lowRes, factor); // [B, H, W, C]
    if (options.crop) {
      up = tf.slice(up, [0, options.crop[0], options.crop[1], 0], [b, size, size, ch]);
    }
    return diffuse(up, noise, { alpha: options.alpha, sigma: options.sigma }); // z_aug = α up(x) + σ ε
  });
}
