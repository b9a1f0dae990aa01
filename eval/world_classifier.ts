import { type RgbImage, tf } from "./deps.ts";
import { ConvNet } from "./_convnet.ts";
import { checkImage, resizeInto } from "./_resize.ts";
import { readWeights } from "./_weights.ts";

/** What {@link WorldClassifier.classify} returns: one entry per image, in order. */
export interface WorldClassification {
  /** Most likely class noun per image. */
  classNoun: string[];
  /** Most likely context name per image. */
  context: string[];
  /** Most likely property per image (null: no property edit). */
  property: (string | null)[];
  /** Softmax probabilities `[N, classes]`, row-major. */
  classProbs: Float32Array;
  /** Softmax probabilities `[N, contexts]`. */
  contextProbs: Float32Array;
  /** Softmax probabilities `[N, properties]` (index 0: no property). */
  propertyProbs: Float32Array;
}

/** Options of {@link WorldClassifier.classify}. */
export interface ClassifyOptions {
  /** Images per forward pass (default 64). */
  batchSize?: number;
}

/**
 * The world classifier: a small conv net (six 3×3 conv layers with ReLU, global average pooling,
 * dense heads; ~0.5 M weights with the embedder's head) that reads an EmojiScenes-style image,
 * resized to 64×64, and tells its object class (155), context (20) and property edit (none or one
 * of 10). It shares its trunk with the {@link SubjectEmbedder} (one net, trained jointly by `deno
 * task train-eval-nets` on 100,000 eval-seed scenes, `EVAL_SEEDS`, never on the built-in subjects'
 * drawings). The shipped float16 weights (`eval/weights/world_nets.safetensors`) carry their
 * accuracy on 4,000 held-out scenes in {@link WorldClassifier.metadata} (`heldOutAccuracy`).
 * Owns its weights: `dispose()`.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend/mod.ts";
 * import { WorldClassifier } from "./world_classifier.ts";
 * await initBackend({ quiet: true });
 * using classifier = await WorldClassifier.load();
 * const grey = { data: new Float32Array(64 * 64 * 3), width: 64, height: 64 };
 * console.log(classifier.classify([grey]).classNoun.length); // 1
 * ```
 */
export class WorldClassifier {
  /** Class nouns, in the order of the class head. */
  readonly classes: readonly string[];
  /** Context names, in head order. */
  readonly contexts: readonly string[];
  /** Property labels, in head order ("none" first). */
  readonly properties: readonly string[];
  /** Metadata of the weights file (`heldOutAccuracy`, `trainedBy`, …). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly #net: ConvNet;

  private constructor(net: ConvNet, metadata: Record<string, string>) {
    this.#net = net;
    this.metadata = metadata;
    const parse = (k: string) => {
      if (metadata[k] === undefined) {
        throw new RangeError(`Cannot load world classifier as its metadata has no '${k}'`);
      }
      return JSON.parse(metadata[k]) as string[];
    };
    this.classes = parse("classes");
    this.contexts = parse("contexts");
    this.properties = parse("properties");
  }

  /**
   * Loads weights written by `deno task train-eval-nets`.
   *
   * @param path A file path or URL (default: the shipped `eval/weights/world_nets.safetensors`).
   * @returns The classifier (dispose it).
   *
   * @example
   * ```ts
   * import { initBackend } from "../backend/mod.ts";
   * import { WorldClassifier } from "./world_classifier.ts";
   * await initBackend({ quiet: true });
   * using c = await WorldClassifier.load();
   * console.log(c.classes.length, c.contexts.length); // 155 20
   * ```
   */
  static async load(path?: string | URL): Promise<WorldClassifier> {
    const { bytes, source } = await readWeights(path ?? "world_nets.safetensors");
    const { net, metadata } = ConvNet.decode(bytes, source);
    return new WorldClassifier(net, metadata);
  }

  /** Input side (images of any size are resized to it). */
  get inputSize(): number {
    return this.#net.config.inputSize;
  }

  /**
   * Classifies images (any square size; others are stretched) of `{ data: Float32Array [H, W, 3]
   * in [-1, 1], width, height }`.
   *
   * @param images The images (borrowed).
   * @param options See {@link ClassifyOptions}.
   * @returns Labels and probabilities per image.
   *
   * @example
   * ```ts
   * import { initBackend } from "../backend/mod.ts";
   * import { WorldClassifier } from "./world_classifier.ts";
   * await initBackend({ quiet: true });
   * using c = await WorldClassifier.load();
   * const white = { data: new Float32Array(32 * 32 * 3).fill(1), width: 32, height: 32 };
   * const out = c.classify([white]);
   * console.log(out.contextProbs.length); // 20
   * ```
   */
  classify(images: readonly RgbImage[], options: ClassifyOptions = {}): WorldClassification {
    const { batchSize = 64 } = options;
    if (!Array.isArray(images)) {
      throw new TypeError(`Cannot classify as 'images' must be an array of images`);
    }
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(
        `Cannot classify as 'batchSize' must be a positive integer: current value is ${batchSize}`,
      );
    }
    images.forEach((im, i) => checkImage(im, `images[${i}]`));
    const n = images.length, S = this.inputSize;
    const nc = this.classes.length, nx = this.contexts.length, np = this.properties.length;
    const out: WorldClassification = {
      classNoun: [],
      context: [],
      property: [],
      classProbs: new Float32Array(n * nc),
      contextProbs: new Float32Array(n * nx),
      propertyProbs: new Float32Array(n * np),
    };
    for (let s = 0; s < n; s += batchSize) {
      const b = Math.min(batchSize, n - s);
      const buf = new Float32Array(b * S * S * 3);
      for (let i = 0; i < b; i++) resizeInto(images[s + i], S, buf, i * S * S * 3);
      const [pc, px, pp] = tf.tidy(() => {
        const f = this.#net.features(tf.tensor4d(buf, [b, S, S, 3]));
        return ["classNoun", "context", "property"].map((h) => tf.softmax(this.#net.head(h, f)));
      });
      out.classProbs.set(pc.dataSync(), s * nc);
      out.contextProbs.set(px.dataSync(), s * nx);
      out.propertyProbs.set(pp.dataSync(), s * np);
      tf.dispose([pc, px, pp]);
    }
    const argmax = (p: Float32Array, k: number, i: number) => {
      let best = 0;
      for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
      return best;
    };
    for (let i = 0; i < n; i++) {
      out.classNoun.push(this.classes[argmax(out.classProbs, nc, i)]);
      out.context.push(this.contexts[argmax(out.contextProbs, nx, i)]);
      const p = this.properties[argmax(out.propertyProbs, np, i)];
      out.property.push(p === "none" ? null : p);
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
