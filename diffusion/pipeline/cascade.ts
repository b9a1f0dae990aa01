/**
 * The cascaded text-to-image pipeline (Imagen, Saharia et al. 2022, §2.5): a frozen text encoder, a
 * base stage, and super-resolution stages that each upsample the previous stage's output, corrupt it
 * with noise-conditioning augmentation at level t_aug, and denoise at their own resolution.
 *
 * A stage's `augLevel` is t_aug, the augmentation's own diffusion time: the low-res image becomes
 * α(t_aug) x + σ(t_aug) ε under the stage's schedule, so σ_aug ≈ sin(π t_aug / 2) under the cosine
 * schedule. The DreamBooth paper's "1e-3 → 1e-5" noise-augmentation levels are values of t_aug.
 *
 * @module
 */
import { Rng, tf } from "../deps.ts";
import { noiseAugment } from "../process/noise_augment.ts";
import type { UNet } from "../model/unet.ts";
import type { T5Encoder } from "../model/t5_encoder.ts";
import type { TextTokenizer } from "../text/text_tokenizer.ts";
import { type Schedule, scheduleAt } from "../process/schedule.ts";
import {
  createSamplerConfig,
  sampleImages,
  type SamplerConfig,
  type SamplerKind,
} from "../process/sampler.ts";
import { unetDenoiser } from "../model/unet_denoiser.ts";
import { type Rgb8Image, tensorToImages } from "../io/png.ts";
import { inRange, positiveInt } from "../_validate.ts";

/** One stage of a cascade. */
export interface CascadeStage {
  /** The denoiser (owned by the cascade once passed in). */
  unet: UNet;
  /** Output side length of this stage. */
  imageSize: number;
  /** Its noise schedule. */
  schedule: Schedule;
  /** Its sampler settings (steps and guidance can be overridden per call). */
  sampler: SamplerConfig;
  /** SR stages: t_aug at sampling time (0 for the base stage). */
  augLevel: number;
}

/** Options of {@link Cascade.sample}. */
export interface CascadeSampleOptions {
  /** One prompt or several (one image each). */
  prompt: string | readonly string[];
  /** Seed of every random draw. Default 0. */
  seed?: number;
  /** Steps for every stage, or per stage. Default: each stage's sampler. */
  steps?: number | readonly number[];
  /** Guidance weight for every stage, or per stage. Default: each stage's sampler. */
  guidance?: number | readonly number[];
  /** Sampler kind for every stage. Default: each stage's own. */
  sampler?: SamplerKind;
  /** Run only the first `stages` stages. Default: all. */
  stages?: number;
  /**
   * SR stages: t_aug at sampling time (the augmentation's own diffusion time, see the module
   * docs), for every stage or per stage (index = stage; the base stage's entry is ignored).
   * Default: each stage's `augLevel`. A personalised SR stage fine-tuned at t_aug = 1e-5 samples
   * best at the same level.
   */
  augLevel?: number | readonly number[];
  /** Start at this stage (≥ 1 needs `lowRes`, the previous stage's output). Default 0. */
  startStage?: number;
  /** With `startStage` ≥ 1: the previous stage's images in [−1, 1], `[B, h, h, 3]` (borrowed). */
  lowRes?: tf.Tensor4D;
  /** Called after each step. */
  onProgress?: (p: { stage: number; stages: number; step: number; steps: number }) => void;
}

/** What {@link Cascade.sample} returns. */
export interface CascadeSampleResult {
  /** The final images, one per prompt. */
  images: Rgb8Image[];
  /** The time grid each stage used. */
  timeGrids: Float64Array[];
}

/** A text-to-image cascade; owns its text encoder and UNets (`dispose()`). */
export class Cascade {
  /** The frozen text encoder. */
  readonly textEncoder: T5Encoder;
  /** The tokenizer feeding it. */
  readonly tokenizer: TextTokenizer;
  /** The stages, base first. */
  readonly stages: readonly CascadeStage[];

  /**
   * @param parts `textEncoder`, `tokenizer` and `stages` (base first; each SR stage's size a multiple of the previous one's).
   *
   * @example
   * ```ts
   * import { initBackend } from "../../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { createPreset } from "./presets.ts";
   * using cascade = await createPreset("tiny");
   * console.log(cascade.stages.map((s) => s.imageSize)); // [ 32, 128 ]
   * ```
   */
  constructor(
    parts: { textEncoder: T5Encoder; tokenizer: TextTokenizer; stages: readonly CascadeStage[] },
  ) {
    const { textEncoder, tokenizer, stages } = parts;
    if (!Array.isArray(stages) || stages.length === 0) {
      throw new RangeError(`Cannot build a cascade as 'stages' must be a non-empty array`);
    }
    stages.forEach((s, i) => {
      positiveInt("build a cascade", `stages[${i}].imageSize`, s.imageSize);
      inRange("build a cascade", `stages[${i}].augLevel`, s.augLevel, 0, 1);
      const sr = s.unet.config.lowResChannels > 0;
      if (sr !== (i > 0)) {
        throw new RangeError(
          `Cannot build a cascade as stage ${i} must be ${
            i === 0 ? "a base" : "a super-resolution"
          } UNet`,
        );
      }
      if (i > 0 && s.imageSize % stages[i - 1].imageSize !== 0) {
        throw new RangeError(
          `Cannot build a cascade as stages[${i}].imageSize (${s.imageSize}) must be a multiple of the previous stage's (${
            stages[i - 1].imageSize
          })`,
        );
      }
      if (s.unet.config.textDim > 0 && s.unet.config.textDim !== textEncoder.config.dModel) {
        throw new RangeError(
          `Cannot build a cascade as stage ${i}'s 'textDim' (${s.unet.config.textDim}) differs from the text encoder's 'dModel' (${textEncoder.config.dModel})`,
        );
      }
    });
    this.textEncoder = textEncoder;
    this.tokenizer = tokenizer;
    this.stages = Object.freeze(
      stages.map((s) => ({ ...s, sampler: createSamplerConfig(s.sampler) })),
    );
  }

  /**
   * Samples images for prompts through every stage.
   *
   * @param options See {@link CascadeSampleOptions}; only `prompt` is required.
   * @returns The final images and each stage's time grid.
   *
   * @example
   * ```ts
   * import { initBackend } from "../../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { createPreset } from "./presets.ts";
   * using cascade = await createPreset("tiny");
   * const { images } = await cascade.sample({ prompt: "a dog", steps: 2, stages: 1 });
   * console.log(images[0].width); // 32
   * ```
   */
  async sample(options: CascadeSampleOptions): Promise<CascadeSampleResult> {
    const prompts = typeof options.prompt === "string" ? [options.prompt] : [...options.prompt];
    if (prompts.length === 0 || !prompts.every((p) => typeof p === "string")) {
      throw new RangeError(
        `Cannot sample as 'prompt' must be a string or a non-empty array of strings`,
      );
    }
    const seed = options.seed ?? 0;
    if (!Number.isInteger(seed)) {
      throw new RangeError(`Cannot sample as 'seed' must be an integer: current value is ${seed}`);
    }
    const count = options.stages ?? this.stages.length;
    if (!Number.isInteger(count) || count < 1 || count > this.stages.length) {
      throw new RangeError(
        `Cannot sample as 'stages' must be an integer in [1, ${this.stages.length}]: current value is ${count}`,
      );
    }
    const pick = (v: number | readonly number[] | undefined, i: number) =>
      v === undefined ? undefined : typeof v === "number" ? v : v[i];
    const first = options.startStage ?? 0;
    if (!Number.isInteger(first) || first < 0 || first >= count) {
      throw new RangeError(
        `Cannot sample as 'startStage' must be an integer in [0, ${
          count - 1
        }]: current value is ${first}`,
      );
    }
    for (let i = Math.max(1, first); i < count; i++) {
      const a = pick(options.augLevel, i);
      if (a !== undefined) inRange("sample", `augLevel (stage ${i})`, a, 0, 1);
    }
    if (first > 0) {
      const prev = this.stages[first - 1].imageSize;
      const shape = options.lowRes?.shape;
      if (!shape || shape[0] !== prompts.length || shape[1] !== prev || shape[2] !== prev) {
        throw new RangeError(
          `Cannot sample from stage ${first} as 'lowRes' must be [${prompts.length}, ${prev}, ${prev}, 3]: current shape is ${
            shape ? `[${shape.join(", ")}]` : "none"
          }`,
        );
      }
    }
    const b = prompts.length;
    const rng = new Rng(seed);
    const text = this.textEncoder.encodePrompts(this.tokenizer, prompts);
    const timeGrids: Float64Array[] = [];
    let images: tf.Tensor4D | null = first > 0 ? tf.clone(options.lowRes!) : null;
    try {
      for (let i = first; i < count; i++) {
        const stage = this.stages[i];
        const sampler = createSamplerConfig({
          ...stage.sampler,
          ...(options.sampler !== undefined ? { kind: options.sampler } : {}),
          ...(pick(options.steps, i) !== undefined ? { steps: pick(options.steps, i) } : {}),
          ...(pick(options.guidance, i) !== undefined
            ? { guidance: pick(options.guidance, i) }
            : {}),
        });
        const stageRng = rng.fork(i);
        const stageSeed = stageRng.nextUint32();
        let lowRes: tf.Tensor4D | null = null;
        let augLogSnr = 0;
        if (i > 0 && images) {
          const factor = stage.imageSize / images.shape[1];
          const aug = scheduleAt(stage.schedule, pick(options.augLevel, i) ?? stage.augLevel);
          augLogSnr = aug.logSnr;
          const noise = stageRng.normals(b * stage.imageSize * stage.imageSize * 3);
          const prev: tf.Tensor4D = images;
          // z_aug = α(t_aug) · up(x_low) + σ(t_aug) · ε
          lowRes = tf.tidy(() =>
            noiseAugment(prev, tf.tensor4d(noise, [b, stage.imageSize, stage.imageSize, 3]), {
              alpha: aug.alpha,
              sigma: aug.sigma,
              factor,
            })
          );
        }
        try {
          const out = await sampleImages(
            unetDenoiser(stage.unet, {
              text: stage.unet.config.textDim > 0 ? text : null,
              lowRes,
              augLogSnr,
            }),
            {
              shape: [b, stage.imageSize, stage.imageSize, 3],
              schedule: stage.schedule,
              sampler,
              seed: stageSeed,
              onStep: (step, steps) =>
                options.onProgress?.({ stage: i, stages: count, step, steps }),
            },
          );
          images?.dispose();
          images = out.images;
          timeGrids.push(out.timeGrid);
        } finally {
          lowRes?.dispose();
        }
      }
      return { images: await tensorToImages(images!), timeGrids };
    } finally {
      images?.dispose();
      text.tokens.dispose();
      text.pooled.dispose();
      text.mask.dispose();
    }
  }

  /**
   * Sets an SR stage's sampling t_aug (e.g. after fine-tuning it at a low level, DreamBooth §4.3):
   * later `sample` calls and checkpoints use it.
   *
   * @param stage The stage index (≥ 1).
   * @param augLevel t_aug in [0, 1] (the augmentation's own diffusion time).
   * @returns Nothing.
   * @throws {RangeError} When the stage is not an SR stage or the level is outside [0, 1].
   *
   * @example
   * ```ts
   * import { initBackend } from "../../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { createPreset } from "./presets.ts";
   * using cascade = await createPreset("tiny");
   * cascade.setAugLevel(1, 1e-5);
   * console.log(cascade.stages[1].augLevel); // 0.00001
   * ```
   */
  setAugLevel(stage: number, augLevel: number): void {
    if (!Number.isInteger(stage) || stage < 1 || stage >= this.stages.length) {
      throw new RangeError(
        `Cannot set the augmentation level as 'stage' must be an SR stage in [1, ${
          this.stages.length - 1
        }]: current value is ${stage}`,
      );
    }
    inRange("set the augmentation level", "augLevel", augLevel, 0, 1);
    (this.stages[stage] as CascadeStage).augLevel = augLevel;
  }

  /** Total scalar parameters (text encoder + stages). */
  get numParams(): number {
    return this.textEncoder.numParams + this.stages.reduce((a, s) => a + s.unet.numParams, 0);
  }

  /** Frees every model. */
  dispose(): void {
    this.textEncoder.dispose();
    for (const s of this.stages) s.unet.dispose();
  }

  /** Frees every model (`using`). */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
