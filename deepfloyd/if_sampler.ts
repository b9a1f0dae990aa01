/**
 * Sampling DeepFloyd IF as diffusers' `IFPipeline` and `IFSuperResolutionPipeline` (v0.21) do:
 * T5 prompt embeddings of lower-cased, stripped prompts (77 tokens), classifier-free guidance on
 * the ε channels with the text branch's variance channels kept, the DDPM scheduler's steps; stage II
 * conditions on the stage I image upscaled bilinearly (corners aligned) and noised to
 * `noiseLevel` by the image-noising scheduler, and on that level.
 *
 * @module
 */
import { encodeFixedLength, type SentencePieceProcessor, type T5Encoder, tf } from "./deps.ts";
import type { IFUNet } from "./if_unet.ts";
import type { DDPMScheduler } from "./ddpm_scheduler.ts";

/**
 * T5 hidden states for prompts, as IF's `encode_prompt` makes them (text lower-cased and
 * stripped, which is what diffusers does when `clean_caption` cannot run; `maxLength` tokens with
 * EOS and padding; the attention mask passed to the encoder).
 *
 * @param encoder The T5 v1.1 encoder.
 * @param tokenizer Its SentencePiece model.
 * @param prompts The prompts.
 * @param options `maxLength` (default 77).
 * @returns `[B, maxLength, dModel]`, owned by the caller.
 */
export function encodeIFPrompts(
  encoder: T5Encoder,
  tokenizer: SentencePieceProcessor,
  prompts: readonly string[],
  options: { maxLength?: number } = {},
): tf.Tensor3D {
  const { ids, mask } = ifPromptIds(tokenizer, prompts, options);
  const e = encoder.encode(ids, mask, { batch: prompts.length });
  e.pooled.dispose();
  e.mask.dispose();
  return e.tokens;
}

/**
 * The token ids IF's `encode_prompt` feeds T5: each prompt lower-cased and stripped, encoded to
 * `maxLength` ids (EOS, then padding) with its attention mask.
 *
 * @param tokenizer T5's SentencePiece model.
 * @param prompts The prompts.
 * @param options `maxLength` (default 77).
 * @returns `[B·maxLength]` ids and mask, row-major.
 */
export function ifPromptIds(
  tokenizer: SentencePieceProcessor,
  prompts: readonly string[],
  options: { maxLength?: number } = {},
): { ids: Int32Array; mask: Uint8Array } {
  const len = options.maxLength ?? 77;
  const ids = new Int32Array(prompts.length * len);
  const mask = new Uint8Array(prompts.length * len);
  prompts.forEach((p, i) => {
    const e = encodeFixedLength(tokenizer, p.toLowerCase().trim(), { length: len });
    ids.set(e.ids, i * len);
    mask.set(e.mask, i * len);
  });
  return { ids, mask };
}

/** Options of {@link sampleIF}. */
export interface SampleIFOptions {
  /** Prompt embeddings `[B, L, D]` (borrowed). */
  promptEmbeds: tf.Tensor3D;
  /** Negative-prompt embeddings `[B, L, D]` (borrowed); needed when `guidanceScale` > 1. */
  negativeEmbeds?: tf.Tensor3D;
  /** Classifier-free guidance weight (diffusers: 7 for stage I, 4 for stage II). Default 7. */
  guidanceScale?: number;
  /** Number of scheduler steps. Default 100 (stage I's default; stage II's is 50). */
  steps?: number;
  /** Output size in pixels. Default the UNet's `sample_size`. */
  size?: number;
  /** Seed of the initial noise, the step noise and stage II's augmentation noise. Default 0. */
  seed?: number;
  /** Stage II: the stage I images `[B, h, w, 3]` in [−1, 1] (borrowed). */
  lowRes?: tf.Tensor4D;
  /** Stage II: the augmentation level (an integer timestep of `imageNoisingScheduler`). Default 250. */
  noiseLevel?: number;
  /** Stage II: the scheduler that noises the upscaled image. */
  imageNoisingScheduler?: DDPMScheduler;
  /** Called after each step. */
  onStep?: (done: number, total: number) => void;
}

/**
 * Runs IF's sampling loop for one stage.
 *
 * @param unet The stage's UNet.
 * @param scheduler The stage's DDPM scheduler (e.g. with `{ variance_type: "fixed_small" }` as
 *   diffusers' IF DreamBooth validation samples).
 * @param options See {@link SampleIFOptions}.
 * @returns The images `[B, size, size, 3]` in [−1, 1] (unclipped) and the timesteps used.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { tf } from "./deps.ts";
 * import { loadIFStage } from "./diffusers_folder.ts";
 * import { encodeIFPrompts, sampleIF } from "./if_sampler.ts";
 * using stage = await loadIFStage(new URL("./testdata/if_tiny_i", import.meta.url).pathname, {
 *   loadTextEncoder: true,
 * });
 * const pos = encodeIFPrompts(stage.textEncoder!, stage.tokenizer!, ["a dog"]);
 * const neg = encodeIFPrompts(stage.textEncoder!, stage.tokenizer!, [""]);
 * const { images, timesteps } = await sampleIF(stage.unet, stage.scheduler, {
 *   promptEmbeds: pos, negativeEmbeds: neg, steps: 2, seed: 1,
 * });
 * console.log(images.shape, timesteps); // [ 1, 8, 8, 3 ] [ 500, 0 ]
 * tf.dispose([pos, neg, images]);
 * ```
 */
export async function sampleIF(
  unet: IFUNet,
  scheduler: DDPMScheduler,
  options: SampleIFOptions,
): Promise<{ images: tf.Tensor4D; timesteps: number[] }> {
  const c = unet.config;
  const guidance = options.guidanceScale ?? 7;
  const steps = options.steps ?? 100;
  const size = options.size ?? c.sampleSize ?? 64;
  let seed = options.seed ?? 0;
  const pos = options.promptEmbeds;
  const b = pos.shape[0];
  const cfg = guidance > 1;
  if (!Number.isFinite(guidance) || guidance < 0) {
    throw new RangeError(
      `Cannot sample IF as 'guidanceScale' must be ≥ 0: current value is ${guidance}`,
    );
  }
  if (cfg && !options.negativeEmbeds) {
    throw new RangeError(
      `Cannot sample IF as 'negativeEmbeds' is needed for guidanceScale ${guidance} > 1`,
    );
  }
  const stageII = options.lowRes !== undefined;
  const imageCh = stageII ? c.inChannels / 2 : c.inChannels;
  if (stageII && (!options.imageNoisingScheduler || c.classEmbedType !== "timestep")) {
    throw new RangeError(
      `Cannot sample IF stage II as it needs 'imageNoisingScheduler' and a UNet with class_embed_type "timestep"`,
    );
  }
  const timesteps = scheduler.timesteps(steps);
  const text = cfg ? tf.concat([options.negativeEmbeds!, pos], 0) as tf.Tensor3D : pos;
  let upscaled: tf.Tensor4D | null = null;
  const level = options.noiseLevel ?? 250;
  if (stageII) {
    upscaled = tf.tidy(() => {
      const up = tf.image.resizeBilinear(options.lowRes!, [size, size], true);
      const noise = tf.randomNormal(up.shape, 0, 1, "float32", seed++) as tf.Tensor4D;
      return options.imageNoisingScheduler!.addNoise(up, noise, new Array(b).fill(level));
    });
  }
  let x = tf.randomNormal([b, size, size, imageCh], 0, 1, "float32", seed++) as tf.Tensor4D;
  try {
    for (let k = 0; k < timesteps.length; k++) {
      const t = timesteps[k];
      const out = tf.tidy(() => {
        let input: tf.Tensor4D = upscaled ? tf.concat([x, upscaled], 3) : x;
        if (cfg) input = tf.concat([input, input], 0);
        const n = input.shape[0];
        const pred = unet.forward(input, {
          timesteps: new Array(n).fill(t),
          encoderHiddenStates: text,
          classLabels: stageII ? new Array(n).fill(level) : undefined,
        });
        if (!cfg) return pred;
        const [uncond, cond] = tf.split(pred, 2, 0);
        const epsU = tf.slice(uncond, [0, 0, 0, 0], [-1, -1, -1, imageCh]);
        const epsC = tf.slice(cond, [0, 0, 0, 0], [-1, -1, -1, imageCh]);
        const guided = tf.add(epsU, tf.mul(tf.sub(epsC, epsU), guidance)); // ε_u + w (ε_c − ε_u)
        const rest = pred.shape[3] - imageCh;
        return rest > 0
          ? tf.concat([guided, tf.slice(cond, [0, 0, 0, imageCh], [-1, -1, -1, rest])], 3)
          : guided;
      }) as tf.Tensor4D;
      const noise = t > 0
        ? tf.randomNormal(x.shape, 0, 1, "float32", seed++) as tf.Tensor4D
        : undefined;
      const r = await scheduler.step(out, t, x, { steps, noise });
      tf.dispose([out, noise, r.predOriginalSample, x]);
      x = r.prevSample;
      options.onStep?.(k + 1, timesteps.length);
    }
  } catch (e) {
    x.dispose();
    throw e;
  } finally {
    if (cfg) text.dispose();
    upscaled?.dispose();
  }
  return { images: x, timesteps };
}
