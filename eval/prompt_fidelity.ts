import type { RgbImage } from "./deps.ts";
import { bootstrapCi, type ConfidenceInterval } from "./bootstrap_ci.ts";
import type { WorldClassification } from "./world_classifier.ts";

/** What a prompt asks for, in the world's terms (null: the prompt does not say). */
export interface PromptTarget {
  /** Class noun ("dog"), or null. */
  classNoun?: string | null;
  /** Context name ("beach"), or null. */
  context?: string | null;
  /** Property ("red"), or null for a prompt without a property. */
  property?: string | null;
}

/** Anything that classifies images like `WorldClassifier`. */
export interface ImageClassifier {
  /** Class nouns in head order. */
  readonly classes: readonly string[];
  /** Context names in head order. */
  readonly contexts: readonly string[];
  /** Property labels in head order ("none" first). */
  readonly properties: readonly string[];
  /** Classifies images. */
  classify(images: readonly RgbImage[]): WorldClassification;
}

/** Options of {@link promptFidelity}. */
export interface PromptFidelityOptions {
  /** The classifier (e.g. `WorldClassifier`). Required. */
  classifier: ImageClassifier;
  /** What the prompt asks for. Required. */
  target: PromptTarget;
  /** Bootstrap seed (default 0). */
  seed?: number;
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
}

/** What {@link promptFidelity} returns. */
export interface PromptFidelityResult extends ConfidenceInterval {
  /**
   * Per image: the fraction of the prompt's stated attributes (context, property; class when
   * `target.classNoun` is given) that the classifier reads in it.
   */
  perImage: number[];
  /** Accuracy of the context alone (null when the prompt states none). */
  context: ConfidenceInterval | null;
  /** Accuracy of the property alone (null when the prompt states none). */
  property: ConfidenceInterval | null;
  /** Accuracy of the class alone (null when `target.classNoun` is not given). */
  classNoun: ConfidenceInterval | null;
  /** The classifier's reading of each image. */
  predicted: { classNoun: string; context: string; property: string | null }[];
}

/**
 * Prompt fidelity (the paper's CLIP-T, with this world's classifiers): whether generated images show
 * what the prompt asks for. Each image scores the fraction of the prompt's stated attributes that
 * the world classifier reads in it (context and property; also the class when given); the result
 * is the mean with a bootstrap interval, plus each attribute's accuracy. A prompt stating nothing
 * ("a [V] dog" without class check) scores 1.
 *
 * @param generated Generated images of one prompt (borrowed).
 * @param options See {@link PromptFidelityOptions}; `classifier` and `target` are required.
 * @returns The mean, its interval, per-attribute accuracies and per-image readings.
 *
 * @example
 * ```ts
 * import { promptFidelity } from "./prompt_fidelity.ts";
 * const fake = {
 *   classes: ["dog"], contexts: ["beach", "snow"], properties: ["none", "red"],
 *   classify: (ims: readonly unknown[]) => ({
 *     classNoun: ims.map(() => "dog"), context: ims.map(() => "beach"), property: ims.map(() => null),
 *     classProbs: new Float32Array(), contextProbs: new Float32Array(), propertyProbs: new Float32Array(),
 *   }),
 * };
 * const im = { data: new Float32Array(12), width: 2, height: 2 };
 * const r = promptFidelity([im], { classifier: fake, target: { context: "beach", property: "red" } });
 * console.log(r.estimate); // 0.5
 * ```
 */
export function promptFidelity(
  generated: readonly RgbImage[],
  options: PromptFidelityOptions,
): PromptFidelityResult {
  if (!Array.isArray(generated) || generated.length === 0) {
    throw new RangeError(
      `Cannot compute prompt fidelity as 'generated' must be a non-empty array of images`,
    );
  }
  const { classifier, target, seed = 0, resamples = 1000, level = 0.95 } = options ?? {};
  if (classifier === undefined || typeof classifier.classify !== "function") {
    throw new TypeError(
      `Cannot compute prompt fidelity as 'classifier' must be an ImageClassifier`,
    );
  }
  if (target === undefined || target === null || typeof target !== "object") {
    throw new TypeError(`Cannot compute prompt fidelity as 'target' must be a PromptTarget`);
  }
  const { classNoun = null, context = null, property = null } = target;
  const check = (value: string | null, list: readonly string[], name: string) => {
    if (value !== null && !list.includes(value)) {
      throw new RangeError(
        `Cannot compute prompt fidelity as 'target.${name}' is not one the classifier knows: current value is ${value}`,
      );
    }
  };
  check(classNoun, classifier.classes, "classNoun");
  check(context, classifier.contexts, "context");
  check(property, classifier.properties, "property");
  const c = classifier.classify(generated);
  const n = generated.length;
  const hits: Record<"classNoun" | "context" | "property", number[] | null> = {
    classNoun: classNoun === null ? null : c.classNoun.map((x) => x === classNoun ? 1 : 0),
    context: context === null ? null : c.context.map((x) => x === context ? 1 : 0),
    property: property === null ? null : c.property.map((x) => x === property ? 1 : 0),
  };
  const stated = Object.values(hits).filter((h): h is number[] => h !== null);
  const perImage = Array.from(
    { length: n },
    (_, i) => stated.length === 0 ? 1 : stated.reduce((a, h) => a + h[i], 0) / stated.length,
  );
  const ci = (h: number[] | null) => h === null ? null : bootstrapCi(h, { seed, resamples, level });
  return {
    ...bootstrapCi(perImage, { seed, resamples, level }),
    perImage,
    context: ci(hits.context),
    property: ci(hits.property),
    classNoun: ci(hits.classNoun),
    predicted: c.classNoun.map((cn, i) => ({
      classNoun: cn,
      context: c.context[i],
      property: c.property[i],
    })),
  };
}
