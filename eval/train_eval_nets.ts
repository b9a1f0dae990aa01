/**
 * Trains eval/'s net (one plain conv trunk, batch normalisation only with `--norm`; heads for
 * class, context and property = the world classifier, and a 128-wide embedding trained by
 * instance classification with CosFace = the subject embedder) on EmojiScenes scenes rendered by
 * `eval/render_eval_scenes.ts` (eval seeds, see `EVAL_SEEDS`), never on a built-in subject's
 * drawing. The classifier heads see every other drawing (the generator's prior knows them all);
 * the instance loss skips the ~20 % of drawings kept for the embedder's ROC AUC. `--grey F` turns
 * a fraction F of the training scenes grey (their property and instance losses masked) so that the
 * class head learns shapes rather than colours. Resumable: the same command continues from
 * `runs/eval/world.ckpt.safetensors` (checkpoint every minute, atomic; `--checkpoint` elsewhere).
 * Writes the shipped float16 weights to `eval/weights/world_nets.safetensors` (`--out`
 * elsewhere) with the held-out accuracies in the metadata.
 * Training starts on the chunks already rendered and picks up new ones as they appear, so it can
 * run beside the renderer.
 *
 * ```sh
 * deno run -A eval/render_eval_scenes.ts --train 100000  # 64 px scenes under runs/eval/scenes/
 * deno task train-eval-nets --steps 20000                 # then: deno task measure-eval-nets
 * ```
 *
 * @module
 */
import { declareParams, runCli } from "../params/mod.ts";
import { backendOption, backendParam, initBackend, Rng, tf } from "./deps.ts";
import { type ChunkLabels, CONTEXT_LABELS, loadChunk, PROPERTY_LABELS } from "./_dataset.ts";
import { type ConvNet, type ConvNetConfig, gatherBatch, paramCount } from "./_convnet.ts";
import { trainLoop } from "./_train.ts";
import {
  EMBEDDING_DIM,
  EVAL_NET_SIZE,
  isEmbedderTrainDrawing,
  isHeldOutSubjectDrawing,
  TRUNK,
  WIDE_TRUNK,
} from "./_nets.ts";
import { evalWorld } from "./_dataset.ts";
import { fileURLToPath } from "node:url";

interface Chunk {
  pixels: Uint8Array;
  labels: ChunkLabels;
}

class Growing {
  chunks: Chunk[] = [];
  constructor(readonly dir: string, readonly name: string) {}
  async refresh(): Promise<void> {
    for (;;) {
      const c = await loadChunk(this.dir, this.name, this.chunks.length);
      if (c === null) return;
      this.chunks.push(c);
    }
  }
}

const WEIGHTS_DIR = fileURLToPath(new URL("./weights/", import.meta.url));

const params = declareParams("train", {
  net: { type: "enum", values: ["world"], default: "world", help: "which net" },
  steps: { type: "integer", min: 1, max: 10_000_000, default: 20000, help: "training steps" },
  batch: { type: "integer", min: 2, max: 4096, default: 64, help: "examples per step" },
  lr: {
    type: "number",
    exclusiveMin: 0,
    exclusiveMax: 1,
    default: 0.002,
    help: "learning rate",
  },
  dir: {
    type: "string",
    minLength: 1,
    default: "runs/eval/scenes",
    metavar: "DIR",
    help: "rendered scenes (eval/render_eval_scenes.ts)",
  },
  norm: { type: "boolean", default: false, help: "normalisation layers" },
  trunk: { type: "enum", values: ["default", "wide"], default: "default", help: "trunk width" },
  grey: {
    type: "number",
    min: 0,
    max: 1,
    default: 0,
    metavar: "F",
    help: "fraction of greyscale training images",
  },
  checkpoint: {
    type: "string",
    minLength: 1,
    metavar: "PATH",
    help: "resumable checkpoint",
    defaultText: "runs/eval/<net>.ckpt.safetensors",
  },
  out: {
    type: "string",
    minLength: 1,
    metavar: "PATH",
    help: "the shipped weights",
    defaultText: "eval/weights/world_nets.safetensors",
  },
  backend: backendParam,
});

/**
 * Runs the command line.
 *
 * @param args Arguments without the script name.
 * @returns The exit code (0 done, 2 bad input, 1 error).
 *
 * @example
 * ```ts
 * import { main } from "./train_eval_nets.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCli(args, {
    params,
    usage: "deno task train-eval-nets [options]",
    summary: "Trains eval/'s world classifier and subject embedder on the rendered scenes.",
  }, async (values) => {
    await initBackend({ prefer: backendOption(values.backend) });
    const kind = values.net;
    const { steps, batch } = values;
    const learningRate = values.lr, greyFraction = values.grey;
    const trunk = { default: TRUNK, wide: WIDE_TRUNK }[values.trunk];
    const S = EVAL_NET_SIZE;
    const train = new Growing(values.dir, "train");
    const test = new Growing(values.dir, "test");
    await train.refresh();
    await test.refresh();
    if (train.chunks.length === 0 || test.chunks.length === 0) {
      throw new RangeError(
        `Cannot train as '${values.dir}' has no rendered chunks: run deno run -A eval/render_eval_scenes.ts first`,
      );
    }
    const ix = labelIndices(await evalWorld());
    const { classes, instanceIds } = ix;
    const rng = new Rng(11, { algorithm: "mulberry32" });
    const rand = () => rng.uniform();

    // Test set: every test chunk (the classifier's held-out scenes).
    const { testPixels, testLabels } = concatChunks(test.chunks);
    const batcher = createBatcher(train, { batch, size: S, greyFraction, rand });
    const accuracies = (net: ConvNet, count: number) =>
      headAccuracies(net, count, testPixels, testLabels, ix);

    let picks: Pick[] = [];
    const config: ConvNetConfig = {
      inputSize: S,
      layers: trunk,
      heads: {
        classNoun: classes.length,
        context: CONTEXT_LABELS.length,
        property: PROPERTY_LABELS.length,
        embed: EMBEDDING_DIM,
        instances: instanceIds.length,
      },
      norm: values.norm,
    };
    const net = await trainLoop({
      config,
      seed: 1,
      steps,
      learningRate,
      weightDecay: 1e-4,
      checkpoint: values.checkpoint ?? `runs/eval/${kind}.ckpt.safetensors`,
      prepare: async (step) => {
        if (step % 50 === 0) await train.refresh();
        // Never a scene of a built-in subject's drawing; the instance loss skips the drawings kept
        // for the embedder's ROC AUC.
        picks = batcher.pickBatch((c, i) => !isHeldOutSubjectDrawing(c.labels.drawingId[i]));
      },
      loss: (n) => worldLoss(n, picks, batcher, ix),
      validate: (n) => JSON.stringify(accuracies(n, 1000)),
      validateEvery: 250,
      beforeSave: (n) => {
        // Normalisation statistics from 512 training scenes (what inference uses).
        const saved = picks;
        const many: Pick[] = [];
        for (let r = 0; r < 8; r++) {
          many.push(
            ...batcher.pickBatch((c, i) => !isHeldOutSubjectDrawing(c.labels.drawingId[i])),
          );
        }
        const x = batcher.pixelsOf(many);
        n.calibrate(x);
        x.dispose();
        picks = saved;
      },
    });
    console.log(
      `trained ${kind}: ${paramCount(net)} weights, ${train.chunks.length} train chunks at the end`,
    );
    await Deno.mkdir(WEIGHTS_DIR, { recursive: true });
    const metadata: Record<string, string> = {
      trainedBy:
        `deno task train-eval-nets --net ${kind} --steps ${steps} --batch ${batch} --lr ${values.lr}${
          values.norm ? " --norm" : ""
        }${values.trunk === "default" ? "" : ` --trunk ${values.trunk}`}${
          greyFraction > 0 ? ` --grey ${greyFraction}` : ""
        }`,
      steps: String(steps),
      trainScenes: String(train.chunks.reduce((a, c) => a + c.labels.count, 0)),
    };
    const acc = accuracies(net, testPixels.length / (S * S * 3));
    console.log("held-out accuracy (float32 weights):", JSON.stringify(acc));
    metadata.classes = JSON.stringify(classes);
    metadata.contexts = JSON.stringify(CONTEXT_LABELS);
    metadata.properties = JSON.stringify(PROPERTY_LABELS);
    metadata.heldOutAccuracy = JSON.stringify(acc);
    metadata.testScenes = String(testPixels.length / (S * S * 3));
    metadata.trainDrawings = String(instanceIds.length);
    const path = values.out ?? WEIGHTS_DIR + "world_nets.safetensors";
    await writeShipped(net, config, metadata, path);
    console.log(`wrote ${path}`);
    net.dispose();
    return 0;
  });
}

/** One training example: scene `i` of `chunk`. */
type Pick = { chunk: Chunk; i: number };

/** Label ↔ index maps of the heads (instances: the embedder's training drawings, sorted). */
interface LabelIndices {
  classes: string[];
  classIndex: Map<string, number>;
  ctxIndex: Map<string, number>;
  propIndex: Map<string, number>;
  instanceIds: string[];
  instanceIndex: Map<string, number>;
}

function labelIndices(world: Awaited<ReturnType<typeof evalWorld>>): LabelIndices {
  const classes = [...world.classes];
  const instanceIds = world.drawings.map((d) => d.id).filter(isEmbedderTrainDrawing).sort();
  return {
    classes,
    classIndex: new Map(classes.map((c, i) => [c, i])),
    ctxIndex: new Map(CONTEXT_LABELS.map((c, i) => [c, i])),
    propIndex: new Map(PROPERTY_LABELS.map((c, i) => [c, i])),
    instanceIds,
    instanceIndex: new Map(instanceIds.map((c, i) => [c, i])),
  };
}

/** The labels of the test set, in chunk order. */
interface TestLabels {
  classNoun: string[];
  context: string[];
  property: (string | null)[];
  drawingId: string[];
}

/** `chunks`' pixels and labels, concatenated in order. */
function concatChunks(chunks: Chunk[]): { testPixels: Uint8Array; testLabels: TestLabels } {
  const testPixels = new Uint8Array(chunks.reduce((a, c) => a + c.pixels.length, 0));
  const testLabels: TestLabels = { classNoun: [], context: [], property: [], drawingId: [] };
  let off = 0;
  for (const c of chunks) {
    testPixels.set(c.pixels, off);
    off += c.pixels.length;
    testLabels.classNoun.push(...c.labels.classNoun);
    testLabels.context.push(...c.labels.context);
    testLabels.property.push(...c.labels.property);
    testLabels.drawingId.push(...c.labels.drawingId);
  }
  return { testPixels, testLabels };
}

/** Draws training batches and turns them into augmented pixels, see {@linkcode createBatcher}. */
interface Batcher {
  /** `batch` random scenes of the training chunks that pass `filter`. */
  pickBatch(filter?: (c: Chunk, i: number) => boolean): Pick[];
  /** The augmented (blur, flip, shift, `--grey`) pixels of `picks`, owned by the caller. */
  pixelsOf(picks: Pick[]): tf.Tensor4D;
  /**
   * Which samples of the last batch were turned grey (`--grey`): their property and instance
   * losses are masked (a grey object has lost the colour those labels describe).
   */
  readonly greyMask: number[];
}

function createBatcher(
  train: Growing,
  options: { batch: number; size: number; greyFraction: number; rand: () => number },
): Batcher {
  const { batch, size: S, greyFraction, rand } = options;
  let greyMask: number[] = [];
  const pickBatch = (filter?: (c: Chunk, i: number) => boolean): Pick[] => {
    const out: Pick[] = [];
    while (out.length < batch) {
      const chunk = train.chunks[Math.floor(rand() * train.chunks.length)];
      const i = Math.floor(rand() * chunk.labels.count);
      if (filter === undefined || filter(chunk, i)) out.push({ chunk, i });
    }
    return out;
  };
  const pixelsOf = (picks: Pick[]): tf.Tensor4D => {
    const n = S * S * 3;
    const buf = new Uint8Array(picks.length * n);
    picks.forEach((p, b) => buf.set(p.chunk.pixels.subarray(p.i * n, (p.i + 1) * n), b * n));
    const x = gatherBatch(buf, S, picks.map((_, b) => b), {
      blurFraction: 0.3,
      flip: true,
      shift: 6,
      rand,
    });
    greyMask = picks.map((_, b) => {
      if (!(greyFraction > 0 && rand() < greyFraction)) return 0;
      for (let p = b * n; p < (b + 1) * n; p += 3) {
        x[p] = x[p + 1] = x[p + 2] = 0.299 * x[p] + 0.587 * x[p + 1] + 0.114 * x[p + 2];
      }
      return 1;
    });
    return tf.tensor4d(x, [picks.length, S, S, 3]);
  };
  return {
    pickBatch,
    pixelsOf,
    get greyMask() {
      return greyMask;
    },
  };
}

/** The features of the first `count` test scenes, in batches of 100 (owned by the caller). */
function forwardAll(net: ConvNet, count: number, testPixels: Uint8Array): tf.Tensor2D {
  const S = EVAL_NET_SIZE;
  const feats: tf.Tensor2D[] = [];
  for (let s = 0; s < count; s += 100) {
    const idx = Array.from({ length: Math.min(100, count - s) }, (_, k) => s + k);
    const x = tf.tensor4d(gatherBatch(testPixels, S, idx), [idx.length, S, S, 3]);
    feats.push(net.features(x));
    x.dispose();
  }
  const all = tf.concat(feats) as tf.Tensor2D;
  tf.dispose(feats);
  return all;
}

/** The class, context and property heads' accuracy on the first `count` test scenes. */
function headAccuracies(
  net: ConvNet,
  count: number,
  testPixels: Uint8Array,
  testLabels: TestLabels,
  ix: LabelIndices,
): Record<string, number> {
  const f = forwardAll(net, count, testPixels);
  const out: Record<string, number> = {};
  const truth: Record<string, number[]> = {
    classNoun: testLabels.classNoun.slice(0, count).map((c) => ix.classIndex.get(c)!),
    context: testLabels.context.slice(0, count).map((c) => ix.ctxIndex.get(c)!),
    property: testLabels.property.slice(0, count).map((c) => ix.propIndex.get(c ?? "none")!),
  };
  for (const head of ["classNoun", "context", "property"]) {
    const pred = tf.tidy(() => tf.argMax(net.head(head, f), 1)).dataSync();
    let ok = 0;
    for (let i = 0; i < count; i++) ok += pred[i] === truth[head][i] ? 1 : 0;
    out[head] = ok / count;
  }
  f.dispose();
  return out;
}

/**
 * The training loss on `picks`: class cross-entropy, plus half each of context, property (masked
 * on grey scenes) and CosFace instance recognition.
 */
function worldLoss(net: ConvNet, picks: Pick[], batcher: Batcher, ix: LabelIndices): tf.Scalar {
  const { classes, classIndex, ctxIndex, propIndex, instanceIds, instanceIndex } = ix;
  const scale = 16, margin = 0.2;
  const x = batcher.pixelsOf(picks);
  const f = net.features(x, { batchStats: true });
  x.dispose();
  const colour = tf.tensor1d(batcher.greyMask.map((g) => 1 - g));
  const ce = (head: string, labels: number[], n: number, weights?: tf.Tensor) =>
    tf.losses.softmaxCrossEntropy(
      tf.oneHot(tf.tensor1d(labels, "int32"), n),
      net.head(head, f),
      weights,
    );
  // Instance recognition (subject embedder): CosFace, s·(cos θ − m·[y]), on the scenes without
  // a property edit only (a colour edit changes the instance's look).
  const h = net.head("embed", f);
  const e = tf.div(h, tf.norm(h, 2, 1, true));
  const w = net.params.get("instances.w")!;
  const wn = tf.div(w, tf.norm(w, 2, 0, true));
  const oh = tf.oneHot(
    tf.tensor1d(
      picks.map((p) => instanceIndex.get(p.chunk.labels.drawingId[p.i]) ?? 0),
      "int32",
    ),
    instanceIds.length,
  );
  const logits = tf.mul(scale, tf.sub(tf.matMul(e, wn), tf.mul(margin, oh)));
  const plain = tf.tensor1d(
    picks.map((p) =>
      p.chunk.labels.property[p.i] === null && instanceIndex.has(p.chunk.labels.drawingId[p.i])
        ? 1
        : 0
    ),
  );
  const inst = tf.losses.softmaxCrossEntropy(oh, logits, tf.mul(plain, colour));
  return tf.addN([
    ce(
      "classNoun",
      picks.map((p) => classIndex.get(p.chunk.labels.classNoun[p.i])!),
      classes.length,
    ),
    tf.mul(
      0.5,
      ce(
        "context",
        picks.map((p) => ctxIndex.get(p.chunk.labels.context[p.i])!),
        CONTEXT_LABELS.length,
      ),
    ),
    tf.mul(
      0.5,
      ce(
        "property",
        picks.map((p) => propIndex.get(p.chunk.labels.property[p.i] ?? "none")!),
        PROPERTY_LABELS.length,
        colour,
      ),
    ),
    tf.mul(0.5, inst),
  ]) as tf.Scalar;
}

/**
 * Drops the instance classifier (the trunk and the class, context, property and embed heads ship)
 * and writes `net` as float16 to `path`, atomically.
 */
async function writeShipped(
  net: ConvNet,
  config: ConvNetConfig,
  metadata: Record<string, string>,
  path: string,
): Promise<void> {
  for (const k of ["instances.w", "instances.b"]) {
    net.params.get(k)!.dispose();
    net.params.delete(k);
  }
  const { instances: _, ...heads } = config.heads;
  net.config = { ...config, heads };
  await Deno.writeFile(path + ".tmp", net.encode(metadata, "F16"));
  await Deno.rename(path + ".tmp", path);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
