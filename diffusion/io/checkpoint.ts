/**
 * Model checkpoints as safetensors files whose `__metadata__` holds the config, so that loading
 * rebuilds the model from the file alone: `format` = "dreambooth-ts", `kind` = "cascade" | "unet" |
 * "t5", `config` = the JSON config. Cascade tensors are named `text_encoder.<HF T5 name>` and
 * `stages.<i>.<UNet name>`. Writes are atomic (temporary file + rename).
 *
 * @module
 */
import { Cascade } from "../pipeline/cascade.ts";
import {
  buildCascadeSync,
  type CascadeConfig,
  cascadeConfigOf,
  createCascadeConfig,
} from "../pipeline/cascade_config.ts";
import { type T5Config, T5Encoder } from "../model/t5_encoder.ts";
import { UNet, type UNetConfig } from "../model/unet.ts";
import {
  type NamedTensor,
  readSafetensors,
  SafetensorsError,
  writeSafetensors,
} from "./safetensors.ts";
import type { TextTokenizer } from "../text/text_tokenizer.ts";
import { tokenizerFromDescription } from "../text/tokenizer_from_description.ts";

/** What a checkpoint can hold. */
export type CheckpointModel = Cascade | UNet | T5Encoder;

/** A loaded checkpoint. */
export type LoadedCheckpoint =
  | { kind: "cascade"; model: Cascade; metadata: Record<string, string> }
  | { kind: "unet"; model: UNet; metadata: Record<string, string> }
  | { kind: "t5"; model: T5Encoder; metadata: Record<string, string> };

/** Options of {@link saveCheckpoint}. */
export interface SaveCheckpointOptions {
  /** Storage type of the weights: "F32" (default) or "F16" (half the size). */
  dtype?: "F32" | "F16";
  /** Extra metadata (e.g. training step); cannot override `format`, `kind`, `config`. */
  metadata?: Record<string, string>;
}

const FORMAT = "dreambooth-ts";

/**
 * Saves a cascade, a UNet or a T5 encoder with its config.
 *
 * @param path Destination `.safetensors` path.
 * @param model The model (borrowed).
 * @param options `dtype` (default "F32"), `metadata` (default {}).
 * @returns A promise that resolves when the file is in place.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * import { UNet } from "../model/unet.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 0 });
 * await saveCheckpoint(path, net, { dtype: "F16" });
 * const loaded = await loadCheckpoint(path);
 * console.log(loaded.kind); // "unet"
 * loaded.model.dispose();
 * await Deno.remove(path);
 * ```
 */
export async function saveCheckpoint(
  path: string,
  model: CheckpointModel,
  options: SaveCheckpointOptions = {},
): Promise<void> {
  const dtype = options.dtype ?? "F32";
  if (dtype !== "F32" && dtype !== "F16") {
    throw new RangeError(
      `Cannot save a checkpoint as 'dtype' must be "F32" or "F16": current value is ${
        JSON.stringify(dtype)
      }`,
    );
  }
  let kind: string;
  let config: unknown;
  let tensors: Map<string, NamedTensor>;
  if (model instanceof Cascade) {
    kind = "cascade";
    config = cascadeConfigOf(model);
    tensors = await model.textEncoder.exportWeights({ prefix: "text_encoder." });
    for (const [i, s] of model.stages.entries()) {
      for (const [k, v] of await s.unet.exportWeights({ prefix: `stages.${i}.` })) {
        tensors.set(k, v);
      }
    }
  } else if (model instanceof UNet) {
    kind = "unet";
    config = model.config;
    tensors = await model.exportWeights();
  } else if (model instanceof T5Encoder) {
    kind = "t5";
    config = model.config;
    tensors = await model.exportWeights();
  } else {
    throw new TypeError(
      `Cannot save a checkpoint as 'model' must be a Cascade, a UNet or a T5Encoder`,
    );
  }
  const metadata = { ...options.metadata, format: FORMAT, kind, config: JSON.stringify(config) };
  await writeSafetensors(path, tensors, { metadata, floatDtype: dtype });
}

/**
 * Loads a checkpoint written by {@link saveCheckpoint}: rebuilds the model from the config in the
 * file, then loads its weights (a missing or mis-shaped tensor throws naming it).
 *
 * @param path The `.safetensors` file.
 * @param options `tokenizer` for cascades (default: rebuilt from the description in the file).
 * @returns The model and its kind.
 * @throws {SafetensorsError} When the file is not a valid checkpoint.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * import { createPreset } from "../pipeline/presets.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * using c = await createPreset("tiny");
 * await saveCheckpoint(path, c);
 * const { kind, model } = await loadCheckpoint(path);
 * console.log(kind); // "cascade"
 * model.dispose();
 * await Deno.remove(path);
 * ```
 */
export async function loadCheckpoint(
  path: string,
  options: { tokenizer?: TextTokenizer } = {},
): Promise<LoadedCheckpoint> {
  const { tensors, metadata } = await readSafetensors(path);
  if (metadata.format !== FORMAT || !metadata.kind || !metadata.config) {
    throw new SafetensorsError(
      `Cannot load '${path}' as a checkpoint as its metadata lacks format "${FORMAT}", kind and config (is it a plain safetensors file?)`,
    );
  }
  let config: unknown;
  try {
    config = JSON.parse(metadata.config);
  } catch (e) {
    throw new SafetensorsError(
      `Cannot load '${path}' as its 'config' metadata is not JSON (${(e as Error).message})`,
    );
  }
  if (metadata.kind === "unet") {
    const model = new UNet(config as UNetConfig);
    return { kind: "unet", model: loadInto(model, tensors, ""), metadata };
  }
  if (metadata.kind === "t5") {
    const model = new T5Encoder(config as T5Config);
    return { kind: "t5", model: loadInto(model, tensors, ""), metadata };
  }
  if (metadata.kind === "cascade") {
    const c = createCascadeConfig(config as CascadeConfig);
    const tokenizer = options.tokenizer ?? await tokenizerFromDescription(c.tokenizer);
    const model = buildCascadeSync(c, tokenizer);
    try {
      model.textEncoder.loadWeights(tensors, { prefix: "text_encoder." });
      model.stages.forEach((s, i) => s.unet.loadWeights(tensors, { prefix: `stages.${i}.` }));
    } catch (e) {
      model.dispose();
      throw e;
    }
    return { kind: "cascade", model, metadata };
  }
  throw new SafetensorsError(`Cannot load '${path}' as its kind "${metadata.kind}" is unknown`);
}

function loadInto<M extends UNet | T5Encoder>(
  model: M,
  tensors: Map<string, NamedTensor>,
  prefix: string,
): M {
  try {
    model.loadWeights(tensors, { prefix });
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}
