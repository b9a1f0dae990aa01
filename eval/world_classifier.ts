import { type RgbImage, tf } from "./deps.ts";
import { ConvNet } from "./_convnet.ts";
import { checkImage, resizeInto } from "./_resize.ts";
import { readWeights } from "./_weights.ts";

/**
 * The shipped weights {@link WorldClassifier.load} reads by default (file names in `eval/weights/`):
 * the net that also carries the subject embedder, and a second net trained with 30 % of its scenes
 * turned grey (`train-eval-nets --grey 0.3`), which leans less on colour. Averaged, they read
 * recoloured objects better than either.
 */
export const DEFAULT_WORLD_CLASSIFIER_WEIGHTS: readonly string[] = Object.freeze([
  "world_nets.safetensors",
  "world_nets_grey.safetensors",
]);

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

/**
 * One test-time view of an image: mirrored left-right or not, then moved by `dx`, `dy` pixels of
 * the classifier's 64² input (right and down; the edge pixels are repeated into the gap).
 */
export interface ClassifierView {
  /** Mirror left-right first. */
  flip: boolean;
  /** Horizontal shift in input pixels (integer, |dx| < 16). */
  dx: number;
  /** Vertical shift in input pixels (integer, |dy| < 16). */
  dy: number;
}

/**
 * The default test-time views: the image, its mirror, the image moved 3 px left/right/up/down and
 * the mirror moved 3 px left/right (8 views; the net was trained with flips and ±6 px shifts).
 * Their log-probabilities are averaged. On 4,000 held-out scenes of a second set that played no
 * part in choosing them (`EVAL_SEEDS.classifierConfirm`) they lift the class accuracy of the first
 * shipped net from 85.7 % to 89.6 %, and of the two-net default from 89.35 % to 91.9 %.
 */
export const DEFAULT_CLASSIFIER_VIEWS: readonly ClassifierView[] = Object.freeze([
  { flip: false, dx: 0, dy: 0 },
  { flip: true, dx: 0, dy: 0 },
  { flip: false, dx: 3, dy: 0 },
  { flip: false, dx: -3, dy: 0 },
  { flip: false, dx: 0, dy: 3 },
  { flip: false, dx: 0, dy: -3 },
  { flip: true, dx: 3, dy: 0 },
  { flip: true, dx: -3, dy: 0 },
].map((v) => Object.freeze(v)));

/** A single view: the image as it is (the net's plain, one-pass reading). */
export const SINGLE_CLASSIFIER_VIEW: readonly ClassifierView[] = Object.freeze([
  Object.freeze({ flip: false, dx: 0, dy: 0 }),
]);

/** Options of {@link WorldClassifier.classify}. */
export interface ClassifyOptions {
  /** Images per forward pass (default 64). */
  batchSize?: number;
  /**
   * Test-time views whose log-probabilities are averaged (default
   * {@link DEFAULT_CLASSIFIER_VIEWS}; {@link SINGLE_CLASSIFIER_VIEW} for one pass, 8× cheaper).
   */
  views?: readonly ClassifierView[];
}

/** Writes view `v` of the `[S, S, 3]` image at `src[offset…]` into `dst[offset…]`. */
function viewInto(
  src: Float32Array,
  dst: Float32Array,
  offset: number,
  S: number,
  v: ClassifierView,
): void {
  const clamp = (i: number) => i < 0 ? 0 : i >= S ? S - 1 : i;
  for (let y = 0; y < S; y++) {
    const sy = clamp(y - v.dy);
    for (let x = 0; x < S; x++) {
      let sx = clamp(x - v.dx);
      if (v.flip) sx = S - 1 - sx;
      const o = offset + (y * S + x) * 3, i = offset + (sy * S + sx) * 3;
      dst[o] = src[i];
      dst[o + 1] = src[i + 1];
      dst[o + 2] = src[i + 2];
    }
  }
}

/**
 * The world classifier: small conv nets (six 3×3 conv layers with ReLU, global average pooling,
 * dense heads; ~0.5 M weights each) that read an EmojiScenes-style image, resized to 64×64, and
 * tell its object class (155), context (20) and property edit (none or one of 10). By default two
 * nets ({@link DEFAULT_WORLD_CLASSIFIER_WEIGHTS}) and 8 test-time views
 * ({@link DEFAULT_CLASSIFIER_VIEWS}) are averaged. The first net shares its trunk with the
 * {@link SubjectEmbedder}; both were trained by `deno task train-eval-nets` on 100,000 eval-seed
 * scenes (`EVAL_SEEDS`), never on the built-in subjects' drawings. The first file's metadata
 * ({@link WorldClassifier.metadata}) carries the accuracy on 4,000 held-out scenes:
 * `heldOutAccuracyViews` as {@link WorldClassifier.classify} reads by default (written by `deno task
 * measure-eval-nets`), `heldOutAccuracy` for that net alone in one plain pass (written by the
 * training). Owns its weights: `dispose()`.
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
  /** Metadata of the (first) weights file (`heldOutAccuracyViews`, `trainedBy`, …). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly #nets: ConvNet[];

  private constructor(nets: ConvNet[], metadata: Record<string, string>[]) {
    this.#nets = nets;
    this.metadata = metadata[0];
    const parse = (m: Record<string, string>, k: string) => {
      if (m[k] === undefined) {
        throw new RangeError(`Cannot load world classifier as its metadata has no '${k}'`);
      }
      return JSON.parse(m[k]) as string[];
    };
    this.classes = parse(metadata[0], "classes");
    this.contexts = parse(metadata[0], "contexts");
    this.properties = parse(metadata[0], "properties");
    metadata.forEach((m, i) => {
      for (const k of ["classes", "contexts", "properties"] as const) {
        if (JSON.stringify(parse(m, k)) !== JSON.stringify(this[k])) {
          throw new RangeError(
            `Cannot load world classifier as net ${i} has other '${k}' than net 0 (an ensemble must share its labels)`,
          );
        }
      }
      if (nets[i].config.inputSize !== nets[0].config.inputSize) {
        throw new RangeError(
          `Cannot load world classifier as net ${i} reads ${nets[i].config.inputSize}² and net 0 ${
            nets[0].config.inputSize
          }²`,
        );
      }
    });
  }

  /**
   * Loads weights written by `deno task train-eval-nets`: one net, or several whose
   * log-probabilities are averaged (an ensemble; the first one's metadata is kept).
   *
   * @param path A file path or URL, or a non-empty array of them (default:
   * {@link DEFAULT_WORLD_CLASSIFIER_WEIGHTS}, the shipped files in `eval/weights/`).
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
  static async load(
    path: string | URL | readonly (string | URL)[] = DEFAULT_WORLD_CLASSIFIER_WEIGHTS,
  ): Promise<WorldClassifier> {
    const paths = Array.isArray(path) ? path : [path as string | URL];
    if (paths.length === 0) {
      throw new RangeError(`Cannot load world classifier as 'path' is an empty array`);
    }
    const nets: ConvNet[] = [], metadata: Record<string, string>[] = [];
    try {
      for (const p of paths) {
        const { bytes, source } = await readWeights(p);
        const decoded = ConvNet.decode(bytes, source);
        nets.push(decoded.net);
        metadata.push(decoded.metadata);
      }
      return new WorldClassifier(nets, metadata);
    } catch (e) {
      for (const n of nets) n.dispose();
      throw e;
    }
  }

  /** Number of nets whose readings are averaged (1 unless an ensemble was loaded). */
  get numNets(): number {
    return this.#nets.length;
  }

  /** Input side (images of any size are resized to it). */
  get inputSize(): number {
    return this.#nets[0].config.inputSize;
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
    const { batchSize = 64, views = DEFAULT_CLASSIFIER_VIEWS } = options;
    if (!Array.isArray(images)) {
      throw new TypeError(`Cannot classify as 'images' must be an array of images`);
    }
    if (!Array.isArray(views) || views.length === 0) {
      throw new RangeError(`Cannot classify as 'views' must be a non-empty array of views`);
    }
    views.forEach((v, i) => {
      for (const k of ["dx", "dy"] as const) {
        if (!Number.isInteger(v?.[k]) || Math.abs(v[k]) >= 16) {
          throw new RangeError(
            `Cannot classify as 'views[${i}].${k}' must be an integer with |${k}| < 16: current value is ${
              v?.[k]
            }`,
          );
        }
      }
    });
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
      const view = views.length === 1 && !views[0].flip && views[0].dx === 0 && views[0].dy === 0
        ? null
        : new Float32Array(buf.length);
      // The views' log-probabilities are averaged; the softmax of that average is the normalised
      // geometric mean of the views' probabilities.
      const [pc, px, pp] = tf.tidy(() => {
        let sums: tf.Tensor2D[] | null = null;
        for (const v of views) {
          if (view) { for (let i = 0; i < b; i++) viewInto(buf, view, i * S * S * 3, S, v); }
          const x = tf.tensor4d(view ?? buf, [b, S, S, 3]);
          for (const net of this.#nets) {
            const f = net.features(x);
            const logs = ["classNoun", "context", "property"].map((h) =>
              tf.logSoftmax(net.head(h, f))
            );
            sums = sums === null ? logs : sums.map((a, k) => tf.add(a, logs[k]));
          }
        }
        return sums!.map((t) => tf.softmax(tf.div(t, views.length * this.#nets.length)));
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
    for (const n of this.#nets) n.dispose();
  }

  /** Frees the weights (`using`). */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
