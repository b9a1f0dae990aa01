/**
 * A cascade as typed data: everything needed to rebuild it (stored in checkpoints' `__metadata__`).
 *
 * @module
 */
import { Cascade } from "./cascade.ts";
import { createT5Config, type T5Config, T5Encoder } from "../model/t5_encoder.ts";
import { createUNetConfig, UNet, type UNetConfig } from "../model/unet.ts";
import { createSchedule, type Schedule } from "../process/schedule.ts";
import { createSamplerConfig, type SamplerConfig } from "../process/sampler.ts";
import type { TextTokenizer, TokenizerDescription } from "../text/text_tokenizer.ts";
import { tokenizerFromDescription } from "../text/tokenizer_from_description.ts";

/** One stage as data. */
export interface StageConfig {
  /** The UNet's config. */
  readonly unet: UNetConfig;
  /** Output side length. */
  readonly imageSize: number;
  /** Noise schedule. */
  readonly schedule: Schedule;
  /** Sampler settings. */
  readonly sampler: SamplerConfig;
  /** t_aug at sampling time (SR stages). */
  readonly augLevel: number;
}

/** A whole cascade as data. */
export interface CascadeConfig {
  /** How to rebuild the tokenizer. */
  readonly tokenizer: TokenizerDescription;
  /** The text encoder's config. */
  readonly textEncoder: T5Config;
  /** The stages, base first. */
  readonly stages: readonly StageConfig[];
}

/** A partial {@link CascadeConfig}, as presets and users write it. */
export interface CascadeConfigInput {
  /** How to rebuild the tokenizer. */
  tokenizer: TokenizerDescription;
  /** Text encoder options. */
  textEncoder?: Partial<T5Config>;
  /** Stages: UNet options plus imageSize, schedule, sampler, augLevel. */
  stages: readonly {
    unet?: Partial<UNetConfig>;
    imageSize: number;
    schedule?: Partial<Schedule>;
    sampler?: Partial<SamplerConfig>;
    augLevel?: number;
  }[];
}

/**
 * Merges and validates a cascade config (each part over its defaults; the UNet's imageSize follows
 * the stage's).
 *
 * @param input A {@link CascadeConfigInput}.
 * @returns A frozen {@link CascadeConfig}.
 *
 * @example
 * ```ts
 * import { createCascadeConfig } from "./cascade_config.ts";
 * const c = createCascadeConfig({ tokenizer: { kind: "words", words: ["dog"] }, stages: [{ imageSize: 16 }] });
 * console.log(c.stages[0].unet.imageSize); // 16
 * ```
 */
export function createCascadeConfig(input: CascadeConfigInput | CascadeConfig): CascadeConfig {
  if (!input || !Array.isArray(input.stages) || input.stages.length === 0) {
    throw new RangeError(`Cannot create a cascade config as 'stages' must be a non-empty array`);
  }
  return Object.freeze({
    tokenizer: input.tokenizer,
    textEncoder: createT5Config(input.textEncoder),
    stages: Object.freeze(input.stages.map((s, i) =>
      Object.freeze({
        unet: createUNetConfig({
          ...(i > 0 ? { lowResChannels: 3 } : {}),
          ...s.unet,
          imageSize: s.unet?.imageSize ?? s.imageSize,
        }),
        imageSize: s.imageSize,
        schedule: createSchedule(s.schedule),
        sampler: createSamplerConfig(s.sampler),
        augLevel: s.augLevel ?? 0,
      })
    )),
  });
}

/**
 * Builds a cascade (fresh, seeded weights) from a config and a tokenizer.
 *
 * @param config A {@link CascadeConfig} (or input, merged first).
 * @param options `tokenizer` (default: rebuilt from `config.tokenizer`), `seed` (default 0).
 * @returns The cascade, owned by the caller.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { buildCascade } from "./cascade_config.ts";
 * using c = await buildCascade({ tokenizer: { kind: "words", words: ["dog"] },
 *   textEncoder: { vocabSize: 8, dModel: 16, dKv: 8, numHeads: 2, dFf: 32, numLayers: 1, maxLength: 4 },
 *   stages: [{ imageSize: 8, unet: { channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 16 } }] });
 * console.log(c.stages.length); // 1
 * ```
 */
export async function buildCascade(
  config: CascadeConfig | CascadeConfigInput,
  options: { tokenizer?: TextTokenizer; seed?: number } = {},
): Promise<Cascade> {
  const c = createCascadeConfig(config as CascadeConfigInput);
  const tokenizer = options.tokenizer ?? await tokenizerFromDescription(c.tokenizer);
  return buildCascadeSync(c, tokenizer, options.seed ?? 0);
}

/**
 * Like {@link buildCascade} with the tokenizer given (synchronous).
 *
 * @param config A {@link CascadeConfig} or input.
 * @param tokenizer The tokenizer.
 * @param seed Seed of the weights (stage i uses seed + 1 + i). Default 0.
 * @returns The cascade.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { buildCascadeSync } from "./cascade_config.ts";
 * import { WordTokenizer } from "../text/word_tokenizer.ts";
 * using c = buildCascadeSync({ tokenizer: { kind: "words", words: ["dog"] },
 *   textEncoder: { vocabSize: 8, dModel: 16, dKv: 8, numHeads: 2, dFf: 32, numLayers: 1, maxLength: 4 },
 *   stages: [{ imageSize: 8, unet: { channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 16 } }] },
 *   new WordTokenizer(["dog"]));
 * console.log(c.stages[0].imageSize); // 8
 * ```
 */
export function buildCascadeSync(
  config: CascadeConfig | CascadeConfigInput,
  tokenizer: TextTokenizer,
  seed = 0,
): Cascade {
  const c = createCascadeConfig(config as CascadeConfigInput);
  const textEncoder = new T5Encoder(c.textEncoder, { seed });
  const unets: UNet[] = [];
  try {
    for (const [i, s] of c.stages.entries()) unets.push(new UNet(s.unet, { seed: seed + 1 + i }));
    return new Cascade({
      textEncoder,
      tokenizer,
      stages: c.stages.map((s, i) => ({
        unet: unets[i],
        imageSize: s.imageSize,
        schedule: s.schedule,
        sampler: s.sampler,
        augLevel: s.augLevel,
      })),
    });
  } catch (e) {
    textEncoder.dispose();
    unets.forEach((u) => u.dispose());
    throw e;
  }
}

/**
 * The config of an existing cascade (for checkpoints).
 *
 * @param cascade The cascade.
 * @returns Its {@link CascadeConfig}.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { cascadeConfigOf } from "./cascade_config.ts";
 * import { createPreset } from "./presets.ts";
 * using c = await createPreset("tiny");
 * console.log(cascadeConfigOf(c).stages.length); // 2
 * ```
 */
export function cascadeConfigOf(cascade: Cascade): CascadeConfig {
  return Object.freeze({
    tokenizer: cascade.tokenizer.describe(),
    textEncoder: cascade.textEncoder.config,
    stages: Object.freeze(cascade.stages.map((s) =>
      Object.freeze({
        unet: s.unet.config,
        imageSize: s.imageSize,
        schedule: s.schedule,
        sampler: s.sampler,
        augLevel: s.augLevel,
      })
    )),
  });
}
