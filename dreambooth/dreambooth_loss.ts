/**
 * The class-specific prior-preservation loss of DreamBooth (Ruiz et al. 2022, Eq. 2):
 *
 *   E[w_t ‖x̂θ(α_t x + σ_t ε, c) − x‖²] + λ E[w_t′ ‖x̂θ(α_t′ x_pr + σ_t′ ε′, c_pr) − x_pr‖²]
 *
 * computed from ONE forward pass over the concatenated batch `[instance…, prior…]` and split
 * afterwards, each term with diffusion/'s Eq. 1 weighting.
 *
 * @module
 */
import { type BatchLoss, diffusionLoss, type LossWeighting, tf } from "./deps.ts";

/** Options of {@link dreamboothLoss}. */
export interface DreamBoothLossOptions {
  /** What the UNet predicts (`"epsilon"`, `"x"` or `"v"`). */
  prediction: "epsilon" | "x" | "v";
  /** Clean images, instance rows first then prior rows: `[B, H, W, C]`. */
  xStart: tf.Tensor4D;
  /** The noise ε of each row: `[B, H, W, C]`. */
  noise: tf.Tensor4D;
  /** log-SNR λ_t of each row (`B` values). */
  logSnr: ArrayLike<number>;
  /** How many leading rows are instance images (the rest are class-prior images). */
  numInstance: number;
  /** λ of Eq. 2. Default 1. */
  priorLossWeight?: number;
  /** Eq. 1 weighting. Default "minSnr". */
  weighting?: LossWeighting;
  /** γ of Min-SNR-γ. Default 5. */
  gamma?: number;
}

/** The terms of Eq. 2 (scalars owned by the caller). */
export interface DreamBoothLoss {
  /** instance + λ·prior. */
  loss: tf.Scalar;
  /** The instance term (mean over instance rows). */
  instance: tf.Scalar;
  /** The prior term before λ (mean over prior rows; 0 when there are none). */
  prior: tf.Scalar;
}

function checkSplit(numInstance: number, numPrior: number, priorLossWeight: number): void {
  if (!Number.isInteger(numInstance) || numInstance < 1) {
    throw new RangeError(
      `Cannot compute the DreamBooth loss as 'numInstance' must be an integer ≥ 1: current value is ${numInstance}`,
    );
  }
  if (!Number.isInteger(numPrior) || numPrior < 0) {
    throw new RangeError(
      `Cannot compute the DreamBooth loss as the number of prior rows must be an integer ≥ 0: current value is ${numPrior}`,
    );
  }
  if (
    typeof priorLossWeight !== "number" || !Number.isFinite(priorLossWeight) || priorLossWeight < 0
  ) {
    throw new RangeError(
      `Cannot compute the DreamBooth loss as 'priorLossWeight' must be a finite number ≥ 0: current value is ${priorLossWeight}`,
    );
  }
}

/**
 * Eq. 2 from the prediction of one forward pass on the concatenated batch, split afterwards.
 *
 * @param prediction The UNet's output for the whole batch `[B, H, W, C]` (borrowed).
 * @param options See {@link DreamBoothLossOptions}.
 * @returns The total and both terms (owned by the caller).
 *
 * @example
 * ```ts
 * import { initBackend, tf } from "./deps.ts";
 * import { dreamboothLoss } from "./dreambooth_loss.ts";
 * await initBackend({ quiet: true });
 * const x = tf.zeros([4, 2, 2, 3]) as tf.Tensor4D, eps = tf.ones([4, 2, 2, 3]) as tf.Tensor4D;
 * const r = dreamboothLoss(x, { prediction: "x", xStart: x, noise: eps, logSnr: [0, 0, 0, 0], numInstance: 2 });
 * console.log(r.loss.dataSync()[0]); // 0
 * tf.dispose([x, eps, r.loss, r.instance, r.prior]);
 * ```
 */
export function dreamboothLoss(
  prediction: tf.Tensor4D,
  options: DreamBoothLossOptions,
): DreamBoothLoss {
  const { xStart, noise, logSnr, numInstance, priorLossWeight = 1 } = options;
  const b = prediction.shape[0];
  const numPrior = b - numInstance;
  checkSplit(numInstance, numPrior, priorLossWeight);
  return tf.tidy(() => {
    const part = (start: number, n: number) => {
      const cut = <T extends tf.Tensor4D>(t: T) =>
        tf.slice(t, [start, 0, 0, 0], [n, -1, -1, -1]) as T;
      return diffusionLoss(cut(prediction), {
        prediction: options.prediction,
        xStart: cut(xStart),
        noise: cut(noise),
        logSnr: Array.from(logSnr).slice(start, start + n),
        weighting: options.weighting,
        gamma: options.gamma,
      });
    };
    const instance = part(0, numInstance); // E[w_t ‖x̂θ(z_t, c) − x‖²]
    const prior = numPrior > 0 ? part(numInstance, numPrior) : tf.scalar(0); // E[w_t′ ‖… − x_pr‖²]
    const loss = tf.add(instance, tf.mul(prior, priorLossWeight)) as tf.Scalar; // Eq. 2
    return { loss, instance, prior };
  });
}

/**
 * The step loss the trainer calls in a DreamBooth run: {@link dreamboothLoss} (Eq. 2) on the
 * concatenated batch `[instance…, prior…]` with λ as given, the rest of the targets (prediction
 * kind, noise, log-SNR, Eq. 1 weighting) as the trainer draws them.
 *
 * @param options `numInstance` (the leading instance rows of each batch) and `priorLossWeight`
 * (λ of Eq. 2).
 * @returns The trainer's batch loss.
 *
 * @example
 * ```ts
 * import { initBackend, tf } from "./deps.ts";
 * import { dreamboothBatchLoss } from "./dreambooth_loss.ts";
 * await initBackend({ quiet: true });
 * const loss = dreamboothBatchLoss({ numInstance: 2, priorLossWeight: 0.5 });
 * const x = tf.zeros([4, 2, 2, 3]) as tf.Tensor4D;
 * const l = tf.tidy(() => loss(x, { prediction: "x", xStart: x, noise: x, logSnr: [0, 0, 0, 0] }));
 * console.log(l.dataSync()[0]); // 0
 * tf.dispose([x, l]);
 * ```
 */
export function dreamboothBatchLoss(
  options: { numInstance: number; priorLossWeight: number },
): BatchLoss {
  const { numInstance, priorLossWeight } = options;
  checkSplit(numInstance, 0, priorLossWeight);
  // Called inside the trainer's gradient scope, which owns the terms (the tape needs them).
  return (prediction, targets) =>
    dreamboothLoss(prediction, {
      prediction: targets.prediction,
      xStart: targets.xStart,
      noise: targets.noise,
      logSnr: targets.logSnr,
      weighting: targets.weighting,
      gamma: targets.gamma,
      numInstance,
      priorLossWeight, // λ of Eq. 2, unchanged from the caller
    }).loss;
}
