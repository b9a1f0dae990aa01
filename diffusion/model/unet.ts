/**
 * An Efficient-UNet-style denoiser (Saharia et al. 2022, Imagen, App. B) for both the base stage and
 * the super-resolution stages: residual blocks (GroupNorm, SiLU, scale-shift conditioning),
 * configurable widths and per-level depths (more blocks at low resolution), self-attention and
 * cross-attention to text tokens at chosen resolutions, a log-SNR embedding plus the pooled text
 * vector, and for SR stages the upsampled low-res image (concatenated) and its augmentation level.
 * A learned null condition replaces the text for classifier-free guidance. Every tensor has rank ≤ 4.
 *
 * @module
 */
import { tf, upsampleNearest } from "../deps.ts";
import { ParamStore } from "./_params.ts";
import {
  attention,
  avgPool2,
  conv2d,
  groupNorm,
  groupsFor,
  linear,
  maskBias,
  silu,
} from "./_layers.ts";
import type { TextEmbedding } from "./t5_encoder.ts";
import type { NamedTensor } from "../io/safetensors.ts";
import { type Prediction, PREDICTIONS } from "../process/prediction.ts";
import { type LoRAConfig, LoRASet, type LoRATarget } from "./lora.ts";
import { nonNegativeInt, oneOf, positiveInt } from "../_validate.ts";

/** The configuration of a {@link UNet}. */
export interface UNetConfig {
  /** Height = width of the images it denoises. Default 32. */
  readonly imageSize: number;
  /** Image channels in and out. Default 3. */
  readonly imageChannels: number;
  /** Base width. Default 64. */
  readonly channels: number;
  /** Width multiplier per level (level l runs at imageSize / 2^l). Default [1, 2, 2]. */
  readonly channelMult: readonly number[];
  /** Residual blocks per level (Efficient UNet puts more at low resolutions). Default [1, 2, 2]. */
  readonly numResBlocks: readonly number[];
  /** Resolutions with self-attention. Default [8]. */
  readonly attentionResolutions: readonly number[];
  /** Resolutions with cross-attention to the text tokens (needs textDim > 0). Default [16, 8]. */
  readonly crossAttentionResolutions: readonly number[];
  /** Channels per attention head. Default 32. */
  readonly headChannels: number;
  /** Width of the text embedding (0: unconditional). Default 64. */
  readonly textDim: number;
  /** Width of the log-SNR/text embedding (0: 4 × channels). Default 0. */
  readonly embedDim: number;
  /** GroupNorm groups (reduced to divide each width). Default 8. */
  readonly groups: number;
  /** What the network predicts. Default "v". */
  readonly prediction: Prediction;
  /**
   * Fixed sinusoidal coordinate channels concatenated to the input (CoordConv-style; 0 = none, else a
   * multiple of 4: sin/cos of x and y at doubling frequencies). Gives the convolutions absolute
   * position, which lets small models memorise quickly. Default 0.
   */
  readonly coordChannels: number;
  /** Super-resolution: channels of the upsampled low-res image concatenated to the input (0 = base model). Default 0. */
  readonly lowResChannels: number;
}

/** Defaults of {@link UNetConfig}. */
export const DEFAULT_UNET_CONFIG: UNetConfig = Object.freeze({
  imageSize: 32,
  imageChannels: 3,
  channels: 64,
  channelMult: Object.freeze([1, 2, 2]),
  numResBlocks: Object.freeze([1, 2, 2]),
  attentionResolutions: Object.freeze([8]),
  crossAttentionResolutions: Object.freeze([16, 8]),
  headChannels: 32,
  textDim: 64,
  embedDim: 0,
  groups: 8,
  prediction: "v" as Prediction,
  coordChannels: 0,
  lowResChannels: 0,
});

/**
 * Merges options over {@link DEFAULT_UNET_CONFIG} and validates them.
 *
 * @param options Any subset of {@link UNetConfig}.
 * @returns A new frozen config.
 *
 * @example
 * ```ts
 * import { createUNetConfig } from "./unet.ts";
 * console.log(createUNetConfig({ channels: 16 }).channelMult); // [ 1, 2, 2 ]
 * ```
 */
export function createUNetConfig(options: Partial<UNetConfig> = {}): UNetConfig {
  const c = { ...DEFAULT_UNET_CONFIG, ...options };
  const act = "create a UNet config";
  for (const k of ["imageSize", "imageChannels", "channels", "headChannels", "groups"] as const) {
    positiveInt(act, k, c[k]);
  }
  for (const k of ["textDim", "embedDim", "lowResChannels", "coordChannels"] as const) {
    nonNegativeInt(act, k, c[k]);
  }
  if (c.coordChannels % 4 !== 0) {
    throw new RangeError(
      `Cannot ${act} as 'coordChannels' must be a multiple of 4: current value is ${c.coordChannels}`,
    );
  }
  oneOf(act, "prediction", c.prediction, PREDICTIONS);
  if (!Array.isArray(c.channelMult) || c.channelMult.length === 0) {
    throw new RangeError(
      `Cannot ${act} as 'channelMult' must be a non-empty array: current value is ${
        JSON.stringify(c.channelMult)
      }`,
    );
  }
  c.channelMult.forEach((m, i) => positiveInt(act, `channelMult[${i}]`, m));
  if (!Array.isArray(c.numResBlocks) || c.numResBlocks.length !== c.channelMult.length) {
    throw new RangeError(
      `Cannot ${act} as 'numResBlocks' must have one entry per level (${c.channelMult.length}): current value is ${
        JSON.stringify(c.numResBlocks)
      }`,
    );
  }
  c.numResBlocks.forEach((m, i) => positiveInt(act, `numResBlocks[${i}]`, m));
  const div = 2 ** (c.channelMult.length - 1);
  if (c.imageSize % div !== 0) {
    throw new RangeError(
      `Cannot ${act} as 'imageSize' must be divisible by ${div} for ${c.channelMult.length} levels: current value is ${c.imageSize}`,
    );
  }
  return Object.freeze({
    ...c,
    channelMult: Object.freeze([...c.channelMult]),
    numResBlocks: Object.freeze([...c.numResBlocks]),
    attentionResolutions: Object.freeze([...c.attentionResolutions]),
    crossAttentionResolutions: Object.freeze([...c.crossAttentionResolutions]),
  });
}

/** The conditioning of one {@link UNet.apply} call. Tensors are borrowed. */
export interface UNetConditioning {
  /** λ_t of each example: `[B]`. */
  logSnr: tf.Tensor1D;
  /** The text condition (null: the learned null condition for every example). */
  text?: TextEmbedding | null;
  /** 1 keeps an example's text, 0 replaces it by the null condition: `[B]` (default all 1). */
  keep?: tf.Tensor1D | null;
  /** SR only: the low-res image upsampled to imageSize and noise-augmented: `[B, H, W, lowResChannels]`. */
  lowRes?: tf.Tensor4D | null;
  /** SR only: λ of the augmentation level t_aug of each example: `[B]`. */
  augLogSnr?: tf.Tensor1D | null;
}

type Block =
  | { kind: "res"; name: string; cin: number; cout: number }
  | { kind: "attn"; name: string; c: number; self: boolean; cross: boolean }
  | { kind: "down"; name: string; c: number }
  | { kind: "up"; name: string; c: number }
  | { kind: "push" }
  | { kind: "pop" };

/** A UNet denoiser; owns its weights (`dispose()`). */
export class UNet {
  /** The config it was built from. */
  readonly config: UNetConfig;
  /** Its parameters by name. */
  readonly params: ParamStore;
  readonly #blocks: Block[] = [];
  readonly #embedDim: number;
  #lora: LoRASet | null = null;

  /**
   * Builds a UNet with seeded initialisation.
   *
   * @param config Any subset of {@link UNetConfig} (merged over the defaults).
   * @param options `seed` (default 0); `dry` (default false: count parameters without allocating).
   *
   * @example
   * ```ts
   * import { initBackend } from "../../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { UNet } from "./unet.ts";
   * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1],
   *   attentionResolutions: [4], crossAttentionResolutions: [4], headChannels: 8, textDim: 8 });
   * console.log(net.numParams > 0); // true
   * ```
   */
  constructor(config: Partial<UNetConfig> = {}, options: { seed?: number; dry?: boolean } = {}) {
    const c = this.config = createUNetConfig(config);
    const p = this.params = new ParamStore(options.seed ?? 0, true, options.dry ?? false);
    const e = this.#embedDim = c.embedDim > 0 ? c.embedDim : 4 * c.channels;
    const lin = (name: string, i: number, o: number, zero = false) => {
      p.add(`${name}.weight`, [i, o], zero ? "zeros" : { std: 1 / Math.sqrt(i) });
      p.add(`${name}.bias`, [o], "zeros");
    };
    const conv = (name: string, i: number, o: number, k = 3, zero = false) => {
      p.add(`${name}.weight`, [k, k, i, o], zero ? "zeros" : { std: 1 / Math.sqrt(k * k * i) });
      p.add(`${name}.bias`, [o], "zeros");
    };
    const norm = (name: string, ch: number) => {
      p.add(`${name}.gamma`, [ch], "ones");
      p.add(`${name}.beta`, [ch], "zeros");
    };
    // Conditioning embeddings.
    lin("time.0", c.channels, e);
    lin("time.1", e, e);
    if (c.lowResChannels > 0) {
      lin("aug.0", c.channels, e);
      lin("aug.1", e, e);
    }
    if (c.textDim > 0) {
      lin("text.pooled", c.textDim, e);
      p.add("text.null_tokens", [1, 1, c.textDim], { std: 1 });
      p.add("text.null_pooled", [1, c.textDim], { std: 1 });
    }
    const res = (name: string, cin: number, cout: number) => {
      norm(`${name}.norm1`, cin);
      conv(`${name}.conv1`, cin, cout);
      lin(`${name}.emb`, e, 2 * cout);
      norm(`${name}.norm2`, cout);
      conv(`${name}.conv2`, cout, cout, 3, true);
      if (cin !== cout) conv(`${name}.skip`, cin, cout, 1);
      this.#blocks.push({ kind: "res", name, cin, cout });
    };
    const attn = (name: string, ch: number, resolution: number, mid = false) => {
      const self = mid || c.attentionResolutions.includes(resolution);
      const cross = c.textDim > 0 && (mid || c.crossAttentionResolutions.includes(resolution));
      if (!self && !cross) return;
      if (self) {
        norm(`${name}.self.norm`, ch);
        for (const k of ["q", "k", "v"]) lin(`${name}.self.${k}`, ch, ch);
        lin(`${name}.self.out`, ch, ch, true);
      }
      if (cross) {
        norm(`${name}.cross.norm`, ch);
        lin(`${name}.cross.q`, ch, ch);
        lin(`${name}.cross.k`, c.textDim, ch);
        lin(`${name}.cross.v`, c.textDim, ch);
        lin(`${name}.cross.out`, ch, ch, true);
      }
      this.#blocks.push({ kind: "attn", name, c: ch, self, cross });
    };
    conv(
      "input",
      c.imageChannels + c.lowResChannels + c.coordChannels,
      c.channels * c.channelMult[0],
    );
    let ch = c.channels * c.channelMult[0];
    let resolution = c.imageSize;
    const skipChannels: number[] = [ch];
    this.#blocks.push({ kind: "push" });
    const levels = c.channelMult.length;
    for (let l = 0; l < levels; l++) {
      const out = c.channels * c.channelMult[l];
      for (let j = 0; j < c.numResBlocks[l]; j++) {
        res(`down.${l}.${j}.res`, ch, out);
        ch = out;
        attn(`down.${l}.${j}.attn`, ch, resolution);
        skipChannels.push(ch);
        this.#blocks.push({ kind: "push" });
      }
      if (l < levels - 1) {
        conv(`down.${l}.downsample`, ch, ch);
        this.#blocks.push({ kind: "down", name: `down.${l}.downsample`, c: ch });
        resolution /= 2;
        skipChannels.push(ch);
        this.#blocks.push({ kind: "push" });
      }
    }
    res("mid.0.res", ch, ch);
    attn("mid.attn", ch, resolution, true);
    res("mid.1.res", ch, ch);
    for (let l = levels - 1; l >= 0; l--) {
      const out = c.channels * c.channelMult[l];
      for (let j = 0; j <= c.numResBlocks[l]; j++) {
        this.#blocks.push({ kind: "pop" });
        res(`up.${l}.${j}.res`, ch + skipChannels.pop()!, out);
        ch = out;
        attn(`up.${l}.${j}.attn`, ch, resolution);
      }
      if (l > 0) {
        conv(`up.${l}.upsample`, ch, ch);
        this.#blocks.push({ kind: "up", name: `up.${l}.upsample`, c: ch });
        resolution *= 2;
      }
    }
    norm("out.norm", ch);
    conv("out.conv", ch, c.imageChannels, 3, true);
  }

  /**
   * Parameter count of a config without allocating anything (works for billion-parameter configs).
   *
   * @param config Any subset of {@link UNetConfig}.
   * @returns The number of scalar parameters.
   *
   * @example
   * ```ts
   * import { UNet } from "./unet.ts";
   * console.log(UNet.countParams({ channels: 512, channelMult: [1, 2, 3, 4], numResBlocks: [3, 3, 3, 3], imageSize: 64 }) > 1e8); // true
   * ```
   */
  static countParams(config: Partial<UNetConfig> = {}): number {
    return new UNet(config, { dry: true }).params.count();
  }

  /** Number of scalar parameters. */
  get numParams(): number {
    return this.params.count();
  }

  /**
   * Runs the denoiser: its prediction (ε, x or v per `config.prediction`) for z_t.
   *
   * @param zt Noisy images `[B, H, W, imageChannels]` (borrowed).
   * @param cond The {@link UNetConditioning} (borrowed).
   * @returns The prediction `[B, H, W, imageChannels]`, owned by the caller.
   *
   * @example
   * ```ts
   * import { initBackend } from "../../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { tf } from "../deps.ts";
   * import { UNet } from "./unet.ts";
   * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1],
   *   attentionResolutions: [4], crossAttentionResolutions: [], headChannels: 8, textDim: 0 });
   * const y = net.apply(tf.zeros([2, 8, 8, 3]), { logSnr: tf.tensor1d([0, 1]) });
   * console.log(y.shape); // [ 2, 8, 8, 3 ]
   * ```
   */
  apply(zt: tf.Tensor4D, cond: UNetConditioning): tf.Tensor4D {
    const c = this.config;
    const [b, h, w, ch] = zt.shape;
    const div = 2 ** (c.channelMult.length - 1);
    // Fully convolutional: other sizes (e.g. SR crops) work unless coordinates pin the size.
    const sizeOk = c.coordChannels > 0
      ? h === c.imageSize && w === c.imageSize
      : h % div === 0 && w % div === 0;
    if (!sizeOk || ch !== c.imageChannels) {
      throw new RangeError(
        `Cannot apply the UNet as 'zt' must have shape [B, ${c.imageSize}, ${c.imageSize}, ${c.imageChannels}]${
          c.coordChannels > 0 ? "" : ` (or sides divisible by ${div})`
        }: current shape is [${zt.shape}]`,
      );
    }
    if (cond.logSnr.shape[0] !== b) {
      throw new RangeError(
        `Cannot apply the UNet as 'logSnr' must have ${b} values: current shape is [${cond.logSnr.shape}]`,
      );
    }
    if (c.lowResChannels > 0 && (!cond.lowRes || !cond.augLogSnr)) {
      throw new RangeError(
        `Cannot apply the UNet as a super-resolution UNet needs 'lowRes' and 'augLogSnr'`,
      );
    }
    const p = (n: string) => this.params.get(n);
    return tf.tidy(() => {
      // Conditioning vector [B, E].
      let emb = this.#mlp("time", this.#timestepEmbedding(cond.logSnr));
      if (c.lowResChannels > 0) {
        emb = tf.add(emb, this.#mlp("aug", this.#timestepEmbedding(cond.augLogSnr!)));
      }
      let context: { tokens: tf.Tensor3D; bias: tf.Tensor4D } | null = null;
      if (c.textDim > 0) {
        const { tokens, pooled, mask } = this.#mixNull(b, cond.text ?? null, cond.keep ?? null);
        emb = tf.add(emb, linear(pooled, p("text.pooled.weight"), p("text.pooled.bias")));
        context = { tokens, bias: maskBias(mask) };
      }
      const embAct = silu(emb);
      const inputs = [zt];
      if (c.lowResChannels > 0) inputs.push(cond.lowRes!);
      if (c.coordChannels > 0) {
        inputs.push(tf.broadcastTo(this.#coords(), [b, h, w, c.coordChannels]));
      }
      let x: tf.Tensor4D = inputs.length > 1 ? tf.concat(inputs, 3) : zt;
      x = conv2d(x, p("input.weight"), p("input.bias"));
      const cv = (name: string, h: tf.Tensor4D) => this.#conv(name, h);
      // Each block runs in its own tidy and superseded activations are freed at once, so that
      // large images (1024² SR) do not hold every intermediate until the end (tensors a gradient
      // needs are kept by the engine).
      const skips: tf.Tensor4D[] = [];
      const kept = new Set<tf.Tensor>([zt]);
      const replace = (next: tf.Tensor4D) => {
        if (!kept.has(x)) x.dispose();
        x = next;
      };
      for (const blk of this.#blocks) {
        switch (blk.kind) {
          case "push":
            skips.push(x);
            kept.add(x);
            break;
          case "pop": {
            const skip = skips.pop()!;
            const cur = x;
            replace(tf.tidy(() => tf.concat([cur, skip], 3)));
            kept.delete(skip);
            skip.dispose();
            break;
          }
          case "res": {
            const cur = x;
            replace(tf.tidy(() => this.#resBlock(blk.name, cur, embAct, blk.cin !== blk.cout)));
            break;
          }
          case "attn": {
            const cur = x;
            replace(tf.tidy(() => this.#attnBlock(blk.name, cur, blk.self, blk.cross, context)));
            break;
          }
          case "down": {
            const cur = x;
            replace(
              tf.tidy(() => cv(blk.name, avgPool2(cur))),
            );
            break;
          }
          case "up": {
            const cur = x;
            replace(
              tf.tidy(() => cv(blk.name, upsampleNearest(cur, 2))),
            );
            break;
          }
        }
      }
      const g = groupsFor(x.shape[3], c.groups);
      x = silu(groupNorm(x, p("out.norm.gamma"), p("out.norm.beta"), g));
      return conv2d(x, p("out.conv.weight"), p("out.conv.bias"));
    });
  }

  /**
   * Loads weights saved by {@link UNet.exportWeights}; a missing, extra or mis-shaped tensor throws
   * naming it.
   *
   * @param tensors Tensors by name.
   * @param options `prefix` (default "").
   * @returns Nothing.
   *
   * @example
   * ```ts
   * import { initBackend } from "../../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { UNet } from "./unet.ts";
   * const cfg = { imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 0 };
   * using a = new UNet(cfg, { seed: 1 });
   * using b = new UNet(cfg, { seed: 2 });
   * b.loadWeights(await a.exportWeights());
   * ```
   */
  loadWeights(tensors: Map<string, NamedTensor>, options: { prefix?: string } = {}): void {
    const prefix = options.prefix ?? "";
    const loraPrefix = `${prefix}lora.`;
    const base = new Map([...tensors].filter(([k]) => !k.startsWith(loraPrefix)));
    this.params.import(base, prefix, "the UNet");
    if (this.#lora) this.#lora.import(tensors, loraPrefix);
    else if (base.size !== tensors.size) {
      throw new RangeError(
        `Cannot load the UNet as the tensors hold LoRA adapters ('${loraPrefix}…') but none are attached (addLoRA)`,
      );
    }
  }

  /**
   * Copies the weights out.
   *
   * @param options `prefix` prepended to every name (default "").
   * @returns Tensors by name.
   *
   * @example
   * ```ts
   * import { initBackend } from "../../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { UNet } from "./unet.ts";
   * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 0 });
   * console.log((await net.exportWeights()).has("input.weight")); // true
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

  /** The trainable variables (for optimizers). */
  get variables(): tf.Variable[] {
    return [...this.params.vars.values()];
  }

  /** The attached LoRA adapters (null: none). */
  get lora(): LoRASet | null {
    return this.#lora;
  }

  /**
   * Attaches fresh LoRA adapters (see `LoRASet`) to the attention projections (q, k, v, out of
   * every self- and cross-attention) and, with `targets: "attn+conv"`, to the convolutions of the
   * residual blocks and the down/upsamplers. A trainer then trains only the adapters; the
   * exported weights carry them under `lora.` until {@link UNet.mergeLoRA}.
   *
   * @param options `config` (rank, alpha, targets), `seed` (default 0).
   * @returns The adapters (owned by the UNet).
   *
   * @example
   * ```ts
   * import { initBackend } from "../../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { UNet } from "./unet.ts";
   * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1],
   *   attentionResolutions: [4], crossAttentionResolutions: [], headChannels: 8, textDim: 0 });
   * console.log(net.addLoRA({ config: { rank: 2 } }).targets.size); // 8
   * ```
   */
  addLoRA(options: { config?: Partial<LoRAConfig>; seed?: number } = {}): LoRASet {
    const set = new LoRASet(this.#loraTargets(options.config?.targets ?? "attn"), options);
    this.removeLoRA();
    this.#lora = set;
    return set;
  }

  /** Detaches and frees the LoRA adapters (the base model again). */
  removeLoRA(): void {
    this.#lora?.dispose();
    this.#lora = null;
  }

  /**
   * Folds the adapters (at their current scale) into the base weights and detaches them: the
   * UNet then computes what the adapted one did, with no adapter.
   */
  mergeLoRA(): void {
    if (this.#lora === null) return;
    this.#lora.mergeInto(this.params);
    this.removeLoRA();
  }

  #loraTargets(targets: string): LoRATarget[] {
    const out: LoRATarget[] = [];
    const attn = /\.(self|cross)\.(q|k|v|out)\.weight$/;
    const conv = /(\.res\.(conv1|conv2|skip)|\.downsample|\.upsample)\.weight$/;
    for (const [name, v] of this.params.vars) {
      const layer = name.slice(0, -".weight".length);
      if (attn.test(name)) out.push({ name: layer, layout: "in-out", shape: v.shape });
      else if (targets === "attn+conv" && conv.test(name)) {
        out.push({ name: layer, layout: "conv", shape: v.shape });
      }
    }
    return out;
  }

  /** A linear layer plus its adapter, if any. */
  #linear(name: string, x: tf.Tensor): tf.Tensor {
    const y = linear(x, this.params.get(`${name}.weight`), this.params.get(`${name}.bias`));
    return this.#lora ? this.#lora.apply(name, x, y) : y;
  }

  /** A convolution plus its adapter, if any. */
  #conv(name: string, x: tf.Tensor4D): tf.Tensor4D {
    const y = conv2d(x, this.params.get(`${name}.weight`), this.params.get(`${name}.bias`));
    return this.#lora ? this.#lora.apply(name, x, y) : y;
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

  /** Sinusoidal embedding of the noise level, as u = (2/π)·atan(e^(−λ/2)) ∈ (0, 1) (t of the cosine schedule). */
  #timestepEmbedding(lambda: tf.Tensor1D): tf.Tensor2D {
    const half = this.config.channels / 2;
    const dim = this.config.channels;
    const freqs = new Float32Array(Math.floor(half));
    for (let k = 0; k < freqs.length; k++) freqs[k] = Math.exp(-Math.log(10000) * k / freqs.length);
    const u = tf.mul(2 / Math.PI, tf.atan(tf.exp(tf.mul(-0.5, lambda)))); // [B]
    const args = tf.mul(
      tf.reshape(tf.mul(u, 1000), [-1, 1]),
      tf.tensor2d(freqs, [1, freqs.length]),
    );
    let e = tf.concat([tf.sin(args), tf.cos(args)], 1) as tf.Tensor2D; // [B, 2·⌊C/2⌋]
    if (e.shape[1] < dim) e = tf.pad(e, [[0, 0], [0, dim - e.shape[1]]]);
    return e;
  }

  /** The coordinate channels `[1, H, W, coordChannels]`. */
  #coords(): tf.Tensor4D {
    const { imageSize: n, coordChannels: k } = this.config;
    const data = new Float32Array(n * n * k);
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const u = (x + 0.5) / n;
        const v = (y + 0.5) / n;
        for (let f = 0; f < k / 4; f++) {
          const w = Math.PI * 2 ** f;
          const at = (y * n + x) * k + 4 * f;
          data[at] = Math.sin(w * u);
          data[at + 1] = Math.cos(w * u);
          data[at + 2] = Math.sin(w * v);
          data[at + 3] = Math.cos(w * v);
        }
      }
    }
    return tf.tensor4d(data, [1, n, n, k]);
  }

  #mlp(name: string, x: tf.Tensor2D): tf.Tensor2D {
    const p = (n: string) => this.params.get(n);
    const h = silu(linear(x, p(`${name}.0.weight`), p(`${name}.0.bias`)));
    return linear(h, p(`${name}.1.weight`), p(`${name}.1.bias`)) as tf.Tensor2D;
  }

  /** Replaces the text of examples with keep = 0 by the learned null condition. */
  #mixNull(
    b: number,
    text: TextEmbedding | null,
    keep: tf.Tensor1D | null,
  ): { tokens: tf.Tensor3D; pooled: tf.Tensor2D; mask: tf.Tensor2D } {
    const d = this.config.textDim;
    const nullTokens = this.params.get("text.null_tokens"); // [1, 1, D]
    const nullPooled = this.params.get("text.null_pooled"); // [1, D]
    if (!text) {
      return {
        tokens: tf.broadcastTo(nullTokens, [b, 1, d]) as tf.Tensor3D,
        pooled: tf.broadcastTo(nullPooled, [b, d]) as tf.Tensor2D,
        mask: tf.ones([b, 1]) as tf.Tensor2D,
      };
    }
    if (text.tokens.shape[0] !== b || text.tokens.shape[2] !== d) {
      throw new RangeError(
        `Cannot apply the UNet as text tokens must have shape [${b}, L, ${d}]: current shape is [${text.tokens.shape}]`,
      );
    }
    if (!keep) return { tokens: text.tokens, pooled: text.pooled, mask: text.mask };
    const k3 = tf.reshape(keep, [b, 1, 1]);
    const k2 = tf.reshape(keep, [b, 1]);
    const drop3 = tf.sub(1, k3);
    const drop2 = tf.sub(1, k2);
    return {
      tokens: tf.add(tf.mul(text.tokens, k3), tf.mul(nullTokens, drop3)) as tf.Tensor3D,
      pooled: tf.add(tf.mul(text.pooled, k2), tf.mul(nullPooled, drop2)) as tf.Tensor2D,
      mask: tf.add(tf.mul(text.mask, k2), drop2) as tf.Tensor2D,
    };
  }

  #resBlock(name: string, x: tf.Tensor4D, embAct: tf.Tensor2D, project: boolean): tf.Tensor4D {
    const p = (n: string) => this.params.get(n);
    const g = this.config.groups;
    const cin = x.shape[3];
    let h = silu(
      groupNorm(x, p(`${name}.norm1.gamma`), p(`${name}.norm1.beta`), groupsFor(cin, g)),
    );
    h = this.#conv(`${name}.conv1`, h);
    const cout = h.shape[3];
    const ss = linear(embAct, p(`${name}.emb.weight`), p(`${name}.emb.bias`)); // [B, 2C]
    const b = x.shape[0];
    const scale = tf.reshape(tf.slice(ss, [0, 0], [b, cout]), [b, 1, 1, cout]);
    const shift = tf.reshape(tf.slice(ss, [0, cout], [b, cout]), [b, 1, 1, cout]);
    h = groupNorm(h, p(`${name}.norm2.gamma`), p(`${name}.norm2.beta`), groupsFor(cout, g));
    h = silu(tf.add(tf.mul(h, tf.add(1, scale)), shift)); // scale-shift norm (Dhariwal & Nichol 2021)
    h = this.#conv(`${name}.conv2`, h);
    const skip = project ? this.#conv(`${name}.skip`, x) : x;
    return tf.add(skip, h);
  }

  #attnBlock(
    name: string,
    x: tf.Tensor4D,
    self: boolean,
    cross: boolean,
    context: { tokens: tf.Tensor3D; bias: tf.Tensor4D } | null,
  ): tf.Tensor4D {
    const p = (n: string) => this.params.get(n);
    const [b, h, w, c] = x.shape;
    const heads = Math.max(1, Math.floor(c / this.config.headChannels));
    const g = groupsFor(c, this.config.groups);
    let out: tf.Tensor4D = x;
    if (self) {
      const n = tf.reshape(
        groupNorm(out, p(`${name}.self.norm.gamma`), p(`${name}.self.norm.beta`), g),
        [b, h * w, c],
      ); // [B, HW, C]
      const q = this.#linear(`${name}.self.q`, n);
      const k = this.#linear(`${name}.self.k`, n);
      const v = this.#linear(`${name}.self.v`, n);
      const a = attention(q, k, v, heads);
      const o = this.#linear(`${name}.self.out`, a);
      out = tf.add(out, tf.reshape(o, [b, h, w, c]));
    }
    if (cross && context) {
      const n = tf.reshape(
        groupNorm(out, p(`${name}.cross.norm.gamma`), p(`${name}.cross.norm.beta`), g),
        [b, h * w, c],
      );
      const q = this.#linear(`${name}.cross.q`, n);
      const k = this.#linear(`${name}.cross.k`, context.tokens);
      const v = this.#linear(`${name}.cross.v`, context.tokens);
      const a = attention(q, k, v, heads, { bias: context.bias });
      const o = this.#linear(`${name}.cross.out`, a);
      out = tf.add(out, tf.reshape(o, [b, h, w, c]));
    }
    return out;
  }
}
