/**
 * IF prompt embeddings from a T5 encoder folder read one layer at a time (so that T5-XXL encodes
 * without being held in memory), cached on disk by (encoder fingerprint, max length, prompt): the
 * text encoder is frozen in IF DreamBooth, so training and sampling reuse the cached embeddings.
 *
 * @module
 */
import {
  encodeT5Streaming,
  readSafetensors,
  type SentencePieceProcessor,
  t5ConfigFromHf,
  tf,
  writeSafetensors,
} from "./deps.ts";
import { readJsonFile } from "./diffusers_folder.ts";
import { ifPromptIds } from "./if_sampler.ts";
import { openDiffusersWeights } from "./sharded_weights.ts";
import { exists } from "./deps.ts";

/** Options of {@link encodeIFPromptsStreaming}. */
export interface EncodeIFPromptsStreamingOptions {
  /** Token length. Default 77 (IF's). */
  maxLength?: number;
  /** Folder of cached embeddings (created when missing); none: no cache. */
  cacheDir?: string;
  /** Weights variant (e.g. "fp16"). */
  variant?: string;
  /** Called with what happened to each prompt. */
  onPrompt?: (prompt: string, from: "cache" | "encoder") => void;
}

async function sha256Hex(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Encodes prompts with the T5 encoder in `textEncoderDir` (a transformers `T5EncoderModel` folder:
 * `config.json`, `model.safetensors` or shards with an index), streaming its layers, and caching
 * each prompt's `[L, D]` embedding as `<cacheDir>/<sha256>.safetensors`, keyed by the encoder's
 * fingerprint (`ShardedWeights.fingerprint`), the length and the prompt.
 *
 * @param textEncoderDir The encoder folder.
 * @param tokenizer T5's SentencePiece model.
 * @param prompts The prompts.
 * @param options See {@link EncodeIFPromptsStreamingOptions}.
 * @returns `[B, maxLength, dModel]`, owned by the caller.
 */
export async function encodeIFPromptsStreaming(
  textEncoderDir: string,
  tokenizer: SentencePieceProcessor,
  prompts: readonly string[],
  options: EncodeIFPromptsStreamingOptions = {},
): Promise<tf.Tensor3D> {
  const len = options.maxLength ?? 77;
  const config = t5ConfigFromHf(await readJsonFile(`${textEncoderDir}/config.json`), {
    maxLength: len,
  });
  using weights = await openDiffusersWeights(textEncoderDir, { variant: options.variant });
  const rows: (Float32Array | null)[] = prompts.map(() => null);
  const keys: string[] = [];
  if (options.cacheDir !== undefined) {
    await Deno.mkdir(options.cacheDir, { recursive: true });
    const fp = await weights.fingerprint();
    for (let i = 0; i < prompts.length; i++) {
      const key = await sha256Hex(`${fp}\0${len}\0${prompts[i].toLowerCase().trim()}`);
      keys.push(key);
      const path = `${options.cacheDir}/${key}.safetensors`;
      if (!(await exists(path))) continue;
      const t = (await readSafetensors(path)).tensors.get("prompt_embeds");
      if (t && t.shape.join() === `${len},${config.dModel}`) {
        rows[i] = t.data as Float32Array;
        options.onPrompt?.(prompts[i], "cache");
      }
    }
  }
  const missing = prompts.map((_, i) => i).filter((i) => rows[i] === null);
  if (missing.length > 0) {
    const { ids, mask } = ifPromptIds(tokenizer, missing.map((i) => prompts[i]), {
      maxLength: len,
    });
    const e = await encodeT5Streaming(weights, config, { ids, mask, batch: missing.length });
    const data = await e.tokens.data() as Float32Array;
    tf.dispose([e.tokens, e.pooled, e.mask]);
    const per = len * config.dModel;
    for (let k = 0; k < missing.length; k++) {
      const i = missing[k];
      rows[i] = data.slice(k * per, (k + 1) * per);
      options.onPrompt?.(prompts[i], "encoder");
      if (options.cacheDir !== undefined) {
        await writeSafetensors(`${options.cacheDir}/${keys[i]}.safetensors`, {
          prompt_embeds: { shape: [len, config.dModel], data: rows[i]! },
        }, { metadata: { prompt: prompts[i], encoder: textEncoderDir } });
      }
    }
  }
  const out = new Float32Array(prompts.length * len * config.dModel);
  rows.forEach((r, i) => out.set(r!, i * len * config.dModel));
  return tf.tensor3d(out, [prompts.length, len, config.dModel]);
}
