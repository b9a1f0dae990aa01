/**
 * Measures the shipped eval nets on held-out data and records the figures in their weights'
 * metadata: the subject embedder's (and the foreground-colour measure's) ROC AUC of same-instance
 * vs same-class-other-instance pairs on drawings it never trained on (including the built-in
 * subjects' drawings and their real images), and the world classifier's accuracy on the built-in
 * subjects' images. `deno task measure-eval-nets` (after `deno task train-eval-nets`).
 *
 * @module
 */
import { declareParams, runCli } from "../params/mod.ts";
import { fileURLToPath } from "node:url";
import {
  backendOption,
  backendParam,
  builtInSubjects,
  decodeSafetensors,
  encodeSafetensors,
  initBackend,
  loadSubjectFolder,
  type RgbImage,
  sceneSeedOf,
} from "./deps.ts";
import { datasetImages, evalWorld, loadChunks } from "./_dataset.ts";
import { isEmbedderTrainDrawing } from "./_nets.ts";
import { EVAL_SEEDS } from "./eval_seeds.ts";
import { SubjectEmbedder } from "./subject_embedder.ts";
import { SINGLE_CLASSIFIER_VIEW, WorldClassifier } from "./world_classifier.ts";
import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
import type { ImageEmbedder } from "./image_embedder.ts";
import { rocAuc } from "./roc_auc.ts";

const params = declareParams("measure", {
  scenes: { type: "integer", min: 1, max: 10_000, default: 3, help: "scenes per drawing" },
  scenesDir: {
    type: "string",
    minLength: 1,
    default: "runs/eval/scenes",
    metavar: "DIR",
    help: "rendered scenes (eval/render_eval_scenes.ts)",
  },
  dryRun: {
    type: "boolean",
    default: false,
    help: "measure without writing the weights' metadata",
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
 * import { main } from "./measure_eval_nets.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCli(args, {
    params,
    usage: "deno task measure-eval-nets [options]",
    summary:
      "Measures eval/'s nets (embedder ROC AUC, classifier accuracy) and records the figures.",
  }, async (values) => {
    await initBackend({ prefer: backendOption(values.backend) });
    const t0 = performance.now();
    const { images, meta, subjects, subjectImages } = await measureSet(values.scenes, t0);

    using embedder = await SubjectEmbedder.load();
    const pixel = new ForegroundColorEmbedder();
    const figures: Record<string, Record<string, number>> = {};
    for (
      const [name, e] of [["embedder", embedder], ["foregroundColour", pixel]] as [
        string,
        ImageEmbedder,
      ][]
    ) {
      figures[name] = embedderFigures(e, images, meta);
      console.log(name, JSON.stringify(figures[name]));
    }

    using classifier = await WorldClassifier.load();
    const subjectAcc = subjectAccuracy(classifier, subjectImages, subjects);
    console.log("classifier on built-in subjects' images:", JSON.stringify(subjectAcc));

    // The classifier as eval/ uses it (the default test-time views) on the held-out scenes, and on
    // the second held-out set that played no part in choosing the views (`render-eval-scenes`).
    const viewAcc = await viewAccuracy(classifier, values.scenesDir);

    if (!values.dryRun) await recordFigures(figures, subjectAcc, viewAcc);
    console.log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    return 0;
  });
}

/** What each measured image is: its drawing, class, and whether held out or a real photograph. */
type ImageMeta = { drawingId: string; classNoun: string; heldOut: boolean; real: boolean };
/** A built-in subject's real images and their contexts. */
type SubjectImages = { name: string; images: RgbImage[]; contexts: string[] };

/**
 * Renders `perDrawing` scenes of every drawing of the classes with held-out drawings, then adds
 * the built-in subjects' real images (held-out drawings, photographed "casually").
 */
async function measureSet(perDrawing: number, t0: number): Promise<{
  images: RgbImage[];
  meta: ImageMeta[];
  subjects: ReturnType<typeof builtInSubjects>;
  subjectImages: SubjectImages[];
}> {
  const world = await evalWorld();
  const evalDrawings = new Set(
    world.drawings.filter((d) => !isEmbedderTrainDrawing(d.id)).map((d) => d.id),
  );
  const classesWithEval = new Set(
    world.drawings.filter((d) => evalDrawings.has(d.id)).map((d) => d.classNoun),
  );
  const drawings = world.drawings.filter((d) => classesWithEval.has(d.classNoun));
  console.log(
    `${evalDrawings.size} held-out drawings in ${classesWithEval.size} classes; rendering ${perDrawing} scenes of each of ${drawings.length} drawings of those classes`,
  );
  const images: RgbImage[] = [];
  const meta: ImageMeta[] = [];
  let k = 0;
  for (const d of drawings) {
    for (let j = 0; j < perDrawing; j++) {
      const spec = world.sample(sceneSeedOf(EVAL_SEEDS.pairs, k++), {
        drawingId: d.id,
        property: null,
      });
      images.push(await world.render(spec, { size: 64 }));
      meta.push({
        drawingId: d.id,
        classNoun: d.classNoun,
        heldOut: evalDrawings.has(d.id),
        real: false,
      });
    }
    if (k % 300 === 0) {
      console.log(`rendered ${k} scenes, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
  }
  // The built-in subjects' real images (held-out drawings, photographed "casually").
  const subjects = builtInSubjects();
  const subjectImages: SubjectImages[] = [];
  for (const s of subjects) {
    const { images: ims } = await loadSubjectFolder(s.dir, { size: 128 });
    const info = JSON.parse(await Deno.readTextFile(`${s.dir}/subject.json`)) as {
      images: { context: string }[];
    };
    subjectImages.push({
      name: s.name,
      images: ims,
      contexts: info.images.map((i) => i.context),
    });
    for (const im of ims) {
      images.push(im);
      meta.push({ drawingId: s.drawingId, classNoun: s.classNoun, heldOut: true, real: true });
    }
  }
  return { images, meta, subjects, subjectImages };
}

/**
 * ROC AUC of same-drawing vs same-class-other-drawing similarities under `e`, anchored on the
 * held-out images (all negatives, both held out, and the built-in subjects' real images).
 */
function embedderFigures(
  e: ImageEmbedder,
  images: RgbImage[],
  meta: ImageMeta[],
): Record<string, number> {
  const t1 = performance.now();
  const emb = e.embed(images);
  const sim = (i: number, j: number) => {
    let s = 0;
    for (let c = 0; c < e.dim; c++) s += emb[i * e.dim + c] * emb[j * e.dim + c];
    return s;
  };
  const pos: number[] = [], neg: number[] = [], negBoth: number[] = [];
  const subjPos: number[] = [], subjNeg: number[] = [];
  for (let i = 0; i < images.length; i++) {
    if (!meta[i].heldOut) continue;
    for (let j = 0; j < images.length; j++) {
      if (j === i || meta[j].classNoun !== meta[i].classNoun) continue;
      const same = meta[j].drawingId === meta[i].drawingId;
      if (same && j < i) continue; // each unordered positive pair once
      if (!same && meta[j].heldOut && j < i) continue; // each unordered held-out negative pair once
      const s = sim(i, j);
      if (same) pos.push(s);
      else {
        neg.push(s);
        if (meta[j].heldOut) negBoth.push(s);
      }
      if (meta[i].real || meta[j].real) {
        if (same) subjPos.push(s);
        else if (meta[i].real) subjNeg.push(s);
      }
    }
  }
  return {
    auc: rocAuc(pos, neg),
    aucBothHeldOut: rocAuc(pos, negBoth),
    aucBuiltInSubjects: rocAuc(subjPos, subjNeg),
    positives: pos.length,
    negatives: neg.length,
    meanPositive: pos.reduce((a, b) => a + b, 0) / pos.length,
    meanNegative: neg.reduce((a, b) => a + b, 0) / neg.length,
    seconds: (performance.now() - t1) / 1000,
  };
}

/** The classifier's class and context accuracy on the built-in subjects' real images. */
function subjectAccuracy(
  classifier: WorldClassifier,
  subjectImages: SubjectImages[],
  subjects: ReturnType<typeof builtInSubjects>,
): Record<string, number> {
  let classOk = 0, ctxOk = 0, n = 0;
  for (const s of subjectImages) {
    const c = classifier.classify(s.images);
    c.classNoun.forEach((x, i) => {
      if (x === subjects.find((b) => b.name === s.name)!.classNoun) classOk++;
      if (c.context[i] === s.contexts[i]) ctxOk++;
      n++;
    });
  }
  return { classNoun: classOk / n, context: ctxOk / n, images: n };
}

/** The classifier's accuracy on the rendered `test` and `confirm` scenes, one view and all views. */
async function viewAccuracy(
  classifier: WorldClassifier,
  scenesDir: string,
): Promise<Record<string, Record<string, number>>> {
  const viewAcc: Record<string, Record<string, number>> = {};
  for (const split of ["test", "confirm"]) {
    const ds = await loadChunks(scenesDir, split).catch((e) => {
      console.warn(`skipping the '${split}' scenes: ${(e as Error).message}`);
      return null;
    });
    if (ds === null) continue;
    const m = ds.classNoun.length, ims = datasetImages(ds);
    for (
      const [name, views] of [["single", SINGLE_CLASSIFIER_VIEW], ["views", undefined]] as const
    ) {
      const c = classifier.classify(ims, views ? { views } : {});
      const acc = (a: (string | null)[], b: (string | null)[]) =>
        a.filter((x, i) => x === b[i]).length / m;
      viewAcc[`${split}.${name}`] = {
        classNoun: acc(c.classNoun, ds.classNoun),
        context: acc(c.context, ds.context),
        property: acc(c.property, ds.property),
        scenes: m,
      };
      console.log(
        `classifier on the ${split} scenes, ${name}:`,
        JSON.stringify(viewAcc[`${split}.${name}`]),
      );
    }
  }
  return viewAcc;
}

/** Writes the figures into the metadata of `weights/world_nets.safetensors`. */
async function recordFigures(
  figures: Record<string, Record<string, number>>,
  subjectAcc: Record<string, number>,
  viewAcc: Record<string, Record<string, number>>,
): Promise<void> {
  const update = async (file: string, extra: Record<string, string>) => {
    const path = fileURLToPath(new URL(`./weights/${file}`, import.meta.url));
    const { tensors, metadata } = decodeSafetensors(await Deno.readFile(path), {
      source: path,
    });
    await Deno.writeFile(
      path + ".tmp",
      encodeSafetensors(tensors, { metadata: { ...metadata, ...extra }, floatDtype: "F16" }),
    );
    await Deno.rename(path + ".tmp", path);
    console.log(`updated ${path}`);
  };
  await update("world_nets.safetensors", {
    heldOutAuc: JSON.stringify({
      embedder: figures.embedder,
      foregroundColour: figures.foregroundColour,
    }),
    builtInSubjectAccuracy: JSON.stringify(subjectAcc),
    ...(viewAcc["test.views"]
      ? {
        heldOutAccuracyViews: JSON.stringify(viewAcc["test.views"]),
        heldOutAccuracySingleView: JSON.stringify(viewAcc["test.single"]),
      }
      : {}),
    ...(viewAcc["confirm.views"]
      ? {
        confirmAccuracyViews: JSON.stringify(viewAcc["confirm.views"]),
        confirmAccuracySingleView: JSON.stringify(viewAcc["confirm.single"]),
      }
      : {}),
    measuredBy: "deno task measure-eval-nets",
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
