/**
 * `deno task measure-prior --model DIR`: measures a pretrained cascade's prior with eval/'s nets,
 * the figures the default model's card reports (issue 4, acceptance 3–4):
 *
 * 1. Quality: `--n` prompts "a [property] <class> <context>" drawn from the eval seed stream
 *    `EVAL_SEEDS.prior` (class and context uniform, a colour property on a quarter of them),
 *    generated through the first `--stages` stages, classified by the world classifier: how often
 *    the class, the context and the property are the prompt's, with bootstrap 95 % intervals and
 *    the classifier's own held-out accuracy beside them (on drawings it saw in training, which is
 *    what a generator that learned the same drawings draws, and on unseen ones).
 * 2. Variety: "a teapot" (`--variety-prompt`) with 16 seeds → `variety.png` and its DIV.
 * 3. Held-out subjects: for each built-in subject, `--pres` samples of "a <class>" and their
 *    subject similarity to the subject's images (the PRES of the untrained prior), beside the
 *    subject's images' similarity to each other (what "reproduced" would score).
 *
 * Writes `prior.json` and PNG grids to `--out` (default runs/prior_eval) and prints a Markdown
 * table for the model card.
 *
 * ```sh
 * deno task measure-prior --model models/default --n 208 --stages 2
 * ```
 *
 * @module
 */
import { declareParams, runCli } from "../params/mod.ts";
import { join } from "node:path";
import {
  backendOption,
  backendParam,
  builtInSubjects,
  type Cascade,
  createPreset,
  initBackend,
  loadCheckpoint,
  loadSubjectFolder,
  PRESET_NAMES,
  type RgbImage,
  rgbImageFromUint8,
  saveImageGrid,
  SCENE_PROPERTIES,
  sceneCaption,
} from "./deps.ts";
import { bootstrapCi, type ConfidenceInterval } from "./bootstrap_ci.ts";
import { diversity } from "./diversity.ts";
import { priorPreservation } from "./subject_fidelity.ts";
import { similarityMatrix } from "./image_embedder.ts";
import { SubjectEmbedder } from "./subject_embedder.ts";
import { WorldClassifier } from "./world_classifier.ts";
import { EVAL_SEEDS } from "./eval_seeds.ts";
import { Rng } from "./deps.ts";

const SUMMARY =
  `Measures a cascade's prior with eval/'s world classifier and subject embedder (class / context /
property accuracy of generated images, variety of "a teapot", similarity of "a <class>" samples to
the held-out built-in subjects). Writes prior.json and PNG grids to --out.`;

const params = declareParams("measure", {
  model: {
    type: "string",
    minLength: 1,
    default: "models/default",
    metavar: "PATH",
    help: `cascade .safetensors, a folder holding cascade.safetensors, or preset:NAME\n(${
      PRESET_NAMES.join(", ")
    })`,
  },
  n: {
    type: "integer",
    min: 1,
    max: 100_000,
    default: 208,
    help: "prompts for the quality figures",
  },
  batch: { type: "integer", min: 1, max: 1024, default: 16, help: "prompts per sampling batch" },
  stages: {
    type: "integer",
    min: 1,
    max: 8,
    default: 2,
    help: "stages to run (2: 32 → 128, the classifier reads 64²)",
  },
  steps: {
    type: "integer",
    min: 1,
    max: 1000,
    help: "sampler steps per stage",
    defaultText: "the cascade's",
  },
  guidance: {
    type: "number",
    min: 0,
    max: 100,
    metavar: "W",
    help: "guidance weight",
    defaultText: "the cascade's",
  },
  sampler: {
    type: "enum",
    values: ["ddim", "ancestral"],
    help: "sampler for every stage",
    defaultText: "each stage's own",
  },
  augLevel: {
    type: "number",
    min: 0,
    max: 1,
    metavar: "T",
    help: "SR stages' sampling noise-augmentation level t_aug",
    defaultText: "each stage's own, 0.05 in the small preset",
  },
  varietyPrompt: {
    type: "string",
    notBlank: true,
    default: "a teapot",
    help: "prompt of the variety grid",
  },
  varietyStages: {
    type: "integer",
    min: 1,
    max: 8,
    help: "stages for the variety grid",
    defaultText: "all",
  },
  pres: {
    type: "integer",
    min: 2,
    max: 10_000,
    default: 16,
    help: '"a <class>" samples per held-out subject',
  },
  out: {
    type: "string",
    minLength: 1,
    default: join("runs", "prior_eval"),
    metavar: "DIR",
    help: "output folder",
  },
  backend: backendParam,
});

/** One quality prompt and what the classifier said of its image. */
interface QualityRow {
  prompt: string;
  classNoun: string;
  context: string;
  property: string | null;
  predicted: { classNoun: string; context: string; property: string | null };
  /** Rank of the prompted class among the classifier's classes (1 = its top guess). */
  classRank: number;
}

async function loadCascade(model: string): Promise<Cascade> {
  if (model.startsWith("preset:")) {
    const name = model.slice(7) as (typeof PRESET_NAMES)[number];
    if (!PRESET_NAMES.includes(name)) {
      throw new RangeError(`Cannot measure as preset '${name}' is not one of ${PRESET_NAMES}`);
    }
    return await createPreset(name);
  }
  const stat = await Deno.stat(model).catch(() => null);
  if (stat === null) throw new Error(`Cannot measure as --model '${model}' does not exist`);
  const file = stat.isFile ? model : join(model, "cascade.safetensors");
  const loaded = await loadCheckpoint(file);
  if (loaded.kind !== "cascade") {
    loaded.model.dispose();
    throw new Error(`Cannot measure as '${file}' holds a ${loaded.kind}, not a cascade`);
  }
  return loaded.model as Cascade;
}

/**
 * Rank (1-based) of class `want` in row `i` of `[N, classes]` softmax probabilities: one plus the
 * number of classes scored strictly higher.
 *
 * @example
 * ```ts
 * import { classRankOf } from "./measure_prior.ts";
 * const probs = new Float32Array([0.1, 0.6, 0.3]);
 * console.log(classRankOf(probs, ["dog", "cat", "teapot"], 0, "teapot")); // 2
 * ```
 */
export function classRankOf(
  probs: Float32Array,
  classes: readonly string[],
  i: number,
  want: string,
): number {
  const k = classes.indexOf(want);
  if (k < 0) throw new RangeError(`Cannot rank class '${want}' as the classifier does not know it`);
  const row = probs.subarray(i * classes.length, (i + 1) * classes.length);
  let rank = 1;
  for (const p of row) if (p > row[k]) rank++;
  return rank;
}

const pct = (c: ConfidenceInterval) =>
  `${(100 * c.estimate).toFixed(1)} % [${(100 * c.low).toFixed(1)}, ${(100 * c.high).toFixed(1)}]`;

/**
 * Runs the command line.
 *
 * @param args Arguments without the script name.
 * @returns The exit code (0 done, 2 bad input, 1 error).
 *
 * @example
 * ```ts
 * import { main } from "./measure_prior.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCli(args, {
    params,
    usage: "deno task measure-prior [--model PATH] [options]",
    summary: SUMMARY,
  }, async (values) => {
    const { n, batch, stages, steps, guidance, sampler, augLevel, out } = values;
    const presN = values.pres;
    await initBackend({ prefer: backendOption(values.backend) });
    await Deno.mkdir(out, { recursive: true });
    const t0 = performance.now();
    const elapsed = () => `${((performance.now() - t0) / 1e3).toFixed(0)} s`;

    // Disposed explicitly (not with `using`): a failure inside must surface as itself, not as a
    // SuppressedError of a disposal that failed after it.
    const classifier = await WorldClassifier.load();
    const embedder = await SubjectEmbedder.load();
    const cascade = await loadCascade(values.model);
    try {
      const varietyStages = values.varietyStages ?? cascade.stages.length;
      const gen = async (prompts: string[], seed: number, s = stages): Promise<RgbImage[]> => {
        const { images } = await cascade.sample({
          prompt: prompts,
          seed,
          stages: s,
          ...(steps !== undefined ? { steps } : {}),
          ...(guidance !== undefined ? { guidance } : {}),
          ...(sampler !== undefined ? { sampler } : {}),
          ...(augLevel !== undefined ? { augLevel } : {}),
        });
        return images.map((im) => rgbImageFromUint8(im));
      };

      // 1. Quality over drawn prompts.
      const { quality, rows, images } = await measureQuality(gen, classifier, { n, batch, t0 });
      const show = rows.slice(0, 64);
      await saveImageGrid(join(out, "quality.png"), images.slice(0, 64), {
        columns: 8,
        labels: show.map((r) =>
          `${r.prompt} → ${
            r.predicted.property ? r.predicted.property + " " : ""
          }${r.predicted.classNoun}, ${r.predicted.context}`
        ),
      });

      // 2. Variety of one prompt.
      const varietyPrompt = values.varietyPrompt;
      const variety: RgbImage[] = [];
      for (let s = 0; s < 16; s += batch) {
        const k = Math.min(batch, 16 - s);
        variety.push(...await gen(Array(k).fill(varietyPrompt), 1000 + s, varietyStages));
      }
      await saveImageGrid(join(out, "variety.png"), variety, { columns: 8 });
      const varietyDiv = diversity(variety, { embedder, seed: 2 });
      const varietyCls = classifier.classify(variety);
      console.log(`variety: 16 × "${varietyPrompt}" | ${elapsed()}`);

      // 3. Held-out subjects vs the prior's "a <class>".
      const subjects = await measureHeldOutSubjects(gen, embedder, { presN, batch, out, elapsed });

      const heldOut = JSON.parse(
        classifier.metadata.heldOutAccuracyViews ?? classifier.metadata.heldOutAccuracy ?? "{}",
      );
      const report = {
        model: values.model,
        stages,
        steps: steps ?? "cascade default",
        guidance: guidance ?? "cascade default",
        sampler: sampler ?? "cascade default",
        augLevel: augLevel ?? "cascade default",
        n,
        quality,
        classifierHeldOutAccuracy: heldOut,
        variety: {
          prompt: varietyPrompt,
          stages: varietyStages,
          div: varietyDiv,
          classNoun: varietyCls.classNoun,
        },
        heldOutSubjects: subjects,
        seconds: (performance.now() - t0) / 1e3,
        rows,
      };
      await Deno.writeTextFile(join(out, "prior.json"), JSON.stringify(report, null, 2) + "\n");
      printSummary(report, join(out, "prior.json"), elapsed());
    } finally {
      for (const d of [cascade, embedder, classifier]) {
        try {
          d.dispose();
        } catch (e) {
          console.error(`(while disposing: ${e})`);
        }
      }
    }
    return 0;
  });
}

/** Draws images from the cascade: `prompts` from `seed`, through `stages` stages. */
type Generate = (prompts: string[], seed: number, stages?: number) => Promise<RgbImage[]>;

/**
 * Quality: `n` prompts "a [property] <class> <context>" drawn from the eval seed stream, sampled
 * in batches and classified; the accuracies with bootstrap confidence intervals.
 */
async function measureQuality(
  gen: Generate,
  classifier: WorldClassifier,
  options: { n: number; batch: number; t0: number },
) {
  const { n, batch, t0 } = options;
  const elapsed = () => `${((performance.now() - t0) / 1e3).toFixed(0)} s`;
  const rng = new Rng(EVAL_SEEDS.prior, { algorithm: "mulberry32" });
  const pick = <T>(xs: readonly T[]) => rng.pick(xs);
  const specs = Array.from({ length: n }, () => {
    const classNoun = pick(classifier.classes);
    const context = pick(classifier.contexts);
    const property = rng.chance(0.25) ? pick(SCENE_PROPERTIES).name : null;
    return {
      classNoun,
      context,
      property,
      prompt: sceneCaption(classNoun, { context, property }),
    };
  });
  const images: RgbImage[] = [];
  for (let s = 0; s < n; s += batch) {
    const part = specs.slice(s, s + batch);
    images.push(...await gen(part.map((p) => p.prompt), EVAL_SEEDS.prior + s));
    const done = Math.min(n, s + batch), secs = (performance.now() - t0) / 1e3;
    console.log(
      `quality: ${done}/${n} images | ${elapsed()} | ETA ${
        (secs / done * (n - done)).toFixed(0)
      } s`,
    );
  }
  const cls = classifier.classify(images);
  const rows: QualityRow[] = specs.map((p, i) => ({
    ...p,
    predicted: {
      classNoun: cls.classNoun[i],
      context: cls.context[i],
      property: cls.property[i],
    },
    classRank: classRankOf(cls.classProbs, classifier.classes, i, p.classNoun),
  }));
  const hit = (f: (r: QualityRow) => boolean, only: (r: QualityRow) => boolean = () => true) =>
    bootstrapCi(rows.filter(only).map((r) => f(r) ? 1 : 0), { seed: 1 });
  const quality = {
    classAccuracy: hit((r) => r.predicted.classNoun === r.classNoun),
    // Top-5: a finer signal than top-1 while a prior is learning its classes.
    classTop5Accuracy: hit((r) => r.classRank <= 5),
    contextAccuracy: hit((r) => r.predicted.context === r.context),
    propertyAccuracy: hit(
      (r) => r.predicted.property === r.property,
      (r) => r.property !== null,
    ),
    classChance: 1 / classifier.classes.length,
  };
  return { quality, rows, images };
}

/** Held-out subjects vs the prior's "a <class>": PRES and the subject's own self-similarity. */
async function measureHeldOutSubjects(
  gen: Generate,
  embedder: SubjectEmbedder,
  options: { presN: number; batch: number; out: string; elapsed: () => string },
) {
  const { presN, batch, out, elapsed } = options;
  const subjects = [];
  for (const sub of builtInSubjects()) {
    const real = (await loadSubjectFolder(sub.dir, { size: 128 })).images;
    const samples: RgbImage[] = [];
    for (let s = 0; s < presN; s += batch) {
      const k = Math.min(batch, presN - s);
      samples.push(...await gen(Array(k).fill(sceneCaption(sub.classNoun)), 2000 + s));
    }
    await saveImageGrid(join(out, `class_${sub.name}.png`), [...real, ...samples], {
      columns: 8,
    });
    const pres = priorPreservation(samples, real, { embedder, seed: 3 });
    // The subject's images against each other: what a reproduction of the subject scores.
    const e = embedder.embed(real);
    const sim = similarityMatrix(e, e, e.length / real.length);
    const selfSims: number[] = [];
    for (let i = 0; i < real.length; i++) {
      for (let j = 0; j < real.length; j++) {
        if (i !== j) selfSims.push(sim[i * real.length + j]);
      }
    }
    const selfSim = selfSims.reduce((a, b) => a + b, 0) / selfSims.length;
    subjects.push({
      name: sub.name,
      classNoun: sub.classNoun,
      pres,
      subjectSelfSimilarity: selfSim,
    });
    console.log(`held-out ${sub.name}: ${presN} samples | ${elapsed()}`);
  }
  return subjects;
}

/** Prints the report's tables (quality, variety, held-out subjects). */
function printSummary(
  report: {
    n: number;
    stages: number;
    quality: Awaited<ReturnType<typeof measureQuality>>["quality"];
    classifierHeldOutAccuracy: Record<string, number | undefined>;
    variety: { prompt: string; div: ConfidenceInterval };
    heldOutSubjects: Awaited<ReturnType<typeof measureHeldOutSubjects>>;
  },
  jsonPath: string,
  elapsedText: string,
): void {
  const { n, stages, quality } = report;
  const heldOut = report.classifierHeldOutAccuracy;
  const varietyPrompt = report.variety.prompt, varietyDiv = report.variety.div;
  const subjects = report.heldOutSubjects;
  const f = (x: number | undefined) => x === undefined ? "?" : `${(100 * x).toFixed(1)} %`;
  console.log(
    [
      ``,
      `| measure (${n} prompts, ${stages} stage(s)) | generated images | classifier on held-out real scenes |`,
      `| --- | --- | --- |`,
      `| class right (chance ${f(quality.classChance)}) | ${pct(quality.classAccuracy)} | ${
        f(heldOut.classNoun)
      } |`,
      `| class in the top 5 (chance ${f(5 * quality.classChance)}) | ${
        pct(quality.classTop5Accuracy)
      } | |`,
      `| context right | ${pct(quality.contextAccuracy)} | ${f(heldOut.context)} |`,
      `| property right (${quality.propertyAccuracy.n} prompts with one) | ${
        pct(quality.propertyAccuracy)
      } | ${f(heldOut.property)} |`,
      ``,
      `variety: DIV of 16 × "${varietyPrompt}" = ${varietyDiv.estimate.toFixed(3)} [${
        varietyDiv.low.toFixed(3)
      }, ${varietyDiv.high.toFixed(3)}]`,
      ``,
      `| held-out subject | similarity of "a <class>" samples to it (PRES) | its own images to each other |`,
      `| --- | --- | --- |`,
      ...subjects.map((s) =>
        `| ${s.name} (${s.classNoun}) | ${s.pres.estimate.toFixed(3)} [${s.pres.low.toFixed(3)}, ${
          s.pres.high.toFixed(3)
        }] | ${s.subjectSelfSimilarity.toFixed(3)} |`
      ),
      ``,
      `wrote ${jsonPath}, quality.png, variety.png, class_*.png in ${elapsedText}`,
    ].join("\n"),
  );
}

if (import.meta.main) Deno.exit(await main(Deno.args));
