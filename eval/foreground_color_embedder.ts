import type { RgbImage } from "./deps.ts";
import type { ImageEmbedder } from "./image_embedder.ts";
import { checkImage, resizeImage } from "./_resize.ts";

/** Options of {@link ForegroundColorEmbedder}. */
export interface ForegroundColorOptions {
  /** Working side: images are resized to it first (default 32). */
  size?: number;
  /** Histogram bins per RGB channel (default 6: 216 bins). */
  bins?: number;
  /** Width of the border ring that samples the background, in pixels at `size` (default 2). */
  border?: number;
  /**
   * A pixel is foreground when its colour is at least this far (Euclidean, in [-1, 1] units) from
   * every border colour (default 0.3).
   */
  threshold?: number;
}

/**
 * A mask-free, foreground-masked pixel measure, the second opinion beside the learned embedder.
 * No mask exists for a generated image, so the foreground is estimated: in EmojiScenes (and in
 * DreamBench photos) the subject rarely fills the frame, so the colours of a thin border ring stand
 * for the background, and a pixel is foreground when its colour is far from every border colour.
 * The embedding is the square root of the normalised joint RGB histogram of the foreground pixels
 * (position-, pose- and scale-invariant), L2-normalised, so the dot product of two embeddings is
 * their Bhattacharyya coefficient, 1 for identical foreground colour distributions. An image with
 * no foreground pixels gets the zero vector (similarity 0 to everything).
 *
 * @example
 * ```ts
 * import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
 * const m = new ForegroundColorEmbedder();
 * const im = { data: new Float32Array(16 * 16 * 3).fill(-1), width: 16, height: 16 };
 * im.data.fill(1, 6 * 16 * 3, 10 * 16 * 3); // a white band on black
 * console.log(m.embed([im]).some((x) => x > 0)); // true
 * ```
 */
export class ForegroundColorEmbedder implements ImageEmbedder {
  /** Embedding width (bins³). */
  readonly dim: number;
  readonly #size: number;
  readonly #bins: number;
  readonly #border: number;
  readonly #threshold: number;

  /** @param options See {@link ForegroundColorOptions}. */
  constructor(options: ForegroundColorOptions = {}) {
    const { size = 32, bins = 6, border = 2, threshold = 0.3 } = options;
    for (const [name, v, lo, hi] of [["size", size, 8, 512], ["bins", bins, 2, 16]] as const) {
      if (!Number.isInteger(v) || v < lo || v > hi) {
        throw new RangeError(
          `Cannot create ForegroundColorEmbedder as '${name}' must be an integer in ${lo}–${hi}: current value is ${v}`,
        );
      }
    }
    if (!Number.isInteger(border) || border < 1 || 2 * border >= size) {
      throw new RangeError(
        `Cannot create ForegroundColorEmbedder as 'border' must be an integer in 1–${
          size / 2 - 1
        }: current value is ${border}`,
      );
    }
    if (!(threshold > 0)) {
      throw new RangeError(
        `Cannot create ForegroundColorEmbedder as 'threshold' must be > 0: current value is ${threshold}`,
      );
    }
    this.#size = size;
    this.#bins = bins;
    this.#border = border;
    this.#threshold = threshold;
    this.dim = bins ** 3;
  }

  /**
   * The estimated foreground mask of an image at the working size.
   *
   * @param image The image (borrowed).
   * @returns 1 for foreground, 0 for background, `[size, size]` row-major.
   *
   * @example
   * ```ts
   * import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
   * const im = { data: new Float32Array(32 * 32 * 3).fill(-1), width: 32, height: 32 };
   * console.log(new ForegroundColorEmbedder().foregroundMask(im).reduce((a, b) => a + b, 0)); // 0
   * ```
   */
  foregroundMask(image: RgbImage): Uint8Array {
    checkImage(image, "image");
    const S = this.#size, B = this.#border, d = resizeImage(image, S).data;
    const ring: number[] = [];
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        if (y < B || y >= S - B || x < B || x >= S - B) ring.push((y * S + x) * 3);
      }
    }
    const t2 = this.#threshold ** 2;
    const mask = new Uint8Array(S * S);
    for (let p = 0; p < S * S; p++) {
      const r = d[p * 3], g = d[p * 3 + 1], b = d[p * 3 + 2];
      let far = 1;
      for (const q of ring) {
        const dr = r - d[q], dg = g - d[q + 1], db = b - d[q + 2];
        if (dr * dr + dg * dg + db * db < t2) {
          far = 0;
          break;
        }
      }
      mask[p] = far;
    }
    return mask;
  }

  /**
   * Embeds images (see the class doc).
   *
   * @param images The images (borrowed).
   * @returns `[N, bins³]` row-major, unit norm (or zero without foreground).
   *
   * @example
   * ```ts
   * import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
   * const m = new ForegroundColorEmbedder({ bins: 2 });
   * console.log(m.embed([{ data: new Float32Array(12), width: 2, height: 2 }]).length); // 8
   * ```
   */
  embed(images: readonly RgbImage[]): Float32Array {
    if (!Array.isArray(images)) {
      throw new TypeError(`Cannot embed as 'images' must be an array of images`);
    }
    const S = this.#size, K = this.#bins, dim = this.dim;
    const out = new Float32Array(images.length * dim);
    images.forEach((im, i) => {
      checkImage(im, `images[${i}]`);
      const mask = this.foregroundMask(im);
      const d = resizeImage(im, S).data;
      const h = new Float64Array(dim);
      let total = 0;
      const bin = (v: number) => Math.min(K - 1, Math.max(0, Math.floor((v + 1) / 2 * K)));
      for (let p = 0; p < S * S; p++) {
        if (mask[p] === 0) continue;
        h[(bin(d[p * 3]) * K + bin(d[p * 3 + 1])) * K + bin(d[p * 3 + 2])]++;
        total++;
      }
      if (total === 0) return;
      // sqrt of a distribution has unit L2 norm already: Σ (√(h/total))² = 1.
      for (let k = 0; k < dim; k++) out[i * dim + k] = Math.sqrt(h[k] / total);
    });
    return out;
  }
}
