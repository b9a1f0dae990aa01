import { join } from "node:path";
import {
  builtInSubjects,
  type Cascade,
  createPreset,
  loadCheckpoint,
  loadSubjectFolder,
  type ModelSubject,
  PRESET_NAMES,
  readModelSubject,
  type RgbImage,
  rgbImageFromUint8,
  tf,
} from "./deps.ts";
import { evaluateSubject, type GenerateFn, type SubjectEvaluation } from "./evaluate_subject.ts";
import { type EvalReportFiles, writeEvalReport } from "./write_eval_report.ts";
import { WorldClassifier } from "./world_classifier.ts";
import { SubjectEmbedder } from "./subject_embedder.ts";
import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
import { dreambenchPrompts } from "./dreambench_prompts.ts";
import { EVAL_NET_SIZE } from "./_nets.ts";

/**
 * The subject of a model as evaluated: a several-subject model's (`--concepts`) concept named
 * like the evaluated subject (its built-in name or folder), else the one whose identifier is given,
 * else an error listing them; a one-subject model's own.
 */
function modelConcept(
  fromModel: ModelSubject | null,
  want: { subject: string; identifier?: string },
): ModelSubject | null {
  if (!fromModel?.concepts || fromModel.concepts.length < 2) return fromModel;
  const name = want.subject.replace(/[\\/]+$/, "").split(/[\\/]/).pop();
  const hit = fromModel.concepts.find((c) => c.name === name) ??
    fromModel.concepts.find((c) => c.identifier === want.identifier);
  if (!hit) {
    throw new RangeError(
      `Cannot evaluate as the model holds several concepts and none is the subject ${
        JSON.stringify(want.subject)
      }: pass --subject one of ${fromModel.concepts.map((c) => c.name).join(", ")}`,
    );
  }
  return hit;
}

/**
 * Default DDIM steps of the super-resolution stages in an evaluation: 10 instead of SR 1's 20 halves
 * its share of the time (`deno task eval` on the default model: 608 s → 386 s, measured) and leaves what
 * the eval nets read at 64² nearly unchanged (`bench/eval_sr_steps.ts`, 48 images of the default
 * model: context and property verdicts identical, mean |Δ| 2.9 of 255 per 128² pixel).
 */
export const EVAL_SR_STEPS = 10;

/** Options of {@linkcode runEval}: what `deno task eval` takes, typed. */
export interface RunEvalOptions {
  /**
   * The model: a cascade checkpoint (`.safetensors`), a folder holding `cascade.safetensors`,
   * `model.safetensors` (a `deno task train` or `train.start` folder) or exactly one `.safetensors` file, `preset:NAME` for an untrained preset, or `real` to score the
   * subject's own images as if generated (the paper's "real images" row). Required.
   */
  model: string;
  /** Output folder for `metrics.json`, `index.html` and `grids/*.png`. Required. */
  out: string;
  /** A built-in subject's name (`dog`, `cat`, …) or a folder of images (default `dog`). */
  subject?: string;
  /** Class noun (default: the built-in subject's; required with a folder). */
  classNoun?: string;
  /** Rare-token identifier in the prompts (default: the model's own, from its metadata, else `sks`). */
  identifier?: string;
  /** Images per prompt (default 4). */
  samples?: number;
  /** Images of the bare class prompt for PRES (default 8). */
  pres?: number;
  /** Use only the first N prompts (default all 24). */
  prompts?: number;
  /** Sampler steps of every stage (default: the cascade's for the base, see `srSteps`). */
  steps?: number;
  /**
   * Sampler steps of each super-resolution stage when `steps` is not given (default
   * {@linkcode EVAL_SR_STEPS}, or the stage's own when that is fewer).
   */
  srSteps?: number;
  /**
   * Run only the first N stages. Default: up to the first stage whose output is at least twice
   * the eval nets' 64² input (128², the 2nd stage of the default cascade; all stages of a cascade
   * that never gets there): later stages cannot change what the nets read, and the 512² stage
   * would make an evaluation several times slower.
   */
  stages?: number;
  /** Guidance weight (default: the cascade's). */
  guidance?: number;
  /** Generation and bootstrap seed (default 0). */
  seed?: number;
  /** The backend's name for the report (default `tf.getBackend()`; the caller initialises it). */
  backendName?: string;
}

/** One progress report of {@linkcode runEval}: after each prompt's images (PRES counts as one). */
export interface EvalProgress {
  /** Prompts done. */
  done: number;
  /** Prompts in all. */
  total: number;
  /** The prompt just generated. */
  prompt: string;
  /** Seconds since generation began. */
  elapsedS: number;
  /** Estimated seconds left. */
  etaS: number;
}

/** Hooks of {@linkcode runEval}. */
export interface RunEvalHooks {
  /** Called after each prompt's images. */
  onProgress?: (progress: EvalProgress) => void;
  /** Cancels the run before the next generation (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** What {@linkcode runEval} returns. */
export interface RunEvalResult {
  /** The files written (absolute or relative as `out` was given). */
  files: EvalReportFiles;
  /** The summary metrics with their bootstrap intervals (also in `metrics.json`). */
  summary: SubjectEvaluation["summary"];
  /** The model as given. */
  model: string;
  /** The subject's name (built-in) or folder. */
  subject: string;
  /** Prompts evaluated (PRES not counted). */
  prompts: number;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
}

/**
 * Resolves a `model` path to a cascade checkpoint file: the file itself, or a folder's
 * `cascade.safetensors`, else its `model.safetensors`, else its only `.safetensors` file.
 *
 * @param path A file or folder.
 * @returns The checkpoint file.
 */
async function findCascade(path: string): Promise<string> {
  const stat = await Deno.stat(path).catch(() => null);
  if (stat === null) throw new Error(`Cannot evaluate as model '${path}' does not exist`);
  if (stat.isFile) return path;
  // cascade.safetensors (superres/, export), then model.safetensors (a DreamBooth model folder).
  for (const name of ["cascade.safetensors", "model.safetensors"]) {
    const preferred = join(path, name);
    if (await Deno.stat(preferred).then((s) => s.isFile, () => false)) return preferred;
  }
  const files: string[] = [];
  for await (const e of Deno.readDir(path)) {
    if (e.isFile && e.name.endsWith(".safetensors")) files.push(e.name);
  }
  if (files.length !== 1) {
    throw new Error(
      `Cannot evaluate as model '${path}' must hold cascade.safetensors, model.safetensors or exactly one .safetensors file: found ${files.length}`,
    );
  }
  return join(path, files[0]);
}

function checkInteger(name: string, value: number | undefined, min: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Cannot evaluate as '${name}' must be an integer ≥ ${min}: current value is ${value}`,
    );
  }
}

async function loadCascade(model: string): Promise<Cascade> {
  if (model.startsWith("preset:")) {
    const name = model.slice(7);
    if (!(PRESET_NAMES as readonly string[]).includes(name)) {
      throw new RangeError(
        `Cannot evaluate as preset '${name}' is not one of ${PRESET_NAMES.join(", ")}`,
      );
    }
    return await createPreset(name as (typeof PRESET_NAMES)[number]);
  }
  const file = await findCascade(model);
  const loaded = await loadCheckpoint(file);
  if (loaded.kind !== "cascade") {
    loaded.model.dispose();
    throw new Error(`Cannot evaluate as '${file}' holds a ${loaded.kind}, not a cascade`);
  }
  return loaded.model as Cascade;
}

/**
 * The generator of a cascade as eval samples it: up to the first stage at twice the nets' input
 * size (or `stages`), the base's own steps and at most `srSteps` per SR stage (or `steps` for all).
 */
function cascadeGenerator(
  c: Cascade,
  o: { stages?: number; steps?: number; srSteps: number; guidance?: number },
): { generate: GenerateFn; stagesUsed: number; stepsPerStage: number[] } {
  const enough = c.stages.findIndex((s) => s.imageSize >= 2 * EVAL_NET_SIZE);
  const used = o.stages ?? (enough < 0 ? c.stages.length : enough + 1);
  const stepsPerStage = c.stages.slice(0, used).map((s, i) =>
    o.steps ?? (i === 0 ? s.sampler.steps : Math.min(s.sampler.steps, o.srSteps))
  );
  const generate: GenerateFn = async (prompt, seeds) => {
    // One batch per prompt: the images differ by their noise; the first seed seeds the batch.
    const { images } = await c.sample({
      prompt: seeds.map(() => prompt),
      seed: seeds[0],
      steps: stepsPerStage,
      stages: used,
      ...(o.guidance !== undefined ? { guidance: o.guidance } : {}),
    });
    // diffusion's images are 8-bit; eval/ works on data/'s Float32 [-1, 1] images.
    return images.map((im): RgbImage => rgbImageFromUint8(im));
  };
  return { generate, stagesUsed: used, stepsPerStage };
}

/** Checks runEval's options (defaults already filled in); throws naming the option and value. */
function checkRunEvalOptions(o: RunEvalOptions & { samples: number; pres: number; seed: number }) {
  const { model, out, samples, pres, seed, steps, srSteps, stages, guidance } = o;
  if (typeof model !== "string" || model === "") {
    throw new TypeError(
      `Cannot evaluate as 'model' must be a non-empty string: current value is ${model}`,
    );
  }
  if (typeof out !== "string" || out === "") {
    throw new TypeError(
      `Cannot evaluate as 'out' must be a non-empty path: current value is ${out}`,
    );
  }
  for (
    const [name, v] of [["samples", samples], ["pres", pres], ["prompts", o.prompts]] as const
  ) {
    checkInteger(name, v, 1);
  }
  checkInteger("steps", steps, 1);
  checkInteger("srSteps", srSteps, 1);
  checkInteger("stages", stages, 1);
  checkInteger("seed", seed, 0);
  if (guidance !== undefined && !(Number.isFinite(guidance) && guidance >= 0)) {
    throw new RangeError(
      `Cannot evaluate as 'guidance' must be a finite number ≥ 0: current value is ${guidance}`,
    );
  }
}

/**
 * Evaluates a model on a subject the way `deno task eval` does: loads the cascade (or a preset,
 * or takes the subject's real images), generates the DreamBench-style prompts and the bare class
 * prompt for PRES, scores them with the world classifier, the subject embedder and the
 * foreground-colour measure, and writes `metrics.json`, an offline `index.html` and PNG grids to
 * `out`. Initialise the tfjs backend first (`initBackend`). Cancellation through `signal` takes
 * effect before the next generation; the cascade is disposed either way.
 *
 * @param options See {@linkcode RunEvalOptions}; `model` and `out` are required.
 * @param hooks `onProgress` after each prompt (done/total, elapsed, ETA), `signal` to cancel.
 * @returns The files written and the summary metrics.
 * @throws {RangeError} When a number is out of range, the preset unknown or the class noun missing.
 *
 * @example
 * ```ts ignore
 * import { initBackend } from "../backend/mod.ts";
 * import { runEval } from "./run_eval.ts";
 * await initBackend({ quiet: true });
 * const r = await runEval(
 *   { model: "preset:tiny", out: "runs/eval/tiny", samples: 1, pres: 2, prompts: 2, steps: 2 },
 *   { onProgress: (p) => console.log(`${p.done}/${p.total} ${p.prompt}, ETA ${p.etaS} s`) },
 * );
 * console.log(r.files.json, r.summary.subjectFidelity.estimate);
 * ```
 */
export async function runEval(
  options: RunEvalOptions,
  hooks: RunEvalHooks = {},
): Promise<RunEvalResult> {
  const t0 = performance.now();
  const {
    model,
    out,
    subject = "dog",
    samples = 4,
    pres = 8,
    seed = 0,
    steps,
    srSteps = EVAL_SR_STEPS,
    stages,
    guidance,
  } = options ?? {} as RunEvalOptions;
  const { onProgress, signal } = hooks;
  checkRunEvalOptions({ ...options, model, out, samples, pres, seed, srSteps });
  const builtIn = builtInSubjects().find((s) => s.name === subject);
  const subjectDir = builtIn?.dir ?? subject;
  // The one identifier rule: a personalised model's own identifier and class noun, unless given.
  const fromModel = modelConcept(
    model === "real" ? null : await readModelSubject(model),
    { subject: builtIn?.name ?? subjectDir, identifier: options.identifier },
  );
  const identifier = options.identifier ?? fromModel?.identifier ?? "sks";
  const classNoun = options.classNoun ?? (fromModel?.classNoun || undefined) ??
    builtIn?.classNoun;
  if (classNoun === undefined) {
    throw new RangeError(
      `Cannot evaluate as 'classNoun' is required with a subject folder ('${subjectDir}')`,
    );
  }
  signal?.throwIfAborted();
  const real = (await loadSubjectFolder(subjectDir, { size: 128 })).images;
  using classifier = await WorldClassifier.load();
  using embedder = await SubjectEmbedder.load();
  const pixel = new ForegroundColorEmbedder();

  let cascade: Cascade | null = null;
  let stagesUsed: number | null = null;
  let samplerSteps: string | null = null;
  try {
    let generateImages: GenerateFn;
    if (model === "real") {
      generateImages = (_p, seeds) => Promise.resolve(seeds.map((_, i) => real[i % real.length]));
    } else {
      cascade = await loadCascade(model);
      const g = cascadeGenerator(cascade, { stages, steps, srSteps, guidance });
      generateImages = g.generate;
      stagesUsed = g.stagesUsed;
      samplerSteps = g.stepsPerStage.join(", ");
    }
    const generate: GenerateFn = (prompt, seeds) => {
      signal?.throwIfAborted();
      return generateImages(prompt, seeds);
    };
    let prompts = dreambenchPrompts(identifier, classNoun);
    if (options.prompts !== undefined) prompts = prompts.slice(0, options.prompts);
    const tGen = performance.now();
    const result = await evaluateSubject(
      { name: builtIn?.name ?? subjectDir, classNoun, images: real },
      {
        generate,
        identifier,
        classifier,
        embedder,
        pixelEmbedder: pixel,
        samplesPerPrompt: samples,
        presSamples: pres,
        prompts,
        seed,
        onProgress: (done, total, prompt) => {
          const elapsedS = (performance.now() - tGen) / 1000;
          onProgress?.({ done, total, prompt, elapsedS, etaS: elapsedS / done * (total - done) });
        },
      },
    );
    signal?.throwIfAborted();
    const measures: Record<string, string> = {};
    // The figure of the classifier as used here (its default test-time views) when measured.
    const heldOut = classifier.metadata.heldOutAccuracyViews ?? classifier.metadata.heldOutAccuracy;
    if (heldOut) {
      measures["world classifier held-out accuracy"] = heldOut;
    }
    if (embedder.metadata.heldOutAuc) {
      measures["subject embedder held-out ROC AUC"] = embedder.metadata.heldOutAuc;
    }
    const files = await writeEvalReport(out, result, {
      realImages: real,
      info: {
        model,
        subject: builtIn?.name ?? subjectDir,
        backend: options.backendName ?? tf.getBackend(),
        "images per prompt": samples,
        ...(stagesUsed !== null ? { "stages sampled": stagesUsed } : {}),
        ...(samplerSteps !== null ? { "sampler steps per stage": samplerSteps } : {}),
        "seconds": Math.round((performance.now() - t0) / 1000),
        date: new Date().toISOString(),
      },
      measures,
    });
    return {
      files,
      summary: result.summary,
      model,
      subject: builtIn?.name ?? subjectDir,
      prompts: prompts.length,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    cascade?.dispose();
  }
}
