/**
 * The eval metrics of a validation grid (`--validation-every N`): each time the run draws its
 * validation grid, eval/'s world nets score the grid's images, per subject whose class noun the
 * nets know: subject fidelity of the identifier prompts' images to the instance photos (eval's
 * `subjectFidelity`), class accuracy of those images (the world classifier reads the class noun),
 * prompt fidelity of those whose prompt the world can express (eval's `promptFidelity`, the
 * DreamBench contexts and properties), and PRES of the bare class prompt's images (eval's
 * `priorPreservation`, lower is better). One progress line per subject and validation, one line
 * per subject and validation in `<run>/validation.jsonl`, and each scored image's reading added
 * to its label on the grid.
 *
 * The nets are loaded once per run, at the first validation. They do not apply (one line says
 * why, and the grid is drawn alone) when they are missing, when the class noun is not one of the
 * world's, or when none of the instance photos reads as that class noun (photos of a subject
 * outside the world the nets were trained on). The cost is a few forward passes of two small
 * nets over the grid's images (well under a second on a CPU).
 *
 * @module
 */
import { join } from "node:path";
import {
  dreambenchPrompts,
  type FloatImage,
  priorPreservation,
  promptFidelity,
  type SampleGrid,
  SubjectEmbedder,
  subjectFidelity as subjectFidelityOf,
  type TrainingJob,
  WorldClassifier,
} from "./deps.ts";

/** One subject of a run as its validation is scored. */
export interface ValidationSubject {
  /** Its name (built-in subject or folder). */
  readonly name: string;
  /** Its identifier text ([V]). */
  readonly identifier: string;
  /** Its class noun. */
  readonly classNoun: string;
  /** Its class-prior prompt ("a dog"); images of it (or of "a [class noun]") give PRES. */
  readonly classPrompt: string;
  /** The instance photos (borrowed), the reference of subject fidelity and PRES. */
  readonly photos: readonly FloatImage[];
}

/** Options of {@link createValidationMetrics}. */
export interface ValidationMetricsOptions {
  /** The run folder: `validation.jsonl` is appended there. Required. */
  runDir: string;
  /** Progress lines (one per subject and validation, and the skip notice). Default `console.log`. */
  log?: (line: string) => void;
  /**
   * The eval nets' weights (default eval/'s shipped ones): `classifier` as `WorldClassifier.load`
   * takes it, `embedder` as `SubjectEmbedder.load` does.
   */
  nets?: { classifier?: string | URL | readonly (string | URL)[]; embedder?: string | URL };
}

/** One line of `validation.jsonl`: one subject at one validation. */
export interface ValidationRecord {
  /** The training step of the grid. */
  step: number;
  /** The subject's name, identifier and class noun. */
  subject: string;
  identifier: string;
  classNoun: string;
  /** Mean similarity of the identifier prompts' images to the photos (higher: more faithful). */
  subjectFidelity: number | null;
  /** Fraction of the identifier prompts' images the classifier reads as the class noun. */
  classAccuracy: number | null;
  /** Mean prompt fidelity of the identifier images whose prompt the world expresses. */
  promptFidelity: number | null;
  /** Mean similarity of the class prompt's images to the photos (lower: the prior is kept). */
  pres: number | null;
  /** Images scored: identifier prompts, of them world prompts, class prompt. */
  images: { identifier: number; world: number; class: number };
  /** Seconds the scoring took. */
  seconds: number;
}

/** Scores validation grids; owns the nets once loaded (`dispose()`). */
export interface ValidationMetrics {
  /**
   * Scores a grid drawn at `step` (its labels are the prompts), appends the records to
   * `validation.jsonl`, logs them, and returns the grid with each scored image's reading added to
   * its label (the grid as given when the nets do not apply).
   */
  measure(step: number, grid: SampleGrid): Promise<SampleGrid>;
  /** The records written so far. */
  readonly records: readonly ValidationRecord[];
  /** Frees the nets. */
  dispose(): void;
  /** Frees the nets (`using`). */
  [Symbol.dispose](): void;
}

const fixed = (x: number | null, d = 3) => x === null ? "–" : x.toFixed(d);
const mean = (v: readonly number[]) =>
  v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;

/** The loaded nets, or why they do not apply at all. */
async function loadNets(
  nets: ValidationMetricsOptions["nets"],
): Promise<{ classifier: WorldClassifier; embedder: SubjectEmbedder } | string> {
  let classifier: WorldClassifier | null = null;
  try {
    classifier = await WorldClassifier.load(
      nets?.classifier as Parameters<typeof WorldClassifier.load>[0],
    );
    return { classifier, embedder: await SubjectEmbedder.load(nets?.embedder) };
  } catch (e) {
    classifier?.dispose();
    return `the eval nets could not be loaded (${(e as Error).message})`;
  }
}

/** Why the nets do not apply to a subject (null: they do). */
function notApplicable(s: ValidationSubject, classifier: WorldClassifier): string | null {
  if (!classifier.classes.includes(s.classNoun)) {
    return `the class noun ${
      JSON.stringify(s.classNoun)
    } is not one of the ${classifier.classes.length} the world classifier knows`;
  }
  const read = classifier.classify(s.photos).classNoun;
  if (!read.includes(s.classNoun)) {
    return `none of the ${read.length} instance photos reads as ${
      JSON.stringify(s.classNoun)
    } to the world classifier (read: ${
      [...new Set(read)].join(", ")
    }): they are not of the world the nets know`;
  }
  return null;
}

/** Scores one subject's images of a grid; `labels` gets each scored image's reading. */
function scoreSubject(
  s: ValidationSubject,
  grid: SampleGrid,
  nets: { classifier: WorldClassifier; embedder: SubjectEmbedder },
  labels: string[],
): Omit<ValidationRecord, "step" | "seconds"> {
  const prompts = grid.labels ?? [];
  const ids = prompts.flatMap((p, i) => p.includes(s.identifier) ? [i] : []);
  const cls = prompts.flatMap((p, i) => p === s.classPrompt || p === `a ${s.classNoun}` ? [i] : []);
  const world = new Map(dreambenchPrompts(s.identifier, s.classNoun).map((w) => [w.prompt, w]));
  const opts = { embedder: nets.embedder, resamples: 1 };
  let subjectFidelity: number | null = null, classAccuracy: number | null = null;
  const pf: number[] = [];
  if (ids.length > 0) {
    const images = ids.map((i) => grid.images[i]);
    const sf = subjectFidelityOf(images, s.photos, opts).perImage;
    const read = nets.classifier.classify(images).classNoun;
    subjectFidelity = mean(sf);
    classAccuracy = mean(read.map((c) => c === s.classNoun ? 1 : 0));
    ids.forEach((i, k) => {
      const w = world.get(prompts[i]);
      let note = `sim ${fixed(sf[k], 2)}, ${read[k]}`;
      if (w) {
        const r = promptFidelity([grid.images[i]], {
          classifier: nets.classifier,
          target: { context: w.context, property: w.property },
          resamples: 1,
        });
        pf.push(r.estimate);
        note += `, prompt ${fixed(r.estimate, 2)}`;
      }
      labels[i] = `${labels[i]} [${note}]`;
    });
  }
  let pres: number | null = null;
  if (cls.length > 0) {
    const r = priorPreservation(cls.map((i) => grid.images[i]), s.photos, opts);
    pres = r.estimate;
    cls.forEach((i, k) => labels[i] = `${labels[i]} [PRES ${fixed(r.perImage[k], 2)}]`);
  }
  return {
    subject: s.name,
    identifier: s.identifier,
    classNoun: s.classNoun,
    subjectFidelity,
    classAccuracy,
    promptFidelity: mean(pf),
    pres,
    images: { identifier: ids.length, world: pf.length, class: cls.length },
  };
}

/**
 * The scorer of a run's validation grids (see the module doc). Nothing is loaded until the
 * first grid.
 *
 * @param subjects The run's subjects (one, or one per concept).
 * @param options See {@link ValidationMetricsOptions}; `runDir` is required.
 * @returns The scorer; call `dispose()` after the run.
 * @throws {TypeError} When `subjects` is empty or `runDir` is not a non-empty string.
 *
 * @example
 * ```ts
 * import { initBackend } from "./deps.ts";
 * import { createValidationMetrics } from "./validation_metrics.ts";
 * await initBackend({ quiet: true });
 * const runDir = await Deno.makeTempDir();
 * const im = { data: new Float32Array(32 * 32 * 3), width: 32, height: 32 };
 * using v = createValidationMetrics(
 *   [{ name: "x", identifier: "sks", classNoun: "zorblax", classPrompt: "a zorblax", photos: [im] }],
 *   { runDir, log: (l) => console.log(l.slice(0, 40)) },
 * );
 * await v.measure(0, { images: [im], labels: ["a sks zorblax"] });
 * // validation metrics skipped for 'x': the
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export function createValidationMetrics(
  subjects: readonly ValidationSubject[],
  options: ValidationMetricsOptions,
): ValidationMetrics {
  if (!Array.isArray(subjects) || subjects.length === 0) {
    throw new TypeError(`Cannot score validation grids as 'subjects' must be a non-empty array`);
  }
  const { runDir, log = console.log, nets } = options ?? {};
  if (typeof runDir !== "string" || runDir === "") {
    throw new TypeError(
      `Cannot score validation grids as 'runDir' must be a non-empty path: current value is ${runDir}`,
    );
  }
  let loaded: Awaited<ReturnType<typeof loadNets>> | null = null;
  let applicable: ValidationSubject[] = [];
  const records: ValidationRecord[] = [];
  const file = join(runDir, "validation.jsonl");
  const dispose = () => {
    if (loaded !== null && typeof loaded !== "string") {
      loaded.classifier.dispose();
      loaded.embedder.dispose();
    }
    loaded = "disposed";
  };
  return {
    records,
    async measure(step: number, grid: SampleGrid): Promise<SampleGrid> {
      if (loaded === null) {
        // Once per run: load the nets, and say once for which subjects they do not apply.
        loaded = await loadNets(nets);
        const l = loaded;
        if (typeof l === "string") log(`validation metrics skipped: ${l}`);
        else {
          applicable = subjects.filter((s) => {
            const why = notApplicable(s, l.classifier);
            if (why) log(`validation metrics skipped for '${s.name}': ${why}`);
            return why === null;
          });
        }
      }
      const ready = loaded;
      if (typeof ready === "string" || applicable.length === 0) return grid;
      const labels = [...(grid.labels ?? grid.images.map(() => ""))];
      const lines: string[] = [];
      for (const s of applicable) {
        const t0 = performance.now();
        const r: ValidationRecord = {
          step,
          ...scoreSubject(s, grid, ready, labels),
          seconds: +((performance.now() - t0) / 1000).toFixed(3),
        };
        records.push(r);
        lines.push(JSON.stringify(r));
        log(
          `validation at step ${step} ('${s.name}'): subject fidelity ${
            fixed(r.subjectFidelity)
          }, class accuracy ${fixed(r.classAccuracy, 2)}, prompt fidelity ${
            fixed(r.promptFidelity, 2)
          }, PRES ${fixed(r.pres)} (lower is better) → ${file}`,
        );
      }
      await Deno.writeTextFile(file, lines.join("\n") + "\n", { append: true });
      return { ...grid, labels };
    },
    dispose,
    [Symbol.dispose]: dispose,
  };
}

/**
 * The job with its validation grid scored: `samples()` draws the grid, then `metrics` scores it
 * at the job's step (see {@link createValidationMetrics}); everything else is the job's.
 *
 * @param job The job (borrowed).
 * @param metrics The scorer (borrowed).
 * @returns The wrapped job.
 */
export function withValidationMetrics(job: TrainingJob, metrics: ValidationMetrics): TrainingJob {
  if (!job.samples) return job;
  const draw = job.samples.bind(job);
  const scored = Object.create(job);
  Object.defineProperty(scored, "step", { get: () => job.step });
  scored.samples = async () => metrics.measure(job.step, await draw());
  return scored;
}
