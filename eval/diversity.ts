import type { RgbImage } from "./deps.ts";
import { bootstrapCi } from "./bootstrap_ci.ts";
import { type ImageEmbedder, similarityMatrix } from "./image_embedder.ts";
import type { MetricResult } from "./subject_fidelity.ts";

/** Options of {@link diversity}. */
export interface DiversityOptions {
  /** The similarity (e.g. `SubjectEmbedder`). Required. */
  embedder: ImageEmbedder;
  /** Bootstrap seed (default 0). */
  seed?: number;
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
}

/**
 * DIV, the diversity of generations of one prompt (the paper's §4.3 uses LPIPS; here the
 * embedder's dissimilarity): the mean over pairs i < j of `1 − sim(i, j)` (below 1e-5 counted as
 * 0, float32 rounding). Identical images give 0.
 * The interval resamples the images (pairs of a resampled image with itself are skipped).
 * `perImage` holds each image's mean dissimilarity to the others.
 *
 * @param generated At least two generated images of one prompt (borrowed).
 * @param options See {@link DiversityOptions}; `embedder` is required.
 * @returns The mean pairwise dissimilarity and its interval.
 *
 * @example
 * ```ts
 * import { diversity } from "./diversity.ts";
 * import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
 * const im = { data: new Float32Array(16 * 16 * 3).fill(-1), width: 16, height: 16 };
 * im.data.fill(1, 6 * 16 * 3, 10 * 16 * 3);
 * console.log(diversity([im, im, im], { embedder: new ForegroundColorEmbedder() }).estimate); // 0
 * ```
 */
export function diversity(
  generated: readonly RgbImage[],
  options: DiversityOptions,
): MetricResult {
  if (!Array.isArray(generated) || generated.length < 2) {
    throw new RangeError(
      `Cannot compute diversity as 'generated' must hold at least 2 images: current length is ${generated?.length}`,
    );
  }
  const { embedder, seed = 0, resamples = 1000, level = 0.95 } = options ?? {};
  if (embedder === undefined || typeof embedder.embed !== "function") {
    throw new TypeError(`Cannot compute diversity as 'embedder' must be an ImageEmbedder`);
  }
  const n = generated.length;
  const e = embedder.embed(generated);
  const sims = similarityMatrix(e, e, embedder.dim);
  // 1 − cosine, with float32 rounding of identical embeddings (|1 − sim| < 1e-5) counted as 0.
  const dis = (i: number, j: number) => {
    const d = 1 - sims[i * n + j];
    return d < 1e-5 ? 0 : d;
  };
  const statistic = (idx: readonly number[]) => {
    let s = 0, c = 0;
    for (let a = 0; a < idx.length; a++) {
      for (let b = a + 1; b < idx.length; b++) {
        if (idx[a] === idx[b]) continue;
        s += dis(idx[a], idx[b]);
        c++;
      }
    }
    return c === 0 ? 0 : s / c;
  };
  const perImage = generated.map((_, i) => {
    let s = 0;
    for (let j = 0; j < n; j++) if (j !== i) s += dis(i, j);
    return s / (n - 1);
  });
  return { ...bootstrapCi(perImage, { seed, resamples, level, statistic }), perImage };
}
