/**
 * The forward (noising) process of a variance-preserving diffusion: z_t = α_t x + σ_t ε.
 *
 * @module
 */
import { tf } from "../deps.ts";

/** Options of {@link diffuse}. */
export interface DiffuseOptions {
  /** α_t: a number, or a tensor broadcastable to x such as `[B, 1, 1, 1]`. */
  alpha: number | tf.Tensor;
  /** σ_t: a number, or a tensor broadcastable to x. */
  sigma: number | tf.Tensor;
}

/**
 * Samples z_t ~ q(z_t | x) = N(α_t x, σ_t² I) given the noise: z_t = α_t x + σ_t ε.
 *
 * @param xStart Clean images x, `[B, H, W, C]` in [−1, 1] (borrowed).
 * @param noise ε ~ N(0, I), same shape (borrowed).
 * @param options `alpha` and `sigma` (required).
 * @returns z_t, owned by the caller.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { tf } from "../deps.ts";
 * import { diffuse } from "./forward_process.ts";
 * const z = diffuse(tf.tensor1d([1]), tf.tensor1d([1]), { alpha: 0.6, sigma: 0.8 });
 * console.log(z.dataSync()[0].toFixed(1)); // "1.4"
 * ```
 */
export function diffuse<T extends tf.Tensor>(xStart: T, noise: T, options: DiffuseOptions): T {
  const { alpha, sigma } = options;
  if (xStart.shape.join() !== noise.shape.join()) {
    throw new RangeError(
      `Cannot diffuse as 'noise' must have the shape of 'xStart' [${xStart.shape}]: current shape is [${noise.shape}]`,
    );
  }
  return tf.tidy(() => tf.add(tf.mul(alpha, xStart), tf.mul(sigma, noise)) as T); // z_t = α_t x + σ_t ε
}
