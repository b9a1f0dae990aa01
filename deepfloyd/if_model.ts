/**
 * A DeepFloyd IF cascade as `deno task sample --model` and `deno task train --model` name it: a
 * stage I folder in diffusers' layout or `hf:ORG/NAME[@REV]` (plus `--sr-model` for stage II), or
 * a personalised model folder written by `deno task train` (`if_model.json`: the base stages'
 * sources, the fine-tuned weights — LoRA adapters in diffusers' `pytorch_lora_weights.safetensors`
 * format or full UNet weights — and the identifier and class noun).
 *
 * @module
 */
import {
  exists,
  fillSubjectPrompt,
  readSafetensors,
  tf,
  writeJsonAtomic,
  writeSafetensors,
} from "./deps.ts";
import { type IFStage, loadIFStage, readJsonFile } from "./diffusers_folder.ts";
import { type HubOptions, parseHubSource, resolveModelDir } from "./hf_hub.ts";
import { IFUNet } from "./if_unet.ts";
import { DDPMScheduler } from "./ddpm_scheduler.ts";
import { sampleIF } from "./if_sampler.ts";
import { encodeIFPromptsStreaming } from "./prompt_embedding_cache.ts";

/** The manifest file of a personalised IF model folder. */
export const IF_MODEL_FILE = "if_model.json";

/** `if_model.json`: what a personalised IF model is made of. */
export interface IFModelManifest {
  /** Always `"dreambooth-if/1"`. */
  format: "dreambooth-if/1";
  /** The base stage I: an absolute folder or `hf:ORG/NAME[@REV]`. */
  model: string;
  /** The base stage II, or null. */
  srModel: string | null;
  /** `lora`: adapters on the attention projections; `full`: every UNet weight. */
  method: "lora" | "full";
  /** Per stage (I, then II when fine-tuned): the weights file, relative to the folder. */
  stages: { weights: string }[];
  /** The identifier [V] and the class noun, filled into `{identifier}`/`[V]` and `{class}`. */
  identifier: string;
  classNoun: string;
  /** The stage II noise-augmentation level it was fine-tuned at (IF's integer level). */
  noiseLevel: number;
}

/**
 * What a `--model` value names, without loading it: `personalised` (a folder with
 * `if_model.json`), `diffusers` (a folder with `model_index.json`), `hub` (`hf:…`), or null
 * (not an IF model: a cascade checkpoint of this project, or missing).
 *
 * @param source The `--model` value.
 * @returns The kind, or null.
 *
 * @example
 * ```ts
 * import { ifModelKind } from "./if_model.ts";
 * console.log(await ifModelKind("hf:DeepFloyd/IF-I-M-v1.0")); // hub
 * console.log(await ifModelKind("models/default/cascade.safetensors")); // null
 * ```
 */
export async function ifModelKind(
  source: string,
): Promise<"personalised" | "diffusers" | "hub" | null> {
  if (parseHubSource(source)) return "hub";
  const info = await Deno.stat(source).catch(() => null);
  if (!info?.isDirectory) return null; // a checkpoint file, a preset name, or nothing
  if (await exists(`${source}/${IF_MODEL_FILE}`)) return "personalised";
  if (await exists(`${source}/model_index.json`)) return "diffusers";
  return null;
}

/** A loaded IF cascade (owned; `dispose()`). */
export interface IFCascade {
  /** Stage I (with its text encoder folder and tokenizer). */
  stageI: IFStage;
  /** Stage II, or null. */
  stageII: IFStage | null;
  /** The manifest of a personalised model, or null for base weights. */
  manifest: IFModelManifest | null;
  dispose(): void;
  [Symbol.dispose](): void;
}

/** Options of {@link loadIFCascade}. */
export interface LoadIFCascadeOptions extends HubOptions {
  /** Stage II: a folder or `hf:…` (not with a personalised model, which names its own). */
  srModel?: string;
}

async function loadStage(source: string, options: HubOptions, name: string): Promise<IFStage> {
  const dir = await resolveModelDir(source, options);
  if (!(await exists(`${dir}/model_index.json`))) {
    throw new RangeError(
      `Cannot load '${name}' ${
        JSON.stringify(source)
      } as it is not a DeepFloyd IF folder (no model_index.json; give a diffusers IF folder, hf:ORG/NAME, or a model of deno task train)`,
    );
  }
  return await loadIFStage(dir);
}

async function applyWeights(stage: IFStage, file: string, method: string): Promise<void> {
  const { tensors } = await readSafetensors(file);
  if (method === "lora") {
    stage.unet.loadLoRA(tensors);
    return;
  }
  const fresh = new IFUNet(stage.unet.config, tensors);
  stage.unet.dispose();
  stage.unet = fresh;
}

/**
 * Loads an IF cascade: stage I (and stage II) from folders or the hub, or a personalised model
 * (its base stages, then its LoRA adapters or full weights).
 *
 * @param source A stage I folder, `hf:ORG/NAME[@REV]` or a personalised model folder.
 * @param options `srModel` and the hub options.
 * @returns The cascade, owned by the caller.
 */
export async function loadIFCascade(
  source: string,
  options: LoadIFCascadeOptions = {},
): Promise<IFCascade> {
  let manifest: IFModelManifest | null = null;
  let model = source;
  let srModel = options.srModel ?? null;
  if (await exists(`${source}/${IF_MODEL_FILE}`)) {
    manifest = await readJsonFile(`${source}/${IF_MODEL_FILE}`) as unknown as IFModelManifest;
    if (manifest.format !== "dreambooth-if/1") {
      throw new RangeError(
        `Cannot load '${source}' as ${IF_MODEL_FILE}'s 'format' must be "dreambooth-if/1": current value is ${
          JSON.stringify(manifest.format)
        }`,
      );
    }
    if (options.srModel !== undefined) {
      throw new RangeError(
        `Cannot load '${source}' with 'srModel' ${
          JSON.stringify(options.srModel)
        }: a personalised model names its own stage II (${JSON.stringify(manifest.srModel)})`,
      );
    }
    model = manifest.model;
    srModel = manifest.srModel;
  }
  const stageI = await loadStage(model, options, "model");
  let stageII: IFStage | null = null;
  try {
    if (stageI.unet.config.classEmbedType === "timestep") {
      throw new RangeError(
        `Cannot use ${
          JSON.stringify(model)
        } as 'model': it is a stage II (super-resolution) folder; give it as 'srModel'`,
      );
    }
    if (!stageI.textEncoderDir || !stageI.tokenizer) {
      throw new RangeError(
        `Cannot use ${JSON.stringify(model)} as 'model' as it has no text_encoder/ or tokenizer/`,
      );
    }
    if (srModel !== null) {
      stageII = await loadStage(srModel, options, "srModel");
      if (stageII.unet.config.classEmbedType !== "timestep" || !stageII.imageNoisingScheduler) {
        throw new RangeError(
          `Cannot use ${
            JSON.stringify(srModel)
          } as 'srModel': it is not an IF stage II folder (no noise-level conditioning or image_noising_scheduler/)`,
        );
      }
    }
    if (manifest) {
      const stages = [stageI, stageII];
      for (let i = 0; i < manifest.stages.length; i++) {
        const s = stages[i];
        if (s) await applyWeights(s, `${source}/${manifest.stages[i].weights}`, manifest.method);
      }
    }
  } catch (e) {
    stageI.dispose();
    stageII?.dispose();
    throw e;
  }
  const dispose = () => {
    stageI.dispose();
    stageII?.dispose();
  };
  return { stageI, stageII, manifest, dispose, [Symbol.dispose]: dispose };
}

/**
 * Writes a personalised IF model folder: the fine-tuned weights of each stage (LoRA adapters in
 * the file format diffusers' `load_lora_weights` reads, or full UNet weights in diffusers' names)
 * and `if_model.json`, which {@link loadIFCascade} reads.
 *
 * @param dir The output folder.
 * @param unets The fine-tuned UNets, stage I first.
 * @param manifest The manifest without `format` and `stages` (filled in here).
 * @returns The manifest written.
 */
export async function saveIFModel(
  dir: string,
  unets: readonly IFUNet[],
  manifest: Omit<IFModelManifest, "format" | "stages">,
): Promise<IFModelManifest> {
  const stages: { weights: string }[] = [];
  for (let i = 0; i < unets.length; i++) {
    const sub = `stage_${i + 1}`;
    await Deno.mkdir(`${dir}/${sub}`, { recursive: true });
    const lora = manifest.method === "lora";
    const weights = `${sub}/${
      lora ? "pytorch_lora_weights.safetensors" : "diffusion_pytorch_model.safetensors"
    }`;
    const tensors = lora ? await unets[i].exportLoRA() : await unets[i].exportWeights();
    const tmp = `${dir}/${weights}.tmp`;
    await writeSafetensors(tmp, tensors, { metadata: { format: "pt" } });
    await Deno.rename(tmp, `${dir}/${weights}`);
    stages.push({ weights });
  }
  const full: IFModelManifest = { format: "dreambooth-if/1", ...manifest, stages };
  await writeJsonAtomic(`${dir}/${IF_MODEL_FILE}`, full);
  return full;
}

/** Options of {@link sampleIFCascade}. */
export interface SampleIFCascadeOptions {
  /** The prompt; `{identifier}`/`[V]` and `{class}` are filled in for a personalised model. */
  prompt: string;
  /** The negative prompt. Default "". */
  negativePrompt?: string;
  /** Images. Default 1. */
  count?: number;
  /** Seed. Default 0. */
  seed?: number;
  /** Stage I steps. Default 100. */
  steps?: number;
  /** Stage II steps. Default 50. */
  srSteps?: number;
  /** Stage I guidance. Default 7. */
  guidance?: number;
  /** Stage II guidance. Default 4. */
  srGuidance?: number;
  /** Stage II noise augmentation of the upscaled stage I image. Default 250 (IF's pipeline). */
  noiseLevel?: number;
  /** DDPM variance. Default the folder's (`learned_range`). */
  variance?: "learned_range" | "fixed_small";
  /** Cache folder of T5 prompt embeddings (default none). */
  promptCache?: string;
  /** Run only stage I. Default false. */
  stageIOnly?: boolean;
  /** Called after every step. */
  onStep?: (stage: "stage I" | "stage II", done: number, total: number) => void;
}

/**
 * Samples an IF cascade: stage I at its size, then stage II (when loaded) on the clipped stage I
 * images noised to `noiseLevel`, as diffusers' IF pipelines do. The T5 encoder is streamed.
 *
 * @param cascade The cascade ({@link loadIFCascade}).
 * @param options The prompt and sampler settings.
 * @returns Images `[N, H, W, 3]` in [−1, 1], owned by the caller, and the prompt used.
 */
export async function sampleIFCascade(
  cascade: IFCascade,
  options: SampleIFCascadeOptions,
): Promise<{ images: tf.Tensor4D; prompt: string }> {
  const { stageI: s1, stageII: s2, manifest } = cascade;
  const prompt = manifest ? fillSubjectPrompt(options.prompt, manifest) : options.prompt;
  const count = options.count ?? 1;
  const [pos, neg] = await Promise.all(
    [prompt, options.negativePrompt ?? ""].map((p) =>
      encodeIFPromptsStreaming(s1.textEncoderDir!, s1.tokenizer!, new Array(count).fill(p), {
        cacheDir: options.promptCache,
      })
    ),
  );
  const variance = options.variance === "fixed_small" ? { variance_type: "fixed_small" } : {};
  const sched = (s: DDPMScheduler) => new DDPMScheduler(s.json, variance);
  const seed = options.seed ?? 0;
  try {
    let { images } = await sampleIF(s1.unet, sched(s1.scheduler), {
      promptEmbeds: pos,
      negativeEmbeds: neg,
      guidanceScale: options.guidance ?? 7,
      steps: options.steps ?? 100,
      seed,
      onStep: (d, t) => options.onStep?.("stage I", d, t),
    });
    const clipped = tf.clipByValue(images, -1, 1) as tf.Tensor4D;
    images.dispose();
    if (!s2 || options.stageIOnly) return { images: clipped, prompt };
    try {
      images = (await sampleIF(s2.unet, sched(s2.scheduler), {
        promptEmbeds: pos,
        negativeEmbeds: neg,
        guidanceScale: options.srGuidance ?? 4,
        steps: options.srSteps ?? 50,
        seed: seed + 1_000_003,
        lowRes: clipped,
        imageNoisingScheduler: s2.imageNoisingScheduler ?? undefined,
        noiseLevel: options.noiseLevel ?? 250,
        onStep: (d, t) => options.onStep?.("stage II", d, t),
      })).images;
    } finally {
      clipped.dispose();
    }
    const out = tf.clipByValue(images, -1, 1) as tf.Tensor4D;
    images.dispose();
    return { images: out, prompt };
  } finally {
    tf.dispose([pos, neg]);
  }
}
