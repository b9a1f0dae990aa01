/**
 * Does a cascade's base stage use the class noun? On real held-out scenes at the base's size (eval
 * stream `EVAL_SEEDS.classifierTest`, no property edit), the base's x-space loss at several noise
 * levels t with four conditions:
 *
 * - `right`: the scene's caption ("a teapot on the beach");
 * - `wrongClass`: the same caption with another class noun ("a dog on the beach");
 * - `classOnly`: the class noun alone ("a teapot": the context words dropped);
 * - `null`: the learned null condition.
 *
 * A base that draws its classes has `wrongClass` clearly above `right`; the gap of `classOnly`
 * shows what the context words are worth, for scale. The shipped default base (session 4):
 * wrong-class gap < 0.3 % at every t, context words 3–20 %: it draws contexts, not classes.
 *
 * ```sh
 * deno run -A eval/class_signal.ts --model models/default [--scenes 64] [--object-scale 0.55,0.75]
 * ```
 *
 * @module
 */
import { declareParams, runCli } from "../params/mod.ts";
import {
  backendOption,
  backendParam,
  type Cascade,
  createEmojiScenes,
  diffusionLoss,
  disposeTextEmbedding,
  type EmojiScenes,
  initBackend,
  loadCheckpoint,
  sceneSeedOf,
  scheduleAt,
  type TextEmbedding,
  tf,
} from "./deps.ts";
import { EVAL_SEEDS } from "./eval_seeds.ts";

/** One noise level of {@link classSignal}: the mean x-space loss under each condition. */
export interface ClassSignalRow {
  /** Noise level t in [0, 1]. */
  t: number;
  /** Loss with the scene's caption. */
  right: number;
  /** Loss with another class noun in the caption. */
  wrongClass: number;
  /** Loss with the class noun alone. */
  classOnly: number;
  /** Loss with the null condition. */
  null: number;
}

/**
 * Measures how much the base stage's loss depends on the class noun (see the module doc).
 *
 * @param cascade A cascade whose stage 0 reads text (borrowed).
 * @param world The EmojiScenes world to draw the scenes from.
 * @param options `scenes` (default 64), `ts` (noise levels, default 0.3, 0.5, 0.7, 0.85), `seed`
 * (of the noise, default 4).
 * @returns One {@link ClassSignalRow} per noise level.
 * @throws {RangeError} When the base stage reads no text or `scenes` < 2.
 *
 * @example
 * ```ts
 * import { createEmojiScenes, createPreset, initBackend } from "./deps.ts";
 * import { classSignal } from "./class_signal.ts";
 * await initBackend({ quiet: true });
 * using cascade = await createPreset("tiny");
 * const rows = await classSignal(cascade, await createEmojiScenes(), { scenes: 4, ts: [0.5] });
 * console.log(rows.length, rows[0].wrongClass > 0); // 1 true
 * ```
 */
export async function classSignal(
  cascade: Cascade,
  world: EmojiScenes,
  options: { scenes?: number; ts?: readonly number[]; seed?: number } = {},
): Promise<ClassSignalRow[]> {
  const { scenes: n = 64, ts = [0.3, 0.5, 0.7, 0.85], seed = 4 } = options;
  const stage = cascade.stages[0], unet = stage.unet;
  if (unet.config.textDim === 0) {
    throw new RangeError(`Cannot measure the class signal as the base stage reads no text`);
  }
  if (!Number.isInteger(n) || n < 2) {
    throw new RangeError(
      `Cannot measure the class signal as 'scenes' must be an integer ≥ 2: current value is ${n}`,
    );
  }
  const size = stage.imageSize, L = cascade.textEncoder.config.maxLength;
  const specs = Array.from(
    { length: n },
    (_, i) => world.sample(sceneSeedOf(EVAL_SEEDS.classifierTest, i), { property: null }),
  );
  const pixels = new Float32Array(n * size * size * 3);
  for (let i = 0; i < n; i++) {
    pixels.set((await world.render(specs[i], { size })).data, i * size * size * 3);
  }
  const classes = world.classes;
  const other = (c: string, i: number) =>
    classes[(classes.indexOf(c) + 1 + (i * 7919) % (classes.length - 1)) % classes.length];
  const encode = (captions: string[]): TextEmbedding => {
    const ids = new Int32Array(n * L), mask = new Uint8Array(n * L);
    captions.forEach((c, k) => {
      const e = cascade.tokenizer.encodeFixed(c, L);
      ids.set(e.ids, k * L);
      mask.set(e.mask, k * L);
    });
    return cascade.textEncoder.encode(ids, mask, { batch: n });
  };
  const texts = {
    right: encode(specs.map((s) => s.caption)),
    wrongClass: encode(specs.map((s, i) => s.caption.replace(s.classNoun, other(s.classNoun, i)))),
    classOnly: encode(specs.map((s) => `a ${s.classNoun}`)),
  };
  try {
    return ts.map((t) =>
      tf.tidy(() => {
        const at = scheduleAt(stage.schedule, t);
        const x = tf.tensor4d(pixels, [n, size, size, 3]);
        const eps = tf.randomNormal([n, size, size, 3], 0, 1, "float32", seed) as tf.Tensor4D;
        const zt = tf.add(tf.mul(at.alpha, x), tf.mul(at.sigma, eps)) as tf.Tensor4D;
        const logSnr = tf.fill([n], at.logSnr) as tf.Tensor1D;
        const loss = (text: TextEmbedding, keep: number) => {
          const pred = unet.apply(zt, {
            logSnr,
            text,
            keep: tf.fill([n], keep) as tf.Tensor1D,
          });
          return diffusionLoss(pred, {
            prediction: unet.config.prediction,
            xStart: x,
            noise: eps,
            logSnr: new Array(n).fill(at.logSnr),
            weighting: "x",
          }).dataSync()[0];
        };
        return {
          t,
          right: loss(texts.right, 1),
          wrongClass: loss(texts.wrongClass, 1),
          classOnly: loss(texts.classOnly, 1),
          null: loss(texts.right, 0),
        };
      })
    );
  } finally {
    for (const e of Object.values(texts)) disposeTextEmbedding(e);
  }
}

const params = declareParams("measure", {
  model: {
    type: "string",
    minLength: 1,
    default: "models/default",
    metavar: "PATH",
    help: "cascade .safetensors or a folder holding cascade.safetensors",
  },
  scenes: { type: "integer", min: 1, max: 100_000, default: 64, help: "scenes per noise level" },
  objectScale: {
    type: "string",
    pattern: /^[0-9.]+,[0-9.]+$/,
    metavar: "MIN,MAX",
    help: "object size range of the scenes",
    defaultText: "the world's",
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
 * import { main } from "./class_signal.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCli(args, {
    params,
    usage: "deno run -A eval/class_signal.ts [options]",
    summary: "How much the class noun lowers the base stage's loss, per noise level (a table).",
  }, async (values) => {
    await initBackend({ prefer: backendOption(values.backend), quiet: true });
    const model = values.model;
    const file = (await Deno.stat(model)).isDirectory ? `${model}/cascade.safetensors` : model;
    const loaded = await loadCheckpoint(file);
    if (loaded.kind !== "cascade") {
      throw new RangeError(`Cannot measure as '${file}' holds a ${loaded.kind}, not a cascade`);
    }
    const scale = values.objectScale?.split(",").map(Number) as [number, number] | undefined;
    const world = await createEmojiScenes(scale ? { objectScale: scale } : {});
    using cascade = loaded.model as Cascade;
    const rows = await classSignal(cascade, world, { scenes: values.scenes });
    const pct = (a: number, b: number) => {
      const v = 100 * (a - b) / b;
      return `${v >= 0 ? "+" : ""}${v.toFixed(2)} %`;
    };
    console.log(`| t | loss, right caption | wrong class noun | class noun alone | null |`);
    console.log(`| --- | --- | --- | --- | --- |`);
    for (const r of rows) {
      console.log(
        `| ${r.t} | ${r.right.toFixed(5)} | ${pct(r.wrongClass, r.right)} | ${
          pct(r.classOnly, r.right)
        } | ${pct(r.null, r.right)} |`,
      );
    }
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
