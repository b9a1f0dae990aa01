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
 * Eq. 2 of each concept of a several-subject batch: the batch is `numConcepts` equal chunks, each
 * `[instance…, prior…]` of one concept, and each chunk's terms come from {@link dreamboothLoss}
 * (its own instance term and its own class-prior term, λ as given). One concept: one chunk, the
 * whole batch.
 *
 * @param prediction The UNet's output for the whole batch `[B, H, W, C]` (borrowed).
 * @param options {@link DreamBoothLossOptions} (`numInstance` per concept) and `numConcepts`.
 * @returns The terms of each concept (owned by the caller); the step loss is the sum of their `loss`.
 *
 * @example
 * ```ts
 * import { initBackend, tf } from "./deps.ts";
 * import { dreamboothConceptLosses } from "./dreambooth_loss.ts";
 * await initBackend({ quiet: true });
 * const x = tf.zeros([4, 2, 2, 3]) as tf.Tensor4D;
 * const r = dreamboothConceptLosses(x, { prediction: "x", xStart: x, noise: x, logSnr: [0, 0, 0, 0], numInstance: 1, numConcepts: 2 });
 * console.log(r.length); // 2
 * tf.dispose(r.flatMap((t) => [t.loss, t.instance, t.prior]));
 * ```
 */
export function dreamboothConceptLosses(
  prediction: tf.Tensor4D,
  options: DreamBoothLossOptions & { numConcepts?: number },
): DreamBoothLoss[] {
  const { numConcepts = 1 } = options;
  const b = prediction.shape[0];
  if (!Number.isInteger(numConcepts) || numConcepts < 1 || b % numConcepts !== 0) {
    throw new RangeError(
      `Cannot compute the DreamBooth loss as 'numConcepts' must be an integer ≥ 1 dividing the batch of ${b} rows: current value is ${numConcepts}`,
    );
  }
  if (numConcepts === 1) return [dreamboothLoss(prediction, options)];
  const n = b / numConcepts;
  const logSnr = Array.from(options.logSnr);
  // The slices are freed by the tidy; the terms it returns belong to the caller.
  const terms = tf.tidy(() =>
    Array.from({ length: numConcepts }, (_, k) => {
      const cut = <T extends tf.Tensor4D>(t: T) =>
        tf.slice(t, [k * n, 0, 0, 0], [n, -1, -1, -1]) as T;
      // Concept k's Eq. 2: its instance term + λ · its own class-prior term.
      const r = dreamboothLoss(cut(prediction), {
        ...options,
        xStart: cut(options.xStart),
        noise: cut(options.noise),
        logSnr: logSnr.slice(k * n, (k + 1) * n),
      });
      return [r.loss, r.instance, r.prior];
    })
  );
  return terms.map(([loss, instance, prior]) => ({ loss, instance, prior }));
}

/**
 * The step loss the trainer calls in a DreamBooth run: {@link dreamboothLoss} (Eq. 2) on the
 * concatenated batch `[instance…, prior…]` with λ as given, the rest of the targets (prediction
 * kind, noise, log-SNR, Eq. 1 weighting) as the trainer draws them. With `numConcepts` > 1 (a
 * `--concepts` run) the batch is one such chunk per concept and the loss is Eq. 2 summed over the
 * concepts ({@link dreamboothConceptLosses}).
 *
 * @param options `numInstance` (the leading instance rows of each batch, or of each concept's
 * chunk), `priorLossWeight` (λ of Eq. 2) and `numConcepts` (default 1).
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
  options: { numInstance: number; priorLossWeight: number; numConcepts?: number },
): BatchLoss {
  const { numInstance, priorLossWeight, numConcepts = 1 } = options;
  checkSplit(numInstance, 0, priorLossWeight);
  // Called inside the trainer's gradient scope, which owns the terms (the tape needs them).
  return (prediction, targets) => {
    const terms = dreamboothConceptLosses(prediction, {
      prediction: targets.prediction,
      xStart: targets.xStart,
      noise: targets.noise,
      logSnr: targets.logSnr,
      weighting: targets.weighting,
      gamma: targets.gamma,
      numInstance,
      priorLossWeight, // λ of Eq. 2, unchanged from the caller
      numConcepts,
    });
    // Σ over concepts of Eq. 2 (one concept: Eq. 2 itself, unchanged).
    return terms.length === 1 ? terms[0].loss : tf.addN(terms.map((t) => t.loss)) as tf.Scalar;
  };
}
