/**
 * Reading diffusers/transformers model folders: a component's safetensors weights (one file or
 * HF-sharded with an index, optional variant such as "fp16"; F32/F16/BF16 widened to float32),
 * and a whole DeepFloyd IF pipeline folder (`model_index.json`, `unet/`, `scheduler/`, and when
 * present `text_encoder/` and `tokenizer/`).
 *
 * @module
 */
import {
  type NamedTensor,
  readSafetensors,
  SentencePieceProcessor,
  t5ConfigFromHf,
  T5Encoder,
} from "./deps.ts";
import { IFUNet } from "./if_unet.ts";
import { DDPMScheduler } from "./ddpm_scheduler.ts";
import { exists } from "./deps.ts";

/**
 * Reads a JSON file, naming the file in errors.
 *
 * @param path The file.
 * @returns The parsed object.
 */
export async function readJsonFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`Cannot read '${path}': ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`Cannot parse '${path}' as JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** Options of {@link readDiffusersWeights}. */
export interface ReadWeightsOptions {
  /** File stem: "diffusion_pytorch_model" (diffusers, the default) or "model" (transformers). */
  stem?: string;
  /** Variant such as "fp16" (`<stem>.fp16.safetensors`, `<stem>.safetensors.index.fp16.json`). */
  variant?: string;
}

/**
 * Reads all tensors of one component folder. Looks for `<stem>.safetensors.index.json` (HF
 * sharding: `weight_map` names each tensor's file), then `<stem>.safetensors`; with a variant, for
 * the variant's names. A PyTorch `.bin` without safetensors is refused with a hint.
 *
 * @param dir The component folder (e.g. `IF-I-M-v1.0/unet`).
 * @param options `stem`, `variant`.
 * @returns Tensors by name, float data as Float32Array.
 *
 * @example
 * ```ts
 * import { readDiffusersWeights } from "./diffusers_folder.ts";
 * const w = await readDiffusersWeights(new URL("./testdata/if_tiny_i/text_encoder", import.meta.url).pathname, { stem: "model" });
 * console.log(w.get("shared.weight")?.shape); // [ 32128, 16 ]
 * ```
 */
export async function readDiffusersWeights(
  dir: string,
  options: ReadWeightsOptions = {},
): Promise<Map<string, NamedTensor>> {
  const stem = options.stem ?? "diffusion_pytorch_model";
  const v = options.variant;
  const index = v
    ? `${dir}/${stem}.safetensors.index.${v}.json`
    : `${dir}/${stem}.safetensors.index.json`;
  const single = v ? `${dir}/${stem}.${v}.safetensors` : `${dir}/${stem}.safetensors`;
  if (await exists(index)) {
    const json = await readJsonFile(index);
    const map = json.weight_map as Record<string, string> | undefined;
    if (!map || typeof map !== "object") {
      throw new RangeError(`Cannot read '${index}' as it has no 'weight_map' object`);
    }
    const files = [...new Set(Object.values(map))];
    const out = new Map<string, NamedTensor>();
    for (const f of files) {
      if (f.includes("/") || f.includes("\\")) {
        throw new RangeError(
          `Cannot read '${index}' as shard name ${JSON.stringify(f)} leaves the folder`,
        );
      }
      const { tensors } = await readSafetensors(`${dir}/${f}`);
      for (const [name, t] of tensors) {
        if (map[name] !== f) {
          throw new RangeError(
            `Cannot read '${dir}/${f}' as its tensor '${name}' is not assigned to it by '${index}'`,
          );
        }
        out.set(name, t);
      }
    }
    for (const name of Object.keys(map)) {
      if (!out.has(name)) {
        throw new RangeError(
          `Cannot read '${dir}' as tensor '${name}' listed in the index is in no shard`,
        );
      }
    }
    return out;
  }
  if (await exists(single)) return (await readSafetensors(single)).tensors;
  const bin = v ? `${dir}/${stem}.${v}.bin` : `${dir}/${stem}.bin`;
  if (await exists(bin)) {
    throw new RangeError(
      `Cannot read '${bin}': PyTorch pickles are not supported; convert the folder to safetensors (diffusers: save_pretrained(..., safe_serialization=True))`,
    );
  }
  throw new RangeError(`Cannot read weights as neither '${index}' nor '${single}' exists`);
}

/** A loaded DeepFloyd IF stage (tensors owned; `dispose()`). */
export interface IFStage {
  /** `model_index.json`. */
  modelIndex: Record<string, unknown>;
  unet: IFUNet;
  /** The sampling scheduler from `scheduler/scheduler_config.json`. */
  scheduler: DDPMScheduler;
  /** Stage II: the scheduler that noises the upscaled low-res image (`image_noising_scheduler/`). */
  imageNoisingScheduler: DDPMScheduler | null;
  /**
   * The T5 encoder, held in memory, when asked for (`loadTextEncoder`) and the folder has
   * `text_encoder/`. Real IF encoders (T5-XXL, 9.5 GB in bf16) are better streamed from
   * `textEncoderDir` with `encodeIFPromptsStreaming`.
   */
  textEncoder: T5Encoder | null;
  /** The folder of the T5 encoder (`<dir>/text_encoder`), or null when the folder has none. */
  textEncoderDir: string | null;
  /** The SentencePiece model when the folder has `tokenizer/spiece.model`. */
  tokenizer: SentencePieceProcessor | null;
  dispose(): void;
  [Symbol.dispose](): void;
}

/**
 * Loads a DeepFloyd IF pipeline folder in diffusers' layout (stage I `IFPipeline` or stage II
 * `IFSuperResolutionPipeline`).
 *
 * @param dir The folder holding `model_index.json`.
 * @param options `variant` (e.g. "fp16"), `loadTextEncoder` (hold the T5 encoder in memory;
 *   default false: stream it, see {@link IFStage.textEncoderDir}), `maxLength` (prompt length for the text encoder,
 *   default 77 as in diffusers' IF pipelines).
 * @returns The stage, owned by the caller.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { loadIFStage } from "./diffusers_folder.ts";
 * const dir = new URL("./testdata/if_tiny_i", import.meta.url).pathname;
 * using stage = await loadIFStage(dir, { loadTextEncoder: true });
 * console.log(stage.unet.config.outChannels, stage.textEncoder !== null); // 6 true
 * ```
 */
export async function loadIFStage(
  dir: string,
  options: { variant?: string; maxLength?: number; loadTextEncoder?: boolean } = {},
): Promise<IFStage> {
  if (!(await exists(`${dir}/model_index.json`))) {
    throw new RangeError(
      `Cannot load '${dir}' as it has no model_index.json (not a diffusers pipeline folder)`,
    );
  }
  const modelIndex = await readJsonFile(`${dir}/model_index.json`);
  const cls = modelIndex._class_name;
  const known = [
    "IFPipeline",
    "IFSuperResolutionPipeline",
    "IFImg2ImgPipeline",
    "IFImg2ImgSuperResolutionPipeline",
  ];
  if (typeof cls !== "string" || !known.includes(cls)) {
    throw new RangeError(
      `Cannot load '${dir}' as model_index.json's '_class_name' must be one of ${
        known.join(", ")
      }: current value is ${JSON.stringify(cls)}`,
    );
  }
  const has = (k: string) =>
    Array.isArray(modelIndex[k]) && (modelIndex[k] as unknown[])[0] !== null;
  const unetConfig = await readJsonFile(`${dir}/unet/config.json`);
  const unet = new IFUNet(
    unetConfig,
    await readDiffusersWeights(`${dir}/unet`, { variant: options.variant }),
  );
  let textEncoder: T5Encoder | null = null;
  try {
    const scheduler = new DDPMScheduler(
      await readJsonFile(`${dir}/scheduler/scheduler_config.json`),
    );
    const imageNoisingScheduler = has("image_noising_scheduler")
      ? new DDPMScheduler(
        await readJsonFile(`${dir}/image_noising_scheduler/scheduler_config.json`),
      )
      : null;
    if (has("text_encoder") && options.loadTextEncoder) {
      const hf = await readJsonFile(`${dir}/text_encoder/config.json`);
      textEncoder = new T5Encoder(t5ConfigFromHf(hf, { maxLength: options.maxLength ?? 77 }));
      textEncoder.loadWeights(
        await readDiffusersWeights(`${dir}/text_encoder`, {
          stem: "model",
          variant: options.variant,
        }),
      );
    }
    const tokenizer = has("tokenizer")
      ? await SentencePieceProcessor.load(await Deno.readFile(`${dir}/tokenizer/spiece.model`))
      : null;
    const te = textEncoder;
    const stage: IFStage = {
      modelIndex,
      unet,
      scheduler,
      imageNoisingScheduler,
      textEncoder,
      textEncoderDir: has("text_encoder") ? `${dir}/text_encoder` : null,
      tokenizer,
      dispose: () => {
        stage.unet.dispose(); // the UNet held now (a personalised model may replace it)
        te?.dispose();
      },
      [Symbol.dispose]: () => stage.dispose(),
    };
    return stage;
  } catch (e) {
    unet.dispose();
    textEncoder?.dispose();
    throw e;
  }
}
