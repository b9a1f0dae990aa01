/**
 * Textual inversion (Gal et al. 2022; DreamBooth paper §5.3's comparison) as a {@link TrainingJob}:
 * only the identifier's rows of the text encoder's token-embedding table are optimised (Adam on
 * the embedding gradient masked to those rows, so every other row, the rest of the encoder and the
 * UNet stay bit for bit frozen), on "a [V] [class noun]" with diffusion/'s Eq. 1 loss. Draws of
 * step n depend only on (seed, n), so a resumed run continues exactly.
 *
 * @module
 */
import {
  type AdamState,
  type Cascade,
  createAdam,
  diffusionLoss,
  type FloatImage,
  scheduleAt,
  tf,
} from "./deps.ts";
import { hashInts, Rng } from "./deps.ts";
import { NonFiniteLossError, type StepResult } from "./deps.ts";
import type { RunCheckpoint } from "./deps.ts";
import type { TrainingJob } from "./deps.ts";

/** Settings of {@link createTextualInversionJob}. */
export interface TextualInversionOptions {
  /** The identifier's token ids (their embedding rows are trained). */
  identifierIds: readonly number[];
  /** The prompt, e.g. "a sks dog". */
  prompt: string;
  /** The instance images (base-stage size, flips included). */
  instanceImages: readonly FloatImage[];
  /** Examples per step. Default 4. */
  batchSize?: number;
  /** Adam learning rate. Default 5e-3 (embeddings move further than weights). */
  learningRate?: number;
  /** Seed. Default 0. */
  seed?: number;
}

/** A textual-inversion job (`dispose()` frees the optimizer). */
export interface TextualInversionJob extends TrainingJob {
  /** Frees the optimizer. */
  dispose(): void;
  /** Frees the optimizer (`using`). */
  [Symbol.dispose](): void;
}

const EMBEDDING = "shared.weight";

/** The checks of {@link createTextualInversionJob} that need no model. */
function checkOptions(options: TextualInversionOptions, learningRate: number, batchSize: number) {
  if (!(Number.isFinite(learningRate) && learningRate > 0)) {
    throw new RangeError(
      `Cannot create a textual-inversion job as 'learningRate' must be a finite number > 0: current value is ${learningRate}`,
    );
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `Cannot create a textual-inversion job as 'batchSize' must be an integer ≥ 1: current value is ${batchSize}`,
    );
  }
  if (options.instanceImages.length === 0 || options.identifierIds.length === 0) {
    throw new RangeError(
      `Cannot create a textual-inversion job as 'instanceImages' and 'identifierIds' must be non-empty`,
    );
  }
}

/**
 * Builds a textual-inversion job on a cascade (its embedding table changes in place, only in the
 * identifier's rows).
 *
 * @param cascade The cascade (borrowed).
 * @param options See {@link TextualInversionOptions}.
 * @returns The job.
 *
 * @example
 * ```ts
 * import { initBackend } from "./deps.ts";
 * import { createPreset } from "../diffusion/mod.ts";
 * import { createTextualInversionJob } from "./textual_inversion.ts";
 * await initBackend({ quiet: true });
 * using cascade = await createPreset("tiny", { seed: 0 });
 * const im = { data: new Float32Array(32 * 32 * 3), width: 32, height: 32 };
 * using job = createTextualInversionJob(cascade, { identifierIds: [12], prompt: "a sks dog", instanceImages: [im], batchSize: 1 });
 * console.log((await job.trainStep()).step); // 1
 * ```
 */
export function createTextualInversionJob(
  cascade: Cascade,
  options: TextualInversionOptions,
): TextualInversionJob {
  const { identifierIds, prompt, instanceImages, batchSize = 4, seed = 0 } = options;
  const learningRate = options.learningRate ?? 5e-3;
  checkOptions(options, learningRate, batchSize);
  const enc = cascade.textEncoder;
  const stage = cascade.stages[0];
  const emb = enc.params.vars.get(EMBEDDING);
  if (!emb) throw new RangeError(`Cannot find the text encoder's '${EMBEDDING}'`);
  emb.trainable = true;
  const [vocab] = emb.shape;
  const rowMask = new Float32Array(vocab);
  for (const id of identifierIds) rowMask[id] = 1;
  const adam = createAdam({ learningRate, beta1: 0.9, beta2: 0.99, epsilon: 1e-8 });
  const len = enc.config.maxLength;
  const size = stage.imageSize;
  const ids = new Int32Array(batchSize * len), mask = new Uint8Array(batchSize * len);
  const e = cascade.tokenizer.encodeFixed(prompt, len);
  for (let k = 0; k < batchSize; k++) {
    ids.set(e.ids, k * len);
    mask.set(e.mask, k * len);
  }
  let step = 0;
  const job: TextualInversionJob = {
    get step() {
      return step;
    },
    trainStep(): Promise<StepResult> {
      const next = step + 1;
      const rng = new Rng(hashInts(seed, next, 0x7e11));
      const b = batchSize, px = size * size * 3;
      const x = new Float32Array(b * px);
      for (let k = 0; k < b; k++) {
        x.set(instanceImages[rng.int(instanceImages.length)].data, k * px);
      }
      const at = Array.from({ length: b }, () => scheduleAt(stage.schedule, rng.uniform()));
      const noise = rng.normals(b * px);
      const [loss, norm] = tf.tidy(() => {
        const col = (f: (a: typeof at[0]) => number) => tf.tensor4d(at.map(f), [b, 1, 1, 1]);
        const xs = tf.tensor4d(x, [b, size, size, 3]);
        const eps = tf.tensor4d(noise, [b, size, size, 3]);
        const zt = tf.add(tf.mul(col((a) => a.alpha), xs), tf.mul(col((a) => a.sigma), eps));
        const { value, grads } = tf.variableGrads(() => {
          const text = enc.encode(ids, mask, { batch: b });
          const pred = stage.unet.apply(zt as tf.Tensor4D, {
            logSnr: tf.tensor1d(at.map((a) => a.logSnr)),
            text,
            keep: tf.ones([b]),
          });
          return diffusionLoss(pred, {
            prediction: stage.unet.config.prediction,
            xStart: xs,
            noise: eps,
            logSnr: at.map((a) => a.logSnr),
          });
        }, [emb]);
        // Only the identifier's rows: every other row gets a zero gradient (Adam leaves it as is).
        const g = tf.mul(grads[emb.name], tf.tensor2d(rowMask, [vocab, 1]));
        const n = tf.sqrt(tf.sum(tf.square(g))).dataSync()[0];
        const lv = value.dataSync()[0];
        if (Number.isFinite(lv) && Number.isFinite(n)) adam.applyGradients([emb], [g]);
        return [lv, n];
      });
      if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
        return Promise.reject(new NonFiniteLossError(next, loss, norm));
      }
      step = next;
      return Promise.resolve({ loss, gradNorm: norm, step });
    },
    async checkpoint(): Promise<RunCheckpoint> {
      const tensors = await enc.exportWeights({ prefix: "text_encoder." });
      const s = adam.getState();
      for (const [name, m] of Object.entries(s.moments)) {
        if (name !== emb.name) continue;
        tensors.set("optimizer.m.embedding", { shape: [m.m.length], data: m.m });
        tensors.set("optimizer.v.embedding", { shape: [m.v.length], data: m.v });
      }
      return {
        tensors,
        state: { step, iterations: s.iterations },
        metadata: { stage: "textual-inversion" },
      };
    },
    restore(ckpt: RunCheckpoint): Promise<void> {
      const st = ckpt.state as { step: number; iterations: number };
      enc.loadWeights(ckpt.tensors, { prefix: "text_encoder." });
      const m = ckpt.tensors.get("optimizer.m.embedding"),
        v = ckpt.tensors.get("optimizer.v.embedding");
      const moments: AdamState["moments"] = {};
      if (m && v) {
        moments[emb.name] = {
          m: Float32Array.from(m.data as Float32Array),
          v: Float32Array.from(v.data as Float32Array),
        };
      }
      adam.setState({ iterations: st.iterations, moments });
      step = st.step;
      return Promise.resolve();
    },
    dispose() {
      adam.dispose();
      emb.trainable = false;
    },
    [Symbol.dispose]() {
      this.dispose();
    },
  };
  return job;
}
