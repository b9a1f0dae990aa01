import { type RgbImage, tf } from "./deps.ts";
import { ConvNet } from "./_convnet.ts";
import { checkImage, resizeInto } from "./_resize.ts";
import { readWeights } from "./_weights.ts";

/** Options of {@link SubjectEmbedder.embed}. */
export interface EmbedOptions {
  /** Images per forward pass (default 64). */
  batchSize?: number;
}

/**
 * The subject embedder: the world classifier's conv trunk plus a 128-wide linear head, trained
 * (jointly with the classifier heads, `deno task train-eval-nets`) to recognise object instances
 * (EmojiScenes drawings) across contexts, poses and scales by instance classification with a
 * cosine-margin softmax (CosFace, s = 16, m = 0.2) whose classifier is dropped afterwards.
 * Embeddings are L2-normalised, so the similarity of two images is the dot product of their
 * embeddings (cosine, in [-1, 1]). The instance loss sees only scenes without property edits and
 * only ~80% of the drawings: the built-in subjects' drawings and every drawing whose id hashes
 * (FNV-1a) to 0 mod 5 are never instances to it, and the ROC AUC is measured on them (`deno task
 * measure-eval-nets`). The shared trunk does see the latter through the classifier heads (with
 * their class label only, never their identity); the built-in subjects' drawings it never sees. Colour edits therefore lower the similarity, as DINO's does in
 * the paper ("a red [V] backpack" is not the subject's exact look). Owns its weights: `dispose()`.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend/mod.ts";
 * import { SubjectEmbedder } from "./subject_embedder.ts";
 * await initBackend({ quiet: true });
 * using embedder = await SubjectEmbedder.load();
 * const grey = { data: new Float32Array(64 * 64 * 3), width: 64, height: 64 };
 * console.log(embedder.embed([grey]).length); // 128
 * ```
 */
export class SubjectEmbedder {
  /** Metadata of the weights file (`heldOutAuc`, `trainedBy`, …). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly #net: ConvNet;

  private constructor(net: ConvNet, metadata: Record<string, string>) {
    if (net.config.heads.embed === undefined) {
      net.dispose();
      throw new RangeError(`Cannot load subject embedder as the weights have no 'embed' head`);
    }
    this.#net = net;
    this.metadata = metadata;
  }

  /**
   * Loads weights written by `deno task train-eval-nets`.
   *
   * @param path A file path or URL (default: the shipped `eval/weights/world_nets.safetensors`).
   * @returns The embedder (dispose it).
   *
   * @example
   * ```ts
   * import { initBackend } from "../backend/mod.ts";
   * import { SubjectEmbedder } from "./subject_embedder.ts";
   * await initBackend({ quiet: true });
   * using e = await SubjectEmbedder.load();
   * console.log(e.dim); // 128
   * ```
   */
  static async load(path?: string | URL): Promise<SubjectEmbedder> {
    const { bytes, source } = await readWeights(path ?? "world_nets.safetensors");
    const { net, metadata } = ConvNet.decode(bytes, source);
    return new SubjectEmbedder(net, metadata);
  }

  /** Embedding width. */
  get dim(): number {
    return this.#net.config.heads.embed;
  }

  /** Input side (images of any size are resized to it). */
  get inputSize(): number {
    return this.#net.config.inputSize;
  }

  /**
   * Embeds images (`{ data: Float32Array [H, W, 3] in [-1, 1], width, height }`, square, any
   * size).
   *
   * @param images The images (borrowed).
   * @param options See {@link EmbedOptions}.
   * @returns L2-normalised embeddings, `[N, dim]` row-major.
   *
   * @example
   * ```ts
   * import { initBackend } from "../backend/mod.ts";
   * import { SubjectEmbedder } from "./subject_embedder.ts";
   * await initBackend({ quiet: true });
   * using e = await SubjectEmbedder.load();
   * const im = { data: new Float32Array(32 * 32 * 3).fill(0.5), width: 32, height: 32 };
   * const v = e.embed([im]);
   * console.log(Math.round(v.reduce((a, x) => a + x * x, 0))); // 1
   * ```
   */
  embed(images: readonly RgbImage[], options: EmbedOptions = {}): Float32Array {
    const { batchSize = 64 } = options;
    if (!Array.isArray(images)) {
      throw new TypeError(`Cannot embed as 'images' must be an array of images`);
    }
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(
        `Cannot embed as 'batchSize' must be a positive integer: current value is ${batchSize}`,
      );
    }
    images.forEach((im, i) => checkImage(im, `images[${i}]`));
    const n = images.length, S = this.inputSize, d = this.dim;
    const out = new Float32Array(n * d);
    for (let s = 0; s < n; s += batchSize) {
      const b = Math.min(batchSize, n - s);
      const buf = new Float32Array(b * S * S * 3);
      for (let i = 0; i < b; i++) resizeInto(images[s + i], S, buf, i * S * S * 3);
      const e = tf.tidy(() => {
        const h = this.#net.head("embed", this.#net.features(tf.tensor4d(buf, [b, S, S, 3])));
        return tf.div(h, tf.maximum(tf.norm(h, 2, 1, true), 1e-12));
      });
      out.set(e.dataSync(), s * d);
      e.dispose();
    }
    return out;
  }

  /** Frees the weights. */
  dispose(): void {
    this.#net.dispose();
  }

  /** Frees the weights (`using`). */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
