/**
 * Settings of instance-specific super-resolution fine-tuning (DreamBooth §4.3): typed data, merged
 * with defaults, validated and frozen; stored in each run's `config.json` (a resume must match).
 *
 * The augmentation level `augLevel` is t_aug, the noise-conditioning augmentation's own diffusion
 * time (DESIGN.md, "Diffusion conventions"): the low-res input becomes α(t_aug)·up(x_low) +
 * σ(t_aug)·ε, so σ_aug = sin(π t_aug / 2) under the cosine schedule, and the SR UNet is conditioned
 * on log-SNR(t_aug). The paper's "1e-3" (the usual level, blurs the subject) and "1e-5" (keeps its
 * fine details) are values of t_aug. Fine-tuning uses one fixed level (not a range).
 *
 * @module
 */

/** Settings of {@link fineTuneSuperRes}-style SR fine-tuning of one cascade. */
export interface SrFineTuneConfig {
  /** SR stages to fine-tune, 1-based (1 = the first SR stage). Default [1]. */
  readonly stages: readonly number[];
  /** Fixed t_aug during fine-tuning (unit: the augmentation's diffusion time, see module docs). Default 1e-5. */
  readonly augLevel: number;
  /** t_aug at inference for the fine-tuned stages (null: the same as `augLevel`). Default null. */
  readonly sampleAugLevel: number | null;
  /** Adam steps per stage. Default 60 (≈ 4–5 min for the first SR stage of the small cascade here). */
  readonly steps: number;
  /** Adam learning rate. Default 2e-4. */
  readonly learningRate: number;
  /** Examples per step (drawn cyclically from the subject's images). Default 4. */
  readonly batchSize: number;
  /** Random square crop of the high-res image per stage (0: none), 1-based like `stages`. Default {1: 0, 2: 128}. */
  readonly cropSize: Readonly<Record<string, number>>;
  /** The rare-token identifier [V]. Default "sks". */
  readonly identifier: string;
  /** The subject's class noun. Default "dog". */
  readonly classNoun: string;
  /** Prompt template; `{identifier}` and `{class}` are replaced. Default "a {identifier} {class}". */
  readonly prompt: string;
  /** Drop the identifier from the prompt ("a dog"), as DeepFloyd IF users do. Default false. */
  readonly dropIdentifier: boolean;
  /** Probability that an example's text is replaced by the null condition. Default 0.1. */
  readonly condDropout: number;
  /** Eq. 1 weight w_t. Default "minSnr". */
  readonly weighting: "epsilon" | "minSnr" | "v" | "x";
  /** Seed of every draw (t, ε, dropout, augmentation noise, crops). Default 0. */
  readonly seed: number;
}

/** Defaults of {@link SrFineTuneConfig}. */
export const DEFAULT_SR_FINE_TUNE_CONFIG: SrFineTuneConfig = Object.freeze({
  stages: Object.freeze([1]),
  augLevel: 1e-5,
  sampleAugLevel: null,
  steps: 60,
  learningRate: 2e-4,
  batchSize: 4,
  cropSize: Object.freeze({ "1": 0, "2": 128 }),
  identifier: "sks",
  classNoun: "dog",
  prompt: "a {identifier} {class}",
  dropIdentifier: false,
  condDropout: 0.1,
  weighting: "minSnr" as const,
  seed: 0,
});

const ACT = "configure SR fine-tuning";

function num(name: string, v: unknown, lo: number, hi: number, int = false): void {
  if (
    typeof v !== "number" || !Number.isFinite(v) || v < lo || v > hi ||
    (int && !Number.isInteger(v))
  ) {
    throw new RangeError(
      `Cannot ${ACT} as '${name}' must be ${
        int ? "an integer" : "a number"
      } in [${lo}, ${hi}]: current value is ${v}`,
    );
  }
}

/**
 * Merges `input` over the defaults and validates the result.
 *
 * @param input Any subset of {@link SrFineTuneConfig}.
 * @returns A new frozen {@link SrFineTuneConfig}.
 * @throws {RangeError} Naming the first invalid value.
 *
 * @example
 * ```ts
 * import { createSrFineTuneConfig } from "./sr_fine_tune_config.ts";
 * const c = createSrFineTuneConfig({ augLevel: 1e-3, stages: [1, 2] });
 * console.log(c.augLevel, c.stages, c.steps); // 0.001 [ 1, 2 ] 60
 * ```
 */
export function createSrFineTuneConfig(input: Partial<SrFineTuneConfig> = {}): SrFineTuneConfig {
  const c = { ...DEFAULT_SR_FINE_TUNE_CONFIG, ...input };
  if (!Array.isArray(c.stages) || c.stages.length === 0) {
    throw new RangeError(
      `Cannot ${ACT} as 'stages' must be a non-empty array: current value is ${
        JSON.stringify(c.stages)
      }`,
    );
  }
  c.stages.forEach((s, i) => num(`stages[${i}]`, s, 1, 8, true));
  if (new Set(c.stages).size !== c.stages.length) {
    throw new RangeError(`Cannot ${ACT} as 'stages' has a repeated stage: ${c.stages.join(", ")}`);
  }
  num("augLevel", c.augLevel, 0, 1);
  if (c.sampleAugLevel !== null) num("sampleAugLevel", c.sampleAugLevel, 0, 1);
  num("steps", c.steps, 0, 1e7, true);
  num("learningRate", c.learningRate, 1e-12, 10);
  num("batchSize", c.batchSize, 1, 1024, true);
  num("condDropout", c.condDropout, 0, 1);
  num("seed", c.seed, 0, 2 ** 32 - 1, true);
  for (const [k, v] of Object.entries(c.cropSize)) num(`cropSize.${k}`, v, 0, 1 << 16, true);
  for (const k of ["identifier", "classNoun", "prompt"] as const) {
    if (typeof c[k] !== "string" || c[k].trim() === "") {
      throw new RangeError(
        `Cannot ${ACT} as '${k}' must be a non-empty string: current value is ${
          JSON.stringify(c[k])
        }`,
      );
    }
  }
  if (!["epsilon", "minSnr", "v", "x"].includes(c.weighting)) {
    throw new RangeError(
      `Cannot ${ACT} as 'weighting' must be one of epsilon, minSnr, v, x: current value is ${
        JSON.stringify(c.weighting)
      }`,
    );
  }
  return Object.freeze({
    ...c,
    stages: Object.freeze([...c.stages].sort((a, b) => a - b)),
    cropSize: Object.freeze({ ...DEFAULT_SR_FINE_TUNE_CONFIG.cropSize, ...c.cropSize }),
  });
}

/**
 * The training prompt of a config: the template with the identifier and class noun filled in
 * (without the identifier when `dropIdentifier`).
 *
 * @param config A {@link SrFineTuneConfig} (e.g. from {@link createSrFineTuneConfig}).
 * @returns The prompt, e.g. "a sks dog".
 *
 * @example
 * ```ts
 * import { createSrFineTuneConfig, srPrompt } from "./sr_fine_tune_config.ts";
 * console.log(srPrompt(createSrFineTuneConfig({ classNoun: "cat" }))); // "a sks cat"
 * console.log(srPrompt(createSrFineTuneConfig({ dropIdentifier: true }))); // "a dog"
 * ```
 */
export function srPrompt(config: SrFineTuneConfig): string {
  return config.prompt
    .replaceAll("{identifier}", config.dropIdentifier ? "" : config.identifier)
    .replaceAll("{class}", config.classNoun)
    .replace(/\s+/g, " ")
    .trim();
}
