/**
 * Can a base stage learn class nouns with a given recipe? Trains the base (from scratch or from a
 * cascade, `--init`) on a world restricted to a few classes, and every `--every` steps prints
 * (a) the loss gap of the wrong class noun against the right one on 64 held-out real 32² scenes
 * (x-space loss, same noise; > 0 means the UNet uses the class noun) at t = 0.5, 0.7, 0.85 and
 * (b) the class of generated 32² samples ("a <class>", "… on the beach", "… in the snow", "… on
 * the grass"; 25 DDIM steps, the stage's guidance) as eval/'s world classifier reads them,
 * restricted to the probe's classes (chance 1/k). Sample grids go to `<out>/<tag>_stepN.png`
 * (default out: `runs/diag`).
 * A diagnostic for issue 4 (`reports/default-cascade-lineage.md`); nothing is saved but the grids.
 *
 * ```sh
 * deno run -A experiments/class_probe.ts --classes dog,cat,teapot,backpack,sneaker,clock,car,vase,candle,bowl \
 *   --init models/default/cascade.safetensors --object-weight 5 --steps 1000 --every 250 --tag ten_ow5
 * ```
 *
 * Options: `--classes LIST`, `--steps N` (400), `--every N` (100), `--init FILE`, `--object-weight K`,
 * `--scale MIN,MAX`, `--lr X`, `--weighting minSnr|v|x|epsilon`, `--batch B` (16), `--samples N`
 * (generated images per measurement, 32), `--tag NAME`, `--preset NAME` (small), `--sample-steps N` (25), `--out DIR`.
 *
 * @module
 */
import { declareParams, type ParamValues, runCli, UsageError } from "../params/mod.ts";
import { initBackend, tf } from "../backend/mod.ts";
import { createEmojiScenes, rgbImageFromUint8, saveImageGrid, sceneSeedOf } from "../data/mod.ts";
import {
  diffusionLoss,
  disposeTextEmbedding,
  LOSS_WEIGHTINGS,
  PRESET_NAMES,
  presetConfig,
  scheduleAt,
  type TextEmbedding,
} from "../diffusion/mod.ts";
import { resizeImage, WorldClassifier } from "../eval/mod.ts";
import { join } from "node:path";
import { createPretrainConfig, createPretrainJob } from "../training/mod.ts";

/** The probe's parameters (options, checks and usage text). */
const probeParams = declareParams("probe", {
  classes: {
    type: "string",
    default: "dog,teapot",
    metavar: "LIST",
    help: "the world's classes (at least two)",
  },
  steps: { type: "integer", min: 0, default: 400, help: "training steps" },
  every: { type: "integer", min: 1, default: 100, help: "measure every N steps" },
  scale: { type: "string", metavar: "MIN,MAX", help: "object scale range of the world" },
  lr: { type: "number", exclusiveMin: 0, help: "learning rate", defaultText: "pretraining's" },
  weighting: {
    type: "enum",
    values: LOSS_WEIGHTINGS,
    help: "loss weighting",
    defaultText: "pretraining's",
  },
  init: { type: "string", minLength: 1, metavar: "FILE", help: "start from this cascade" },
  tag: { type: "string", minLength: 1, default: "probe", help: "file name prefix of the grids" },
  batch: { type: "integer", min: 1, default: 16, help: "training batch" },
  samples: { type: "integer", min: 2, default: 32, help: "generated images per measurement" },
  objectWeight: { type: "number", min: 1, help: "object pixel weight in the loss" },
  preset: { type: "enum", values: PRESET_NAMES, default: "small", help: "cascade preset" },
  sampleSteps: { type: "integer", min: 1, default: 25, help: "DDIM steps of the samples" },
  out: {
    type: "string",
    minLength: 1,
    default: join("runs", "diag"),
    metavar: "DIR",
    help: "grid folder",
  },
});

/** The probe's settings: the parsed values, the lists split. */
type ProbeOptions =
  & Omit<ParamValues<typeof probeParams.specs>, "classes" | "scale">
  & { classes: string[]; scale?: [number, number] };

function probeOptions(values: ParamValues<typeof probeParams.specs>): ProbeOptions {
  const classes = values.classes.split(",");
  if (classes.length < 2) {
    throw new UsageError(
      `Cannot probe as '--classes' must name at least two classes: current value is "${values.classes}"`,
    );
  }
  let scale: [number, number] | undefined;
  if (values.scale !== undefined) {
    const [lo, hi] = values.scale.split(",").map(Number);
    if (!(lo > 0 && lo <= hi && hi <= 1)) {
      throw new UsageError(
        `Cannot probe as '--scale' must be MIN,MAX with 0 < MIN ≤ MAX ≤ 1: current value is "${values.scale}"`,
      );
    }
    scale = [lo, hi];
  }
  return { ...values, classes, scale };
}

/** What a measurement needs: the job, the classifier and 64 held-out real scenes. */
interface Probe {
  o: ProbeOptions;
  job: Awaited<ReturnType<typeof createPretrainJob>>;
  clf: WorldClassifier;
  specs: { caption: string; classNoun: string }[];
  /** The held-out scenes, [N, 32, 32, 3]. */
  x: tf.Tensor4D;
}

const N = 64;

function encode(probe: Probe, caps: string[]): TextEmbedding {
  const cascade = probe.job.cascade, L = cascade.textEncoder.config.maxLength;
  const ids = new Int32Array(caps.length * L), mask = new Uint8Array(caps.length * L);
  caps.forEach((c, k) => {
    const e = cascade.tokenizer.encodeFixed(c, L);
    ids.set(e.ids, k * L);
    mask.set(e.mask, k * L);
  });
  return cascade.textEncoder.encode(ids, mask, { batch: caps.length });
}

/** (a) The loss gap of the wrong class noun against the right one, at three times. */
function lossGaps(probe: Probe): string[] {
  const { specs, x } = probe, K = probe.o.classes, st = probe.job.cascade.stages[0];
  const right = encode(probe, specs.map((s) => s.caption));
  const wrong = encode(
    probe,
    specs.map((s, i) =>
      s.caption.replace(
        s.classNoun,
        K[(K.indexOf(s.classNoun) + 1 + (i % (K.length - 1))) % K.length],
      )
    ),
  );
  const gaps: string[] = [];
  for (const t of [0.5, 0.7, 0.85]) {
    const at = scheduleAt(st.schedule, t);
    const eps = tf.randomNormal([N, 32, 32, 3], 0, 1, "float32", 4) as tf.Tensor4D;
    const zt = tf.add(tf.mul(at.alpha, x), tf.mul(at.sigma, eps)) as tf.Tensor4D;
    const logSnr = tf.fill([N], at.logSnr) as tf.Tensor1D, keep = tf.ones([N]) as tf.Tensor1D;
    const loss = (text: TextEmbedding) =>
      tf.tidy(() =>
        diffusionLoss(st.unet.apply(zt, { logSnr, text, keep }), {
          prediction: st.unet.config.prediction,
          xStart: x,
          noise: eps,
          logSnr: Array(N).fill(at.logSnr),
          weighting: "x",
        }).dataSync()[0]
      );
    const r = loss(right), w = loss(wrong);
    gaps.push(`t=${t} ${(100 * (w - r) / r).toFixed(2)}%`);
    tf.dispose([eps, zt, logSnr, keep]);
  }
  disposeTextEmbedding(right);
  disposeTextEmbedding(wrong);
  return gaps;
}

/** (a) and (b) at one step; writes the sample grid; returns the generated-class accuracy. */
async function measure(probe: Probe, step: number): Promise<number> {
  const { o, clf } = probe, K = o.classes;
  const gaps = lossGaps(probe);
  const idx = K.map((c) => clf.classes.indexOf(c));
  const per = Math.max(2, Math.floor(o.samples / K.length));
  const ctx = ["", " on the beach", " in the snow", " on the grass"];
  const prompts = K.flatMap((c) => Array.from({ length: per }, (_, j) => `a ${c}${ctx[j % 4]}`));
  const { images } = await probe.job.cascade.sample({
    prompt: prompts,
    seed: 7,
    stages: 1,
    steps: o.sampleSteps,
  });
  const out = clf.classify(images.map((im) => resizeImage(rgbImageFromUint8(im), 64)));
  const C = clf.classes.length;
  let ok = 0;
  prompts.forEach((_, i) => {
    let best = 0;
    for (let k = 1; k < K.length; k++) {
      if (out.classProbs[i * C + idx[k]] > out.classProbs[i * C + idx[best]]) best = k;
    }
    if (best === Math.floor(i / per)) ok++;
  });
  await Deno.mkdir(o.out, { recursive: true });
  await saveImageGrid(
    join(o.out, `${o.tag}_step${step}.png`),
    images.map((im) => rgbImageFromUint8(im)),
    { columns: per, scale: 3 },
  );
  const accuracy = ok / prompts.length;
  console.log(
    `step ${step}: gap ${gaps.join(", ")} | generated class (${K.length}-way) ${
      (100 * accuracy).toFixed(1)
    }% of ${prompts.length}`,
  );
  return accuracy;
}

/**
 * Runs the probe: trains `--steps` steps and measures at step 0 and every `--every` steps.
 *
 * @param args Command-line arguments (see the module docs, or `--help`).
 * @returns The exit code (0 done, 2 for a bad option).
 * @example
 * ```ts
 * import { main } from "./class_probe.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export async function main(args: string[]): Promise<number> {
  return await runCli(args, {
    params: probeParams,
    usage: "deno run -A experiments/class_probe.ts [options]",
    summary: "Trains a base stage on a few classes and measures whether it uses the class nouns.",
  }, async (values) => {
    await runProbe(probeOptions(values));
    return 0;
  });
}

/**
 * The probe's body.
 *
 * @param o The settings.
 * @returns The generated-class accuracy of each measurement, by step.
 */
export async function runProbe(o: ProbeOptions): Promise<Map<number, number>> {
  await initBackend({ quiet: true });
  const world = await createEmojiScenes({
    classes: o.classes,
    ...(o.scale ? { objectScale: o.scale } : {}),
  });
  const config = createPretrainConfig({
    cascade: presetConfig(o.preset),
    stage: "base",
    batchSize: o.batch,
    ...(o.init ? { initFrom: o.init } : {}),
    dataSeed: 0x00300000,
    trainer: {
      ...(o.lr ? { learningRate: o.lr } : {}),
      ...(o.weighting ? { weighting: o.weighting } : {}),
    },
    ...(o.objectWeight ? { objectWeight: o.objectWeight } : {}),
  });
  using job = await createPretrainJob(config, { world });
  using clf = await WorldClassifier.load();
  const specs = Array.from(
    { length: N },
    (_, i) => world.sample(sceneSeedOf(0x0e7a0002 + 99, i), { property: null }),
  );
  const xs = await Promise.all(specs.map(async (s) => (await world.render(s, { size: 32 })).data));
  const x = tf.tensor4d(Float32Array.from(xs.flatMap((v) => Array.from(v))), [N, 32, 32, 3]);
  const probe: Probe = { o, job, clf, specs, x };
  const results = new Map<number, number>();
  try {
    results.set(0, await measure(probe, 0));
    const t0 = performance.now();
    for (let s = 1; s <= o.steps; s++) {
      const r = await job.trainStep();
      if (s % 50 === 0) {
        const perStep = ((performance.now() - t0) / 1000 / s).toFixed(2);
        console.log(`step ${s} loss ${r.loss.toFixed(4)} ${perStep} s/step`);
      }
      if (s % o.every === 0) results.set(s, await measure(probe, s));
    }
  } finally {
    x.dispose();
  }
  return results;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
