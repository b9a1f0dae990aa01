/**
 * A T5-style text encoder (Raffel et al. 2020; v1.1 gated-GELU): token embedding, pre-norm blocks of
 * self-attention with shared relative-position buckets and a feed-forward layer, RMSNorm, any size
 * from a config. Its weights use Hugging Face's T5 encoder names and `[out, in]` layout, so that
 * t5-small / t5-v1_1 safetensors load directly.
 *
 * @module
 */
import { type HalfDType, tf } from "../deps.ts";
import { ParamStore } from "./_params.ts";
import { attention, geluTanh, linearT, maskBias, rmsNorm } from "./_layers.ts";
import { type LoRAConfig, LoRASet, type LoRATarget } from "./lora.ts";
import { relativePositionBucket } from "./relative_position_bucket.ts";
import type { NamedTensor } from "../io/safetensors.ts";
import type { TextTokenizer } from "../text/text_tokenizer.ts";
import { inRange, oneOf, positiveInt } from "../_validate.ts";

/** The configuration of a {@link T5Encoder} (HF `T5Config` names in camelCase). */
export interface T5Config {
  /** Embedding table size. Default 32128 (T5's). */
  readonly vocabSize: number;
  /** Model width. Default 512. */
  readonly dModel: number;
  /** Width of each attention head. Default 64. */
  readonly dKv: number;
  /** Number of heads. Default 8. */
  readonly numHeads: number;
  /** Feed-forward width. Default 1024. */
  readonly dFf: number;
  /** Number of blocks. Default 8. */
  readonly numLayers: number;
  /** Relative-position buckets. Default 32. */
  readonly relativeAttentionNumBuckets: number;
  /** Relative-position max distance. Default 128. */
  readonly relativeAttentionMaxDistance: number;
  /** RMSNorm epsilon. Default 1e-6. */
  readonly layerNormEpsilon: number;
  /** `gated-gelu` (v1.1: wi_0, wi_1) or `relu` (original t5-small: wi). Default `gated-gelu`. */
  readonly feedForwardProj: "gated-gelu" | "relu";
  /** The fixed token length prompts are encoded to. Default 32. */
  readonly maxLength: number;
}

/** Defaults: the shape of t5-v1_1-small. */
export const DEFAULT_T5_CONFIG: T5Config = Object.freeze({
  vocabSize: 32128,
  dModel: 512,
  dKv: 64,
  numHeads: 6,
  dFf: 1024,
  numLayers: 8,
  relativeAttentionNumBuckets: 32,
  relativeAttentionMaxDistance: 128,
  layerNormEpsilon: 1e-6,
  feedForwardProj: "gated-gelu",
  maxLength: 32,
});

/**
 * Merges options over {@link DEFAULT_T5_CONFIG} and validates them.
 *
 * @param options Any subset of {@link T5Config}.
 * @returns A new frozen config.
 *
 * @example
 * ```ts
 * import { createT5Config } from "./t5_encoder.ts";
 * console.log(createT5Config({ dModel: 64 }).dModel); // 64
 * ```
 */
export function createT5Config(options: Partial<T5Config> = {}): T5Config {
  const c = { ...DEFAULT_T5_CONFIG, ...options };
  const act = "create a T5 config";
  for (
    const k of [
      "vocabSize",
      "dModel",
      "dKv",
      "numHeads",
      "dFf",
      "numLayers",
      "relativeAttentionNumBuckets",
      "relativeAttentionMaxDistance",
      "maxLength",
    ] as const
  ) positiveInt(act, k, c[k]);
  inRange(act, "layerNormEpsilon", c.layerNormEpsilon, 0, 1);
  oneOf(act, "feedForwardProj", c.feedForwardProj, ["gated-gelu", "relu"] as const);
  return Object.freeze(c);
}

/** What a text encoder gives the UNets. Tensors are owned by whoever received the object. */
export interface TextEmbedding {
  /** Token embeddings, the cross-attention keys: `[B, L, D]`. */
  tokens: tf.Tensor3D;
  /** Mean of the valid token embeddings: `[B, D]`. */
  pooled: tf.Tensor2D;
  /** 1 for real tokens, 0 for padding: `[B, L]` float32. */
  mask: tf.Tensor2D;
}

/**
 * Frees the tensors of a {@link TextEmbedding}.
 *
 * @param e The embedding.
 * @returns Nothing.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { tf } from "../deps.ts";
 * import { disposeTextEmbedding } from "./t5_encoder.ts";
 * disposeTextEmbedding({ tokens: tf.zeros([1, 1, 1]), pooled: tf.zeros([1, 1]), mask: tf.ones([1, 1]) });
 * ```
 */
export function disposeTextEmbedding(e: TextEmbedding): void {
  e.tokens.dispose();
  e.pooled.dispose();
  e.mask.dispose();
}

const IGNORED = /^(decoder\.|lm_head\.|encoder\.embed_tokens\.weight$)/;

/** A T5 encoder; owns its weights (`dispose()`). */
export class T5Encoder {
  /** The config it was built from. */
  readonly config: T5Config;
  /** Its parameters by HF name. */
  readonly params: ParamStore;
  #lora: LoRASet | null = null;

  /**
   * Builds an encoder with T5's initialisation, seeded.
   *
   * @param config Any subset of {@link T5Config} (merged over the defaults).
   * @param options `seed` (default 0), `trainable` (default false: frozen, as in the paper).
   *
   * @example
   * ```ts
   * import { initBackend } from "../../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { T5Encoder } from "./t5_encoder.ts";
   * using enc = new T5Encoder({ vocabSize: 10, dModel: 8, dKv: 4, numHeads: 2, dFf: 16, numLayers: 1 });
   * console.log(enc.numParams); // 808
   * ```
   */
  constructor(
    config: Partial<T5Config> = {},
    options: { seed?: number; trainable?: boolean } = {},
  ) {
    const c = this.config = createT5Config(config);
    const p = this.params = new ParamStore(options.seed ?? 0, options.trainable ?? false);
    const inner = c.numHeads * c.dKv;
    p.add("shared.weight", [c.vocabSize, c.dModel], { std: 1 });
    for (let i = 0; i < c.numLayers; i++) {
      const a = `encoder.block.${i}.layer.0.`;
      p.add(`${a}SelfAttention.q.weight`, [inner, c.dModel], { std: (c.dModel * c.dKv) ** -0.5 });
      p.add(`${a}SelfAttention.k.weight`, [inner, c.dModel], { std: c.dModel ** -0.5 });
      p.add(`${a}SelfAttention.v.weight`, [inner, c.dModel], { std: c.dModel ** -0.5 });
      p.add(`${a}SelfAttention.o.weight`, [c.dModel, inner], { std: inner ** -0.5 });
      if (i === 0) {
        p.add(`${a}SelfAttention.relative_attention_bias.weight`, [
          c.relativeAttentionNumBuckets,
          c.numHeads,
        ], { std: c.dModel ** -0.5 });
      }
      p.add(`${a}layer_norm.weight`, [c.dModel], "ones");
      const f = `encoder.block.${i}.layer.1.`;
      if (c.feedForwardProj === "gated-gelu") {
        p.add(`${f}DenseReluDense.wi_0.weight`, [c.dFf, c.dModel], { std: c.dModel ** -0.5 });
        p.add(`${f}DenseReluDense.wi_1.weight`, [c.dFf, c.dModel], { std: c.dModel ** -0.5 });
      } else {
        p.add(`${f}DenseReluDense.wi.weight`, [c.dFf, c.dModel], { std: c.dModel ** -0.5 });
      }
      p.add(`${f}DenseReluDense.wo.weight`, [c.dModel, c.dFf], { std: c.dFf ** -0.5 });
      p.add(`${f}layer_norm.weight`, [c.dModel], "ones");
    }
    p.add("encoder.final_layer_norm.weight", [c.dModel], "ones");
  }

  /** Number of scalar parameters. */
  get numParams(): number {
    return this.params.count();
  }

  /** Whether the weights are stored in 16 bits ({@link T5Encoder.storeHalf}): frozen. */
  get isHalf(): boolean {
    return this.params.halves.size > 0;
  }

  /**
   * Re-stores the weights in 16 bits (bfloat16 or float16), frozen, widened to float32 per block
   * while encoding: the encoder then costs half its float32 bytes (`tf.memory().numBytes`), and
   * its outputs change by the rounding of the weights (≈0.4 % relative for bfloat16, ≈0.05 % for
   * float16). A half encoder cannot be trained (`trainTextEncoder`); export and load still work.
   *
   * @param dtype `bfloat16` (default; float32's range) or `float16`.
   * @returns Nothing, once the float32 weights are freed.
   *
   * @example
   * ```ts
   * import { initBackend, tf } from "../deps.ts";
   * await initBackend({ quiet: true });
   * import { T5Encoder } from "./t5_encoder.ts";
   * using enc = new T5Encoder({ vocabSize: 10, dModel: 8, dKv: 4, numHeads: 2, dFf: 16, numLayers: 1 });
   * const before = tf.memory().numBytes;
   * await enc.storeHalf("bfloat16");
   * console.log(before - tf.memory().numBytes === enc.numParams * 2); // true
   * ```
   */
  async storeHalf(dtype: HalfDType = "bfloat16"): Promise<void> {
    if (dtype !== "bfloat16" && dtype !== "float16") {
      throw new RangeError(
        `Cannot store the T5 encoder in 16 bits as 'dtype' must be bfloat16 or float16: current value is ${
          JSON.stringify(dtype)
        }`,
      );
    }
    await this.params.storeHalf(dtype);
  }

  /**
   * Encodes token ids.
   *
   * @param ids `[B·L]` token ids, row-major (each row one prompt).
   * @param mask `[B·L]`, 1 for real tokens.
   * @param options `batch` (B; default 1).
   * @returns A {@link TextEmbedding} owned by the caller.
   *
   * @example
   * ```ts
   * import { initBackend } from "../../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { T5Encoder } from "./t5_encoder.ts";
   * using enc = new T5Encoder({ vocabSize: 10, dModel: 8, dKv: 4, numHeads: 2, dFf: 16, numLayers: 1 });
   * const e = enc.encode(new Int32Array([5, 1, 0]), new Uint8Array([1, 1, 0]));
   * console.log(e.tokens.shape, e.pooled.shape); // [ 1, 3, 8 ] [ 1, 8 ]
   * e.tokens.dispose(); e.pooled.dispose(); e.mask.dispose();
   * ```
   */
  encode(ids: Int32Array, mask: Uint8Array, options: { batch?: number } = {}): TextEmbedding {
    const c = this.config;
    const b = positiveInt("encode text", "batch", options.batch ?? 1);
    if (ids.length % b !== 0 || mask.length !== ids.length) {
      throw new RangeError(
        `Cannot encode text as 'ids' (${ids.length}) and 'mask' (${mask.length}) must both hold ${b} rows of equal length`,
      );
    }
    const len = ids.length / b;
    for (const id of ids) {
      if (id < 0 || id >= c.vocabSize) {
        throw new RangeError(
          `Cannot encode text as token id ${id} is outside the vocabulary [0, ${c.vocabSize})`,
        );
      }
    }
    // A parameter for one op: the variable, or a 16-bit weight widened for this scope only.
    const p = (n: string) => this.params.tensor(n);
    const buckets = t5Buckets(len, c);
    return tf.tidy(() => {
      const maskF = tf.tensor2d(Float32Array.from(mask), [b, len]); // [B, L]
      let h = tf.reshape(tf.gather(p("shared.weight"), tf.tensor1d(ids, "int32")), [
        b,
        len,
        c.dModel,
      ]) as tf.Tensor3D; // [B, L, D]
      const bias = t5AttentionBias(
        p("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"),
        buckets,
        maskF,
        c,
      );
      for (let i = 0; i < c.numLayers; i++) {
        // One scope per block: widened 16-bit weights and the block's temporaries go at its end.
        const prev = h;
        h = tf.tidy(() => t5Block(prev, bias, i, p, c, this.#lora));
      }
      const e = t5Final(h, p("encoder.final_layer_norm.weight"), maskF, c);
      return { tokens: e.tokens, pooled: e.pooled, mask: e.mask };
    });
  }

  /**
   * Tokenizes and encodes prompts.
   *
   * @param tokenizer Any {@link TextTokenizer} whose ids fit the vocabulary.
   * @param prompts The prompts (B of them).
   * @returns A {@link TextEmbedding} with L = `config.maxLength`, owned by the caller.
   *
   * @example
   * ```ts
   * import { initBackend } from "../../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { T5Encoder } from "./t5_encoder.ts";
   * import { WordTokenizer } from "../text/word_tokenizer.ts";
   * using enc = new T5Encoder({ vocabSize: 10, dModel: 8, dKv: 4, numHeads: 2, dFf: 16, numLayers: 1, maxLength: 4 });
   * const e = enc.encodePrompts(new WordTokenizer(["dog"]), ["a dog", "dog"]);
   * console.log(e.tokens.shape); // [ 2, 4, 8 ]
   * e.tokens.dispose(); e.pooled.dispose(); e.mask.dispose();
   * ```
   */
  encodePrompts(tokenizer: TextTokenizer, prompts: readonly string[]): TextEmbedding {
    const len = this.config.maxLength;
    if (tokenizer.vocabSize > this.config.vocabSize) {
      throw new RangeError(
        `Cannot encode prompts as the tokenizer's vocabulary (${tokenizer.vocabSize}) is larger than the encoder's 'vocabSize' (${this.config.vocabSize})`,
      );
    }
    const ids = new Int32Array(prompts.length * len);
    const mask = new Uint8Array(prompts.length * len);
    prompts.forEach((text, i) => {
      const e = tokenizer.encodeFixed(text, len);
      ids.set(e.ids, i * len);
      mask.set(e.mask, i * len);
    });
    return this.encode(ids, mask, { batch: prompts.length });
  }

  /**
   * Loads weights with Hugging Face T5 names (decoder and `lm_head` tensors of a full T5 file are
   * ignored). A missing tensor, an unexpected `encoder.*` tensor or a shape mismatch throws a
   * RangeError naming the tensor.
   *
   * @param tensors Tensors by name (e.g. `readSafetensors(path).tensors`).
   * @param options `prefix` prepended to every name (default "").
   * @returns Nothing.
   *
   * @example
   * ```ts
   * import { initBackend } from "../../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { T5Encoder } from "./t5_encoder.ts";
   * const cfg = { vocabSize: 10, dModel: 8, dKv: 4, numHeads: 2, dFf: 16, numLayers: 1 };
   * using a = new T5Encoder(cfg, { seed: 1 });
   * using b = new T5Encoder(cfg, { seed: 2 });
   * b.loadWeights(await a.exportWeights());
   * ```
   */
  loadWeights(tensors: Map<string, NamedTensor>, options: { prefix?: string } = {}): void {
    const prefix = options.prefix ?? "";
    const relevant = new Map<string, NamedTensor>();
    for (const [k, v] of tensors) {
      if (!k.startsWith(prefix)) continue;
      if (IGNORED.test(k.slice(prefix.length))) continue;
      relevant.set(k, v);
    }
    // Some exports keep the tied embedding only as encoder.embed_tokens.weight.
    const tied = tensors.get(`${prefix}encoder.embed_tokens.weight`);
    if (!relevant.has(`${prefix}shared.weight`) && tied) {
      relevant.set(`${prefix}shared.weight`, tied);
    }
    const loraPrefix = `${prefix}lora.`;
    const base = new Map([...relevant].filter(([k]) => !k.startsWith(loraPrefix)));
    this.params.import(base, prefix, "the T5 encoder");
    if (this.#lora) this.#lora.import(relevant, loraPrefix);
    else if (base.size !== relevant.size) {
      throw new RangeError(
        `Cannot load the T5 encoder as the tensors hold LoRA adapters ('${loraPrefix}…') but none are attached (addLoRA)`,
      );
    }
  }

  /**
   * Copies the weights out with HF names.
   *
   * @param options `prefix` prepended to every name (default "").
   * @returns Tensors by name.
   *
   * @example
   * ```ts
   * import { initBackend } from "../../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { T5Encoder } from "./t5_encoder.ts";
   * using enc = new T5Encoder({ vocabSize: 10, dModel: 8, dKv: 4, numHeads: 2, dFf: 16, numLayers: 1 });
   * console.log((await enc.exportWeights()).has("shared.weight")); // true
   * ```
   */
  async exportWeights(options: { prefix?: string } = {}): Promise<Map<string, NamedTensor>> {
    const prefix = options.prefix ?? "";
    const out = await this.params.export(prefix);
    if (this.#lora) {
      for (const [k, v] of await this.#lora.export(`${prefix}lora.`)) {
        out.set(k, v);
      }
    }
    return out;
  }

  /** The attached LoRA adapters (null: none). */
  get lora(): LoRASet | null {
    return this.#lora;
  }

  /**
   * Attaches fresh LoRA adapters (see `LoRASet`) to the self-attention projections q, k, v, o of
   * every block (diffusers' text-encoder LoRA targets); a trainer then trains only them. The
   * exported weights carry them under `lora.` until {@link T5Encoder.mergeLoRA}.
   *
   * @param options `config` (rank, alpha; `targets` must be "attn"), `seed` (default 0).
   * @returns The adapters (owned by the encoder).
   *
   * @example
   * ```ts
   * import { initBackend } from "../../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { T5Encoder } from "./t5_encoder.ts";
   * using enc = new T5Encoder({ vocabSize: 10, dModel: 8, dKv: 4, numHeads: 2, dFf: 16, numLayers: 1 });
   * console.log(enc.addLoRA({ config: { rank: 2 } }).targets.size); // 4
   * ```
   */
  addLoRA(options: { config?: Partial<LoRAConfig>; seed?: number } = {}): LoRASet {
    if (this.isHalf) {
      throw new RangeError(`Cannot add LoRA to the T5 encoder as it is stored in 16 bits`);
    }
    const targets: LoRATarget[] = [];
    for (const [name, v] of this.params.vars) {
      if (/\.SelfAttention\.(q|k|v|o)\.weight$/.test(name)) {
        targets.push({ name: name.slice(0, -".weight".length), layout: "out-in", shape: v.shape });
      }
    }
    const set = new LoRASet(targets, {
      ...options,
      config: { ...options.config, targets: "attn" },
    });
    this.removeLoRA();
    this.#lora = set;
    return set;
  }

  /** Detaches and frees the LoRA adapters. */
  removeLoRA(): void {
    this.#lora?.dispose();
    this.#lora = null;
  }

  /** Folds the adapters (at their current scale) into the base weights and detaches them. */
  mergeLoRA(): void {
    if (this.#lora === null) return;
    this.#lora.mergeInto(this.params);
    this.removeLoRA();
  }

  /** Frees the weights. */
  dispose(): void {
    this.params.dispose();
    this.removeLoRA();
  }

  /** Frees the weights (`using`). */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Relative-position buckets of an L-token encoder input, `[L·L]` row-major (query, memory). */
function t5Buckets(len: number, c: T5Config): Int32Array {
  const b = new Int32Array(len * len);
  const opts = {
    bidirectional: true,
    numBuckets: c.relativeAttentionNumBuckets,
    maxDistance: c.relativeAttentionMaxDistance,
  };
  for (let q = 0; q < len; q++) {
    for (let m = 0; m < len; m++) b[q * len + m] = relativePositionBucket(m - q, opts);
  }
  return b;
}

/** Layer 0's position bias (shared by every layer) plus the key mask: `[B, H, L, L]`. */
function t5AttentionBias(
  table: tf.Tensor,
  buckets: Int32Array,
  maskF: tf.Tensor2D,
  c: T5Config,
): tf.Tensor {
  const len = maskF.shape[1];
  const rel = tf.gather(table, tf.tensor1d(buckets, "int32")); // [L·L, H]
  const posBias = tf.reshape(tf.transpose(tf.reshape(rel, [len, len, c.numHeads]), [2, 0, 1]), [
    1,
    c.numHeads,
    len,
    len,
  ]);
  return tf.add(posBias, maskBias(maskF));
}

/** One pre-norm encoder block: self-attention (no q·k scaling) then the feed-forward layer. */
function t5Block(
  h: tf.Tensor3D,
  bias: tf.Tensor,
  i: number,
  p: (name: string) => tf.Tensor,
  c: T5Config,
  lora: LoRASet | null = null,
): tf.Tensor3D {
  const a = `encoder.block.${i}.layer.0.`;
  // A self-attention projection plus its LoRA adapter, if any.
  const proj = (x: tf.Tensor, name: string) => {
    const y = linearT(x, p(`${a}SelfAttention.${name}.weight`));
    return lora ? lora.apply(`${a}SelfAttention.${name}`, x, y) : y;
  };
  const n1 = rmsNorm(h, p(`${a}layer_norm.weight`), c.layerNormEpsilon);
  const q = proj(n1, "q");
  const k = proj(n1, "k");
  const v = proj(n1, "v");
  // T5 does not scale q·k by 1/√d (folded into the initialisation).
  const att = attention(q, k, v, c.numHeads, { scale: 1, bias });
  h = tf.add(h, proj(att, "o"));
  const f = `encoder.block.${i}.layer.1.DenseReluDense.`;
  const n2 = rmsNorm(h, p(`encoder.block.${i}.layer.1.layer_norm.weight`), c.layerNormEpsilon);
  const hidden = c.feedForwardProj === "gated-gelu"
    ? tf.mul(geluTanh(linearT(n2, p(`${f}wi_0.weight`))), linearT(n2, p(`${f}wi_1.weight`)))
    : tf.relu(linearT(n2, p(`${f}wi.weight`)));
  return tf.add(h, linearT(hidden, p(`${f}wo.weight`)));
}

/** The final RMSNorm and the masked mean (pooled). */
function t5Final(
  h: tf.Tensor3D,
  finalNorm: tf.Tensor,
  maskF: tf.Tensor2D,
  c: T5Config,
): TextEmbedding {
  const [b, len] = maskF.shape;
  const tokens = rmsNorm(h, finalNorm, c.layerNormEpsilon) as tf.Tensor3D;
  const m3 = tf.reshape(maskF, [b, len, 1]);
  const pooled = tf.div(tf.sum(tf.mul(tokens, m3), 1), tf.maximum(tf.sum(m3, 1), 1)) as tf.Tensor2D;
  return { tokens, pooled, mask: maskF };
}

/** Where a T5 encoder's weights come from one tensor at a time (e.g. open safetensors shards). */
export interface T5WeightSource {
  /** Reads a whole tensor by its HF name. */
  read(name: string): Promise<NamedTensor>;
  /** Reads rows of a tensor (the embedding rows of the prompt's ids). */
  readRows(name: string, rows: ArrayLike<number>): Promise<NamedTensor>;
  /** Whether the source holds a tensor. */
  has(name: string): boolean;
}

/**
 * Encodes token ids with a T5 encoder read layer by layer from `source`: only the embedding rows
 * of the ids and one block's weights (widened to float32) are held at a time, so an encoder
 * larger than memory (T5-XXL: 4.7 B parameters, 9.5 GB in bf16) encodes a prompt. The same
 * math as {@link T5Encoder.encode}.
 *
 * @param source The weights by HF name.
 * @param config The encoder's config (e.g. from `t5ConfigFromHf`).
 * @param ids `[B·L]` token ids, `mask` `[B·L]` (1 = real token), `batch` B (default 1).
 * @returns A {@link TextEmbedding} owned by the caller.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { encodeT5Streaming, T5Encoder } from "./t5_encoder.ts";
 * const cfg = { vocabSize: 10, dModel: 8, dKv: 4, numHeads: 2, dFf: 16, numLayers: 2 };
 * using enc = new T5Encoder(cfg, { seed: 1 });
 * const w = await enc.exportWeights();
 * const source = {
 *   read: (n: string) => Promise.resolve(w.get(n)!),
 *   readRows: (n: string, rows: ArrayLike<number>) => {
 *     const t = w.get(n)!, d = t.shape[1];
 *     const data = new Float32Array(rows.length * d);
 *     Array.from(rows).forEach((r, i) => data.set((t.data as Float32Array).subarray(r * d, (r + 1) * d), i * d));
 *     return Promise.resolve({ shape: [rows.length, d], data });
 *   },
 *   has: (n: string) => w.has(n),
 * };
 * const e = await encodeT5Streaming(source, enc.config, { ids: new Int32Array([5, 1]), mask: new Uint8Array([1, 1]) });
 * console.log(e.tokens.shape); // [ 1, 2, 8 ]
 * e.tokens.dispose(); e.pooled.dispose(); e.mask.dispose();
 * ```
 */
export async function encodeT5Streaming(
  source: T5WeightSource,
  config: Partial<T5Config>,
  input: { ids: Int32Array; mask: Uint8Array; batch?: number },
): Promise<TextEmbedding> {
  const c = createT5Config(config);
  const { ids, mask } = input;
  const b = positiveInt("encode text", "batch", input.batch ?? 1);
  if (ids.length % b !== 0 || mask.length !== ids.length) {
    throw new RangeError(
      `Cannot encode text as 'ids' (${ids.length}) and 'mask' (${mask.length}) must both hold ${b} rows of equal length`,
    );
  }
  const len = ids.length / b;
  const load = async (name: string) => {
    const t = await source.read(name);
    return tf.tensor(t.data as Float32Array, t.shape);
  };
  const embName = source.has("shared.weight") ? "shared.weight" : "encoder.embed_tokens.weight";
  const unique = [...new Set(ids)];
  for (const id of unique) {
    if (id < 0 || id >= c.vocabSize) {
      throw new RangeError(
        `Cannot encode text as token id ${id} is outside the vocabulary [0, ${c.vocabSize})`,
      );
    }
  }
  const rows = await source.readRows(embName, unique);
  const where = new Map(unique.map((id, i) => [id, i]));
  const table = tf.tensor2d(rows.data as Float32Array, [unique.length, c.dModel]);
  const relTable = await load(
    "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
  );
  const maskF = tf.tensor2d(Float32Array.from(mask), [b, len]);
  let h = tf.tidy(() =>
    tf.reshape(
      tf.gather(table, tf.tensor1d(Int32Array.from(ids, (id) => where.get(id)!), "int32")),
      [
        b,
        len,
        c.dModel,
      ],
    )
  ) as tf.Tensor3D;
  const bias = tf.tidy(() => t5AttentionBias(relTable, t5Buckets(len, c), maskF, c));
  tf.dispose([table, relTable]);
  try {
    for (let i = 0; i < c.numLayers; i++) {
      const names = [
        `encoder.block.${i}.layer.0.layer_norm.weight`,
        ...["q", "k", "v", "o"].map((x) => `encoder.block.${i}.layer.0.SelfAttention.${x}.weight`),
        `encoder.block.${i}.layer.1.layer_norm.weight`,
        ...(c.feedForwardProj === "gated-gelu" ? ["wi_0", "wi_1", "wo"] : ["wi", "wo"]).map((x) =>
          `encoder.block.${i}.layer.1.DenseReluDense.${x}.weight`
        ),
      ];
      const layer = new Map<string, tf.Tensor>();
      try {
        for (const n of names) layer.set(n, await load(n));
        const prev = h;
        h = tf.tidy(() => t5Block(prev, bias, i, (n) => layer.get(n)!, c));
        prev.dispose();
      } finally {
        tf.dispose([...layer.values()]);
      }
    }
    const finalNorm = await load("encoder.final_layer_norm.weight");
    const out = tf.tidy(() => {
      const e = t5Final(h, finalNorm, maskF, c);
      return { tokens: e.tokens, pooled: e.pooled, mask: tf.clone(maskF) as tf.Tensor2D };
    });
    finalNorm.dispose();
    return out;
  } finally {
    tf.dispose([h, bias, maskF]);
  }
}
