/**
 * The one conversion between the three parameterisations of a denoiser's output: ε (the noise), x
 * (the paper's x̂_θ, Eq. 1) and v = α ε − σ x (Salimans & Ho 2022), given z_t = α x + σ ε.
 *
 * @module
 */
import { tf } from "../deps.ts";

/** What a denoiser predicts. */
export type Prediction = "epsilon" | "x" | "v";

/** The list of valid {@link Prediction} values. */
export const PREDICTIONS: readonly Prediction[] = Object.freeze(["epsilon", "x", "v"]);

/** Options of {@link convertPrediction}. */
export interface ConvertPredictionOptions {
  /** The parameterisation of `prediction`. */
  from: Prediction;
  /** The parameterisation to return. */
  to: Prediction;
  /** The noisy input z_t, `[B, H, W, C]` (borrowed). */
  zt: tf.Tensor;
  /** α_t: a number, or a tensor broadcastable to z_t such as `[B, 1, 1, 1]`. */
  alpha: number | tf.Tensor;
  /** σ_t: a number, or a tensor broadcastable to z_t. */
  sigma: number | tf.Tensor;
}

/**
 * Converts a prediction between ε, x and v. With z = α x + σ ε and α² + σ² = 1:
 * x = (z − σ ε)/α, ε = (z − α x)/σ, v = α ε − σ x, x = α z − σ v, ε = σ z + α v.
 *
 * @param prediction The model output (borrowed), same shape as `zt`.
 * @param options `from`, `to`, `zt`, `alpha`, `sigma` (all required).
 * @returns A new tensor owned by the caller.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { tf } from "../deps.ts";
 * import { convertPrediction } from "./prediction.ts";
 * const zt = tf.tensor1d([0.5]);
 * const x = convertPrediction(tf.tensor1d([0.1]), { from: "v", to: "x", zt, alpha: 0.6, sigma: 0.8 });
 * console.log(x.dataSync()[0].toFixed(2)); // "0.22"
 * ```
 */
export function convertPrediction<T extends tf.Tensor>(
  prediction: T,
  options: ConvertPredictionOptions,
): T {
  const { from, to, zt, alpha, sigma } = options;
  for (const [k, v] of [["from", from], ["to", to]] as const) {
    if (!PREDICTIONS.includes(v)) {
      throw new RangeError(
        `Cannot convert a prediction as '${k}' must be one of "epsilon", "x", "v": current value is ${
          JSON.stringify(v)
        }`,
      );
    }
  }
  if (from === to) return tf.clone(prediction);
  return tf.tidy(() => {
    // Every conversion goes through x and ε.
    let x: tf.Tensor;
    let eps: tf.Tensor | null = null;
    if (from === "x") x = prediction;
    else if (from === "epsilon") {
      eps = prediction;
      x = tf.div(tf.sub(zt, tf.mul(sigma, prediction)), alpha); // x = (z − σ ε)/α
    } else {
      x = tf.sub(tf.mul(alpha, zt), tf.mul(sigma, prediction)); // x = α z − σ v
      if (to === "epsilon") return tf.add(tf.mul(sigma, zt), tf.mul(alpha, prediction)) as T; // ε = σ z + α v
    }
    if (to === "x") return x as T;
    eps ??= tf.div(tf.sub(zt, tf.mul(alpha, x)), sigma); // ε = (z − α x)/σ
    if (to === "epsilon") return eps as T;
    return tf.sub(tf.mul(alpha, eps), tf.mul(sigma, x)) as T; // v = α ε − σ x
  });
}
