/**
 * Reads a Hugging Face T5 `config.json` into a {@link T5Config}, so that t5-small / t5-v1_1 /
 * flan-t5 encoder weights can be loaded with the right shape.
 *
 * @module
 */
import { createT5Config, type T5Config } from "./t5_encoder.ts";

/**
 * Maps HF's `config.json` fields (`vocab_size`, `d_model`, `d_kv`, `num_heads`, `d_ff`,
 * `num_layers`, `relative_attention_num_buckets`, `relative_attention_max_distance`,
 * `layer_norm_epsilon`, `feed_forward_proj`) to a {@link T5Config}. `feed_forward_proj` "gated-gelu"
 * (v1.1, flan) gives wi_0/wi_1; "relu" (original T5) gives wi.
 *
 * @param hf The parsed `config.json`.
 * @param options `maxLength` (default 32): the fixed prompt length (not in HF's config).
 * @returns A validated config.
 *
 * @example
 * ```ts
 * import { t5ConfigFromHf } from "./t5_config_from_hf.ts";
 * const c = t5ConfigFromHf({ vocab_size: 32128, d_model: 512, d_kv: 64, num_heads: 8, d_ff: 2048,
 *   num_layers: 6, feed_forward_proj: "relu" });
 * console.log(c.feedForwardProj, c.dFf); // "relu" 2048
 * ```
 */
export function t5ConfigFromHf(
  hf: Record<string, unknown>,
  options: { maxLength?: number } = {},
): T5Config {
  if (hf === null || typeof hf !== "object") {
    throw new TypeError(`Cannot read a T5 config as 'hf' must be the parsed config.json object`);
  }
  const ff = String(hf.feed_forward_proj ?? "relu");
  const feedForwardProj = ff === "gated-gelu" || ff === "gated-gelu_new"
    ? "gated-gelu"
    : ff === "relu"
    ? "relu"
    : null;
  if (!feedForwardProj) {
    throw new RangeError(
      `Cannot read a T5 config as 'feed_forward_proj' must be "gated-gelu" or "relu": current value is ${
        JSON.stringify(ff)
      }`,
    );
  }
  const num = (k: string, fallback?: number) => (hf[k] ?? fallback) as number;
  return createT5Config({
    vocabSize: num("vocab_size"),
    dModel: num("d_model"),
    dKv: num("d_kv"),
    numHeads: num("num_heads"),
    dFf: num("d_ff"),
    numLayers: num("num_layers"),
    relativeAttentionNumBuckets: num("relative_attention_num_buckets", 32),
    relativeAttentionMaxDistance: num("relative_attention_max_distance", 128),
    layerNormEpsilon: num("layer_norm_epsilon", 1e-6),
    feedForwardProj,
    maxLength: options.maxLength ?? 32,
  });
}
