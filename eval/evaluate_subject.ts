import type { RgbImage } from "./deps.ts";
import { bootstrapCi, type ConfidenceInterval } from "./bootstrap_ci.ts";
import { diversity } from "./diversity.ts";
import { dreambenchPrompts, type WorldPrompt } from "./dreambench_prompts.ts";
import { type ImageEmbedder, similarityMatrix } from "./image_embedder.ts";
import { type ImageClassifier, promptFidelity } from "./prompt_fidelity.ts";
import { subjectFidelity } from "./subject_fidelity.ts";

/** Generates one image per seed for a prompt (e.g. a cascade's `sample`). */
export type GenerateFn = (prompt: string, seeds: readonly number[]) => Promise<RgbImage[]>;

/** The subject under evaluation. */
export interface EvalSubject {
  /** A name for the report (`"dog"`). */
  name: string;
  /** Class noun (`"dog"`). */
  classNoun: string;
  /** Its real images (borrowed). */
  images: readonly RgbImage[];
}

/** Options of {@link evaluateSubject}. */
export interface EvaluateSubjectOptions {
  /** Generates images. Required. */
  generate: GenerateFn;
  /** The rare-token identifier bound to the subject (default "sks"). */
  identifier?: string;
  /** The world classifier (prompt fidelity). Required. */
  classifier: ImageClassifier;
  /** The learned similarity (subject fidelity, PRES, DIV). Required. */
  embedder: ImageEmbedder;
  /** The second-opinion similarity (foreground colours); omitted: not reported. */
  pixelEmbedder?: ImageEmbedder;
  /** Images per prompt (default 4). */
  samplesPerPrompt?: number;
  /** Images of the bare class prompt for PRES (default 8). */
  presSamples?: number;
  /** The prompts (default: `dreambenchPrompts(identifier, classNoun)`). */
  prompts?: readonly WorldPrompt[];
  /** Seed of generation and of every bootstrap (default 0). */
  seed?: number;
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  /** Called after each prompt's images: done/total prompts (PRES counts as one). */
  onProgress?: (done: number, total: number, prompt: string) => void;
}

/** Results of one prompt. */
export interface PromptEvaluation extends WorldPrompt {
  /** Seeds of the images. */
  seeds: number[];
  /** The generated images. */
  images: RgbImage[];
  /** Subject fidelity (learned embedder). */
  subjectFidelity: ConfidenceInterval & { perImage: number[] };
  /** Subject fidelity (foreground colours), when a pixel embedder was given. */
  pixelFidelity: (ConfidenceInterval & { perImage: number[] }) | null;
  /** Prompt fidelity (context/property accuracy). */
  promptFidelity: ConfidenceInterval & { perImage: number[] };
  /** Classifier readings per image. */
  predicted: { classNoun: string; context: string; property: string | null }[];
  /** DIV of the prompt's images (null with one image). */
  diversity: ConfidenceInterval | null;
}

/** What {@link evaluateSubject} returns. */
export interface SubjectEvaluation {
  subject: { name: string; classNoun: string; images: number };
  identifier: string;
  seed: number;
  prompts: PromptEvaluation[];
  /** The bare class prompt's generations ("a dog") for PRES. */
  pres: {
    prompt: string;
    seeds: number[];
    images: RgbImage[];
    value: ConfidenceInterval;
    pixel: ConfidenceInterval | null;
  };
  summary: {
    /** Mean subject fidelity over every generated image of every prompt. */
    subjectFidelity: ConfidenceInterval;
    /** The same with the foreground-colour measure. */
    pixelFidelity: ConfidenceInterval | null;
    /** Mean prompt fidelity over every image. */
    promptFidelity: ConfidenceInterval;
    /** Context accuracy over the context prompts. */
    contextAccuracy: ConfidenceInterval | null;
    /** Property accuracy over the property prompts. */
    propertyAccuracy: ConfidenceInterval | null;
    /** Class accuracy of the subject prompts' images (is it still a dog?). */
    classAccuracy: ConfidenceInterval;
    /** PRES (lower is better). */
    pres: ConfidenceInterval;
    /** Mean DIV over prompts (interval over prompts). */
    diversity: ConfidenceInterval | null;
    /** Reference: mean similarity between distinct real images of the subject (the paper's "real images" row). */
    realSelfSimilarity: number | null;
  };
}

function hashSeed(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h >>> 0) % 2147483647;
}

/**
 * Evaluates a personalised model on one subject: generates `samplesPerPrompt` images for each
 * DreamBench-style prompt ("a sks dog on the beach", …) and `presSamples` for the bare class
 * prompt ("a dog"), then computes subject fidelity, prompt fidelity, PRES and DIV with bootstrap
 * intervals (seeded). Generation goes through `generate`, so any model (or a fixture) can be
 * evaluated.
 *
 * @param subject The subject's name, class noun and real images.
 * @param options See {@link EvaluateSubjectOptions}; `generate`, `classifier`, `embedder` are required.
 * @returns Per-prompt results and the summary.
 *
 * @example
 * ```ts
 * import { evaluateSubject } from "./evaluate_subject.ts";
 * import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
 * const im = { data: new Float32Array(16 * 16 * 3).fill(-1), width: 16, height: 16 };
 * im.data.fill(1, 6 * 16 * 3, 10 * 16 * 3);
 * const classifier = {
 *   classes: ["dog"], contexts: ["beach"], properties: ["none"],
 *   classify: (ims: readonly unknown[]) => ({
 *     classNoun: ims.map(() => "dog"), context: ims.map(() => "beach"), property: ims.map(() => null),
 *     classProbs: new Float32Array(), contextProbs: new Float32Array(), propertyProbs: new Float32Array(),
 *   }),
 * };
 * const result = await evaluateSubject({ name: "bar", classNoun: "dog", images: [im] }, {
 *   generate: (_p, seeds) => Promise.resolve(seeds.map(() => im)),
 *   classifier, embedder: new ForegroundColorEmbedder(), samplesPerPrompt: 2, presSamples: 2,
 *   prompts: [{ template: "a {0} {1} on the beach", prompt: "a sks dog on the beach", context: "beach", property: null }],
 * });
 * console.log(result.summary.subjectFidelity.estimate.toFixed(2), result.summary.promptFidelity.estimate); // "1.00" 1
 * ```
 */
export async function evaluateSubject(
  subject: EvalSubject,
  options: EvaluateSubjectOptions,
): Promise<SubjectEvaluation> {
  if (subject === null || typeof subject !== "object" || !Array.isArray(subject.images)) {
    throw new TypeError(
      `Cannot evaluate as 'subject' must be { name, classNoun, images: RgbImage[] }`,
    );
  }
  if (subject.images.length === 0) {
    throw new RangeError(`Cannot evaluate subject '${subject.name}' as it has no images`);
  }
  const {
    generate,
    identifier = "sks",
    classifier,
    embedder,
    pixelEmbedder,
    samplesPerPrompt = 4,
    presSamples = 8,
    seed = 0,
    resamples = 1000,
    onProgress,
  } = options ?? {};
  if (typeof generate !== "function") {
    throw new TypeError(
      `Cannot evaluate as 'generate' must be a function (prompt, seeds) → images`,
    );
  }
  checkPositiveInteger("samplesPerPrompt", samplesPerPrompt);
  checkPositiveInteger("presSamples", presSamples);
  const prompts = options.prompts ?? dreambenchPrompts(identifier, subject.classNoun);
  const total = prompts.length + 1;
  const bs = { seed, resamples };
  const out: PromptEvaluation[] = [];
  const gen = async (prompt: string, seeds: number[]) => {
    const images = await generate(prompt, seeds);
    if (!Array.isArray(images) || images.length !== seeds.length) {
      throw new RangeError(
        `Cannot evaluate as 'generate' returned ${images?.length} images for ${seeds.length} seeds ('${prompt}')`,
      );
    }
    return images;
  };
  for (const [k, p] of prompts.entries()) {
    const seeds = Array.from({ length: samplesPerPrompt }, (_, i) => hashSeed(seed, k * 1000 + i));
    const images = await gen(p.prompt, seeds);
    const sf = subjectFidelity(images, subject.images, { embedder, ...bs });
    const pf = pixelEmbedder
      ? subjectFidelity(images, subject.images, { embedder: pixelEmbedder, ...bs })
      : null;
    const pr = promptFidelity(images, {
      classifier,
      target: { context: p.context, property: p.property },
      ...bs,
    });
    out.push({
      ...p,
      seeds,
      images,
      subjectFidelity: sf,
      pixelFidelity: pf,
      promptFidelity: pr,
      predicted: pr.predicted,
      diversity: images.length > 1 ? diversity(images, { embedder, ...bs }) : null,
    });
    onProgress?.(k + 1, total, p.prompt);
  }
  const presPrompt = `a ${subject.classNoun}`;
  const presSeeds = Array.from({ length: presSamples }, (_, i) => hashSeed(seed, 999_000 + i));
  const presImages = await gen(presPrompt, presSeeds);
  const pres = subjectFidelity(presImages, subject.images, { embedder, ...bs });
  const presPixel = pixelEmbedder
    ? subjectFidelity(presImages, subject.images, { embedder: pixelEmbedder, ...bs })
    : null;
  onProgress?.(total, total, presPrompt);

  const pooled = (f: (p: PromptEvaluation) => number[]) => out.flatMap(f);
  const ctxHits = out.filter((p) => p.context !== null).flatMap((p) =>
    p.predicted.map((x) => (x.context === p.context ? 1 : 0))
  );
  const propHits = out.filter((p) => p.property !== null).flatMap((p) =>
    p.predicted.map((x) => (x.property === p.property ? 1 : 0))
  );
  const classHits = out.flatMap((p) =>
    p.predicted.map((x) => (x.classNoun === subject.classNoun ? 1 : 0))
  );
  const divs = out.filter((p) => p.diversity !== null).map((p) => p.diversity!.estimate);
  const realSelf = realSelfSimilarity(subject.images, embedder);
  const ci = (v: number[]) => (v.length === 0 ? null : bootstrapCi(v, bs));
  return {
    subject: { name: subject.name, classNoun: subject.classNoun, images: subject.images.length },
    identifier,
    seed,
    prompts: out,
    pres: {
      prompt: presPrompt,
      seeds: presSeeds,
      images: presImages,
      value: strip(pres),
      pixel: presPixel && strip(presPixel),
    },
    summary: {
      subjectFidelity: bootstrapCi(pooled((p) => p.subjectFidelity.perImage), bs),
      pixelFidelity: pixelEmbedder
        ? bootstrapCi(pooled((p) => p.pixelFidelity!.perImage), bs)
        : null,
      promptFidelity: bootstrapCi(pooled((p) => p.promptFidelity.perImage), bs),
      contextAccuracy: ci(ctxHits),
      propertyAccuracy: ci(propHits),
      classAccuracy: bootstrapCi(classHits, bs),
      pres: strip(pres),
      diversity: ci(divs),
      realSelfSimilarity: realSelf,
    },
  };
}

function checkPositiveInteger(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) {
    throw new RangeError(
      `Cannot evaluate as '${name}' must be a positive integer: current value is ${v}`,
    );
  }
}

/** Mean similarity of the subject's own images to each other (the ceiling); null for one image. */
function realSelfSimilarity(images: readonly RgbImage[], embedder: ImageEmbedder): number | null {
  if (images.length < 2) return null;
  const e = embedder.embed(images);
  const m = similarityMatrix(e, e, embedder.dim), n = images.length;
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) s += m[i * n + j];
  return s / (n * (n - 1));
}

function strip(r: ConfidenceInterval): ConfidenceInterval {
  return { estimate: r.estimate, low: r.low, high: r.high, level: r.level, n: r.n };
}
