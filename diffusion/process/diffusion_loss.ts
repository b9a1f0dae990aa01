/**
 * The denoising loss of the paper, Eq. 1: E[w_t ‖x̂_θ(α_t x + σ_t ε, c) − x‖²], computed in x-space
 * whatever the model predicts, with a choice of weight w_t.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { Prediction } from "./prediction.ts";
import { oneOf } from "../_validate.ts";

/**
 * The weight w_t of Eq. 1, as a function of SNR = e^λ:
 * - `epsilon`: w_t = SNR, which makes the loss the usual ‖ε̂ − ε‖² (uniform in ε-space, DDPM);
 * - `minSnr`: w_t = min(SNR, γ) (Min-SNR-γ, Hang et al. 2023);
 * - `v`: w_t = SNR + 1, the ‖v̂ − v‖² loss;
 * - `x`: w_t = 1.
 */
export type LossWeighting = "epsilon" | "minSnr" | "v" | "x";

/** The list of valid {@link LossWeighting} values. */
export const LOSS_WEIGHTINGS: readonly LossWeighting[] = Object.freeze([
  "epsilon",
  "minSnr",
  "v",
  "x",
]);

/** Options of {@link diffusionLoss}. */
export interface DiffusionLossOptions {
  /** What `prediction` is. */
  prediction: Prediction;
  /** Clean images x, `[B, H, W, C]` (borrowed). */
  xStart: tf.Tensor4D;
  /** The noise ε that made z_t, `[B, H, W, C]` (borrowed). */
  noise: tf.Tensor4D;
  /** λ_t of each example, length B. */
  logSnr: ArrayLike<number>;
  /** The weight w_t. Default `"minSnr"`. */
  weighting?: LossWeighting;
  /** γ of Min-SNR-γ. Default 5. */
  gamma?: number;
  /**
   * Per-pixel weights `[B, H, W, 1]` (borrowed), e.g. more weight on an object than on its
   * background. Each example's error becomes Σ w·(x̂ − x)² / Σ w over its pixels, so the loss keeps
   * its scale. Default: none (the plain mean).
   */
  pixelWeights?: tf.Tensor4D | null;
}

/**
 * Eq. 1 in x-space: mean over the batch of w_t · mean over pixels of (x̂ − x)².
 *
 * The model's error is taken in its own parameterisation and mapped to x-space exactly, which is
 * numerically stable where α_t or σ_t is tiny: x̂ − x = −(σ/α)(ε̂ − ε) = −σ (v̂ − v), so
 * ‖x̂ − x‖² = c_t ‖pred − target‖² with c_t = 1/SNR (ε), σ² (v), 1 (x).
 *
 * @param prediction The model output, `[B, H, W, C]` (borrowed).
 * @param options See {@link DiffusionLossOptions}; `weighting` defaults to `"minSnr"`, `gamma` to 5.
 * @returns A scalar tensor owned by the caller.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { tf } from "../deps.ts";
 * import { diffusionLoss } from "./diffusion_loss.ts";
 * const x = tf.zeros([1, 1, 1, 1]) as tf.Tensor4D, eps = tf.ones([1, 1, 1, 1]) as tf.Tensor4D;
 * const loss = diffusionLoss(tf.zeros([1, 1, 1, 1]) as tf.Tensor4D,
 *   { prediction: "epsilon", xStart: x, noise: eps, logSnr: [0], weighting: "epsilon" });
 * console.log(loss.dataSync()[0]); // 1
 * ```
 */
export function diffusionLoss(prediction: tf.Tensor4D, options: DiffusionLossOptions): tf.Scalar {
  const { xStart, noise, logSnr } = options;
  const weighting = oneOf(
    "compute the loss",
    "weighting",
    options.weighting ?? "minSnr",
    LOSS_WEIGHTINGS,
  );
  const gamma = options.gamma ?? 5;
  const kind = oneOf(
    "compute the loss",
    "prediction",
    options.prediction,
    [
      "epsilon",
      "x",
      "v",
    ] as const,
  );
  const b = xStart.shape[0];
  const pw = options.pixelWeights ?? null;
  if (
    pw !== null &&
    (pw.rank !== 4 || pw.shape[0] !== b || pw.shape[1] !== xStart.shape[1] ||
      pw.shape[2] !== xStart.shape[2] || pw.shape[3] !== 1)
  ) {
    throw new RangeError(
      `Cannot compute the loss as 'pixelWeights' must have shape [${b}, ${xStart.shape[1]}, ${
        xStart.shape[2]
      }, 1]: current shape is [${pw.shape}]`,
    );
  }
  if (logSnr.length !== b) {
    throw new RangeError(
      `Cannot compute the loss as 'logSnr' must have one value per example (${b}): current length is ${logSnr.length}`,
    );
  }
  const factor = new Float32Array(b); // w_t · c_t per example
  const alphas = new Float32Array(b);
  const sigmas = new Float32Array(b);
  for (let i = 0; i < b; i++) {
    const lambda = logSnr[i];
    const snr = Math.exp(lambda);
    alphas[i] = Math.sqrt(1 / (1 + Math.exp(-lambda)));
    sigmas[i] = Math.sqrt(1 / (1 + Math.exp(lambda)));
    // w_t · c_t computed in closed form: no overflow at the clipped ends.
    const w = weighting === "epsilon"
      ? snr
      : weighting === "minSnr"
      ? Math.min(snr, gamma)
      : weighting === "v"
      ? snr + 1
      : 1;
    const c = kind === "epsilon" ? 1 / snr : kind === "v" ? sigmas[i] ** 2 : 1;
    factor[i] = weighting === "epsilon" && kind === "epsilon"
      ? 1
      : weighting === "v" && kind === "v"
      ? 1
      : w * c;
  }
  return tf.tidy(() => {
    let target: tf.Tensor4D;
    if (kind === "epsilon") target = noise;
    else if (kind === "x") target = xStart;
    else {
      const a = tf.tensor4d(alphas, [b, 1, 1, 1]);
      const s = tf.tensor4d(sigmas, [b, 1, 1, 1]);
      target = tf.sub(tf.mul(a, noise), tf.mul(s, xStart)); // v = α ε − σ x
    }
    const sq = tf.squaredDifference(prediction, target);
    const perExample = pw === null
      ? tf.mean(sq, [1, 2, 3]) // [B]
      : tf.div(
        tf.sum(tf.mul(sq, pw), [1, 2, 3]),
        tf.mul(tf.sum(pw, [1, 2, 3]), xStart.shape[3]),
      );
    // Eq. 1: w_t ‖x̂ − x‖² = w_t c_t ‖pred − target‖²
    return tf.mean(tf.mul(perExample, tf.tensor1d(factor))) as tf.Scalar;
  });
}
