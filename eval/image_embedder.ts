import type { RgbImage } from "./deps.ts";

/**
 * Anything that maps images to unit vectors whose dot product is a similarity (1: same): the
 * learned {@link SubjectEmbedder} and the foreground colour measure
 * {@link ForegroundColorEmbedder}. Every subject metric of eval/ takes one.
 *
 * @example
 * ```ts
 * import type { ImageEmbedder } from "./image_embedder.ts";
 * const constant: ImageEmbedder = { dim: 1, embed: (ims) => new Float32Array(ims.length).fill(1) };
 * console.log(constant.embed([]).length); // 0
 * ```
 */
export interface ImageEmbedder {
  /** Width of an embedding. */
  readonly dim: number;
  /**
   * Embeds images (`{ data: Float32Array [H, W, 3] in [-1, 1], width, height }`, borrowed).
   *
   * @returns Unit-norm embeddings, `[N, dim]` row-major.
   */
  embed(images: readonly RgbImage[]): Float32Array;
}

/**
 * Dot products of rows of two embedding matrices: `[A, B]` row-major.
 *
 * @param a Embeddings `[A, dim]`.
 * @param b Embeddings `[B, dim]`.
 * @param dim Embedding width.
 * @returns Similarities, `[A, B]`.
 *
 * @example
 * ```ts
 * import { similarityMatrix } from "./image_embedder.ts";
 * const m = similarityMatrix(new Float32Array([1, 0]), new Float32Array([1, 0, 0, 1]), 2);
 * console.log(Array.from(m)); // [ 1, 0 ]
 * ```
 */
export function similarityMatrix(a: Float32Array, b: Float32Array, dim: number): Float32Array {
  if (!Number.isInteger(dim) || dim < 1 || a.length % dim !== 0 || b.length % dim !== 0) {
    throw new RangeError(
      `Cannot compute similarities as 'dim' (${dim}) must divide both lengths (${a.length}, ${b.length})`,
    );
  }
  const na = a.length / dim, nb = b.length / dim;
  const out = new Float32Array(na * nb);
  for (let i = 0; i < na; i++) {
    for (let j = 0; j < nb; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += a[i * dim + k] * b[j * dim + k];
      out[i * nb + j] = s;
    }
  }
  return out;
}
