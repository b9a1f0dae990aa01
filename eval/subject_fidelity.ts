import type { RgbImage } from "./deps.ts";
import { bootstrapCi, type ConfidenceInterval } from "./bootstrap_ci.ts";
import { type ImageEmbedder, similarityMatrix } from "./image_embedder.ts";

/** Options of {@link subjectFidelity} and {@link priorPreservation}. */
export interface SubjectFidelityOptions {
  /** The similarity (e.g. `SubjectEmbedder` or `ForegroundColorEmbedder`). Required. */
  embedder: ImageEmbedder;
  /** Bootstrap seed (default 0). */
  seed?: number;
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
}

/** A metric value per image plus its mean with a bootstrap interval. */
export interface MetricResult extends ConfidenceInterval {
  /** The per-image values the mean is taken over. */
  perImage: number[];
}

function checkImages(images: readonly RgbImage[], name: string, what: string): void {
  if (!Array.isArray(images) || images.length === 0) {
    throw new RangeError(`Cannot compute ${what} as '${name}' must be a non-empty array of images`);
  }
}

/**
 * Subject fidelity (the paper's DINO / CLIP-I score, with this project's embedder): for each
 * generated image, the mean similarity to the subject's real images; the result is the mean over
 * generated images with a bootstrap interval over them. Higher is more faithful.
 *
 * @param generated Generated images (borrowed).
 * @param real The subject's real images (borrowed).
 * @param options See {@link SubjectFidelityOptions}; `embedder` is required.
 * @returns The mean, its interval and the per-image values.
 *
 * @example
 * ```ts
 * import { subjectFidelity } from "./subject_fidelity.ts";
 * import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
 * const im = { data: new Float32Array(16 * 16 * 3).fill(-1), width: 16, height: 16 };
 * im.data.fill(1, 6 * 16 * 3, 10 * 16 * 3);
 * const r = subjectFidelity([im], [im], { embedder: new ForegroundColorEmbedder() });
 * console.log(r.estimate.toFixed(2)); // "1.00"
 * ```
 */
export function subjectFidelity(
  generated: readonly RgbImage[],
  real: readonly RgbImage[],
  options: SubjectFidelityOptions,
): MetricResult {
  checkImages(generated, "generated", "subject fidelity");
  checkImages(real, "real", "subject fidelity");
  const { embedder, seed = 0, resamples = 1000, level = 0.95 } = options ?? {};
  if (embedder === undefined || typeof embedder.embed !== "function") {
    throw new TypeError(`Cannot compute subject fidelity as 'embedder' must be an ImageEmbedder`);
  }
  const sims = similarityMatrix(embedder.embed(generated), embedder.embed(real), embedder.dim);
  const perImage = generated.map((_, i) => {
    let s = 0;
    for (let j = 0; j < real.length; j++) s += sims[i * real.length + j];
    return s / real.length;
  });
  return { ...bootstrapCi(perImage, { seed, resamples, level }), perImage };
}

/**
 * PRES, prior preservation (the paper's §4.3): the subject fidelity of generations of the bare
 * class prompt ("a dog", no identifier) to the subject's real images. A model that forgot the
 * class and draws the subject for every dog scores high: lower is better.
 *
 * @param classGenerations Images generated from the class prompt (borrowed).
 * @param real The subject's real images (borrowed).
 * @param options See {@link SubjectFidelityOptions}; `embedder` is required.
 * @returns The mean similarity, its interval and the per-image values.
 *
 * @example
 * ```ts
 * import { priorPreservation } from "./subject_fidelity.ts";
 * import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
 * const blank = { data: new Float32Array(16 * 16 * 3), width: 16, height: 16 };
 * const r = priorPreservation([blank], [blank], { embedder: new ForegroundColorEmbedder() });
 * console.log(r.estimate); // 0
 * ```
 */
export function priorPreservation(
  classGenerations: readonly RgbImage[],
  real: readonly RgbImage[],
  options: SubjectFidelityOptions,
): MetricResult {
  return subjectFidelity(classGenerations, real, options);
}
