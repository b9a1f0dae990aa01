/**
 * DeepFloyd IF's UNet (diffusers' `UNet2DConditionModel` with IF's blocks) in tfjs: ResNets with
 * scale-shift time conditioning that also down- and upsample, attention layers whose keys and
 * values also come from the text (added-KV cross-attention), the attention-pooled text added to
 * the time embedding, stage II's noise-level conditioning, and a 6-channel output (ε and the
 * learned-range variance interpolation). Weights keep diffusers' tensor names.
 *
 * @module
 */
import { loraLinearDelta, type NamedTensor, tf, upsampleNearest } from "./deps.ts";
import {
  activate,
  avgPool2,
  conv,
  groupNormOf,
  layerNorm,
  linear,
  multiHeadAttention,
  weight,
  type Weights,
} from "./_nn.ts";
import { type IFUNetConfig, ifUNetConfigFromDiffusers } from "./if_unet_config.ts";

/** Conditioning of one {@link IFUNet} call. */
export interface IFUNetInputs {
  /** Diffusion timesteps, one per example (integers in [0, 1000) for IF). */
  timesteps: ArrayLike<number>;
  /** Text-encoder outputs `[B, L, encoderHidDim]` (T5 v1.1 hidden states for IF). */
  encoderHiddenStates: tf.Tensor3D;
  /** Stage II: the noise-augmentation level of the upscaled low-res image, one per example. */
  classLabels?: ArrayLike<number>;
}

/**
 * The sinusoidal timestep embedding of DDPM as diffusers computes it (`get_timestep_embedding`,
 * float32): frequencies exp(−ln(10⁴)·i/(half − shift)), [sin, cos] or [cos, sin].
 *
 * @param timesteps One value per example.
 * @param dim Embedding width.
 * @param options `flipSinToCos` (default true), `freqShift` (default 0).
 * @returns `[B, dim]`, owned by the caller.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { timestepEmbedding } from "./if_unet.ts";
 * const e = timestepEmbedding([0], 4);
 * console.log(Array.from(e.dataSync())); // [ 1, 1, 0, 0 ]
 * e.dispose();
 * ```
 */
export function timestepEmbedding(
  timesteps: ArrayLike<number>,
  dim: number,
  options: { flipSinToCos?: boolean; freqShift?: number } = {},
): tf.Tensor2D {
  const flip = options.flipSinToCos ?? true;
  const shift = options.freqShift ?? 0;
  const half = Math.floor(dim / 2);
  const f = Math.fround;
  const b = timesteps.length;
  const out = new Float32Array(b * dim);
  const logMax = f(-Math.log(10000));
  for (let i = 0; i < half; i++) {
    const freq = f(Math.exp(f(f(logMax * i) / (half - shift))));
    for (let e = 0; e < b; e++) {
      const arg = f(f(timesteps[e]) * freq);
      const s = Math.sin(arg), c = Math.cos(arg);
      out[e * dim + i] = flip ? c : s;
      out[e * dim + half + i] = flip ? s : c;
    }
  }
  return tf.tensor2d(out, [b, dim]);
}

/** Every parameter of an IF UNet with its PyTorch shape, in diffusers' naming. */
export function ifUNetParameterShapes(c: IFUNetConfig): Map<string, number[]> {
  const p = new Map<string, number[]>();
  const lin = (name: string, i: number, o: number) => {
    p.set(`${name}.weight`, [o, i]);
    p.set(`${name}.bias`, [o]);
  };
  const cv = (name: string, i: number, o: number, k: number) => {
    p.set(`${name}.weight`, [o, i, k, k]);
    p.set(`${name}.bias`, [o]);
  };
  const norm = (name: string, ch: number) => {
    p.set(`${name}.weight`, [ch]);
    p.set(`${name}.bias`, [ch]);
  };
  const temb = c.timeEmbeddingDim;
  const resnet = (name: string, i: number, o: number) => {
    norm(`${name}.norm1`, i);
    cv(`${name}.conv1`, i, o, 3);
    lin(`${name}.time_emb_proj`, temb, c.resnetTimeScaleShift === "scale_shift" ? 2 * o : o);
    norm(`${name}.norm2`, o);
    cv(`${name}.conv2`, o, o, 3);
    if (i !== o) cv(`${name}.conv_shortcut`, i, o, 1);
  };
  const attn = (name: string, ch: number, onlyCross: boolean, headDim: number) => {
    const inner = Math.floor(ch / headDim) * headDim;
    norm(`${name}.group_norm`, ch);
    if (c.crossAttentionNorm) norm(`${name}.norm_cross`, c.crossAttentionDim);
    lin(`${name}.to_q`, ch, inner);
    if (!onlyCross) {
      lin(`${name}.to_k`, ch, inner);
      lin(`${name}.to_v`, ch, inner);
    }
    lin(`${name}.add_k_proj`, c.crossAttentionDim, inner);
    lin(`${name}.add_v_proj`, c.crossAttentionDim, inner);
    lin(`${name}.to_out.0`, inner, ch);
  };
  const ch0 = c.blockOutChannels[0];
  cv("conv_in", c.inChannels, ch0, c.convInKernel);
  lin("time_embedding.linear_1", ch0, temb);
  lin("time_embedding.linear_2", temb, temb);
  if (c.classEmbedType === "timestep") {
    lin("class_embedding.linear_1", ch0, temb);
    lin("class_embedding.linear_2", temb, temb);
  }
  const textDim = c.encoderHidDim ?? c.crossAttentionDim;
  if (c.encoderHidDim !== null) lin("encoder_hid_proj", c.encoderHidDim, c.crossAttentionDim);
  if (c.additionEmbedType === "text") {
    norm("add_embedding.norm1", textDim);
    p.set("add_embedding.pool.positional_embedding", [1, textDim]);
    for (const k of ["k_proj", "q_proj", "v_proj"]) {
      lin(`add_embedding.pool.${k}`, textDim, textDim);
    }
    lin("add_embedding.proj", textDim, temb);
    norm("add_embedding.norm2", temb);
  }
  const n = c.blockOutChannels.length;
  let out = ch0;
  for (let i = 0; i < n; i++) {
    const inCh = out;
    out = c.blockOutChannels[i];
    for (let j = 0; j < c.layersPerBlock[i]; j++) {
      resnet(`down_blocks.${i}.resnets.${j}`, j === 0 ? inCh : out, out);
      if (c.downBlockTypes[i] === "SimpleCrossAttnDownBlock2D") {
        attn(
          `down_blocks.${i}.attentions.${j}`,
          out,
          c.onlyCrossAttention[i],
          c.attentionHeadDim[i],
        );
      }
    }
    if (i < n - 1) resnet(`down_blocks.${i}.downsamplers.0`, out, out);
  }
  const last = c.blockOutChannels[n - 1];
  resnet("mid_block.resnets.0", last, last);
  attn("mid_block.attentions.0", last, c.midBlockOnlyCrossAttention, c.attentionHeadDim[n - 1]);
  resnet("mid_block.resnets.1", last, last);
  const rev = [...c.blockOutChannels].reverse();
  out = rev[0];
  for (let i = 0; i < n; i++) {
    const prev = out;
    out = rev[i];
    const inCh = rev[Math.min(i + 1, n - 1)];
    const layers = c.layersPerBlock[n - 1 - i] + 1;
    for (let j = 0; j < layers; j++) {
      const skip = j === layers - 1 ? inCh : out;
      resnet(`up_blocks.${i}.resnets.${j}`, (j === 0 ? prev : out) + skip, out);
      if (c.upBlockTypes[i] === "SimpleCrossAttnUpBlock2D") {
        attn(
          `up_blocks.${i}.attentions.${j}`,
          out,
          c.onlyCrossAttention[n - 1 - i],
          c.attentionHeadDim[i],
        );
      }
    }
    if (i < n - 1) resnet(`up_blocks.${i}.upsamplers.0`, out, out);
  }
  norm("conv_norm_out", ch0);
  cv("conv_out", ch0, c.outChannels, c.convOutKernel);
  return p;
}

let nextUNetId = 0;

/** An IF UNet with its weights (owned; `dispose()`). Tensors are NHWC `[B, H, W, C]`. */
export class IFUNet {
  /** The config it was built from. */
  readonly config: IFUNetConfig;
  readonly #w = new Map<string, tf.Tensor>();
  /** LoRA adapters by target projection (diffusers' module path, e.g. `mid_block.attentions.0.to_q`). */
  readonly #lora = new Map<string, { down: tf.Variable; up: tf.Variable; factor: number }>();
  #loraScale = 1;
  /** Unique per instance, so that two UNets' LoRA variables never share a tfjs variable name. */
  readonly #id = nextUNetId++;
  #loraGeneration = 0;

  /**
   * Builds the UNet from a config and weights in diffusers' names and PyTorch layouts. Every
   * expected tensor must be present with its shape, and no other tensor may be; each error names
   * the tensor.
   *
   * @param config A diffusers config.json object or an {@link IFUNetConfig}.
   * @param tensors The weights (e.g. from `readDiffusersWeights`); float data is copied.
   *
   * @example
   * ```ts
   * import { initBackend } from "../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { IFUNet } from "./if_unet.ts";
   * const cfg = {
   *   in_channels: 3, out_channels: 6, block_out_channels: [8], layers_per_block: 1,
   *   down_block_types: ["ResnetDownsampleBlock2D"], up_block_types: ["ResnetUpsampleBlock2D"],
   *   mid_block_type: "UNetMidBlock2DSimpleCrossAttn", cross_attention_dim: 8, attention_head_dim: 4,
   *   norm_num_groups: 4,
   * };
   * using unet = IFUNet.random(cfg, { seed: 1 });
   * console.log(unet.numParams > 0); // true
   * ```
   */
  constructor(
    config: IFUNetConfig | Record<string, unknown>,
    tensors: ReadonlyMap<string, NamedTensor>,
  ) {
    const c = this.config = "downBlockTypes" in config
      ? config as IFUNetConfig
      : ifUNetConfigFromDiffusers(config as Record<string, unknown>);
    const shapes = ifUNetParameterShapes(c);
    for (const name of tensors.keys()) {
      if (!shapes.has(name)) {
        throw new RangeError(
          `Cannot load the IF UNet as tensor '${name}' is not a parameter of this config`,
        );
      }
    }
    try {
      for (const [name, shape] of shapes) {
        const t = tensors.get(name);
        if (!t) throw new RangeError(`Cannot load the IF UNet as tensor '${name}' is missing`);
        if (t.shape.join(",") !== shape.join(",")) {
          throw new RangeError(
            `Cannot load the IF UNet as tensor '${name}' has shape [${t.shape}], expected [${shape}]`,
          );
        }
        const data = Float32Array.from(t.data as ArrayLike<number>);
        this.#w.set(
          name,
          shape.length === 4
            ? tf.tidy(() =>
              tf.transpose(tf.tensor4d(data, shape as [number, number, number, number]), [
                2,
                3,
                1,
                0,
              ])
            )
            : tf.tensor(data, shape),
        );
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /**
   * An IF UNet with seeded random weights (normal, std 1/√fan-in; norms at 1 and 0), for
   * tests and benchmarks with real shapes.
   *
   * @param config A diffusers config.json object or an {@link IFUNetConfig}.
   * @param options `seed` (default 0).
   * @returns The UNet, owned by the caller.
   */
  static random(
    config: IFUNetConfig | Record<string, unknown>,
    options: { seed?: number } = {},
  ): IFUNet {
    const c = "downBlockTypes" in config
      ? config as IFUNetConfig
      : ifUNetConfigFromDiffusers(config as Record<string, unknown>);
    let seed = options.seed ?? 0;
    const tensors = new Map<string, NamedTensor>();
    for (const [name, shape] of ifUNetParameterShapes(c)) {
      const size = shape.reduce((a, b) => a * b, 1);
      let data: Float32Array;
      if (shape.length === 1) {
        data = new Float32Array(size).fill(/norm.*weight$/.test(name) ? 1 : 0);
      } else {
        const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
        data = tf.tidy(() =>
          tf.randomNormal([size], 0, 1 / Math.sqrt(fanIn), "float32", seed++)
            .dataSync() as Float32Array
        );
      }
      tensors.set(name, { shape, data });
    }
    return new IFUNet(c, tensors);
  }

  /** Number of scalar parameters. */
  get numParams(): number {
    let n = 0;
    for (const t of this.#w.values()) n += t.size;
    return n;
  }

  /** The weights by diffusers name (convolutions transposed to `[kh, kw, in, out]`). */
  get weights(): Weights {
    return this.#w;
  }

  /**
   * One forward pass.
   *
   * @param sample `[B, H, W, inChannels]`, H and W divisible by 2^(blocks − 1) (borrowed).
   * @param inputs Timesteps, text hidden states and (stage II) noise levels.
   * @returns `[B, H, W, outChannels]`, owned by the caller: channels 0–2 ε, 3–5 the
   *   learned-range variance interpolation v ∈ [−1, 1] when outChannels is 6.
   */
  forward(sample: tf.Tensor4D, inputs: IFUNetInputs): tf.Tensor4D {
    const c = this.config;
    const [b, hgt, wid, ch] = sample.shape;
    if (ch !== c.inChannels) {
      throw new RangeError(
        `Cannot run the IF UNet as 'sample' must have ${c.inChannels} channels: current shape is [${sample.shape}]`,
      );
    }
    const factor = 2 ** (c.blockOutChannels.length - 1);
    if (hgt % factor !== 0 || wid % factor !== 0) {
      throw new RangeError(
        `Cannot run the IF UNet as the sample size must be divisible by ${factor}: current shape is [${sample.shape}]`,
      );
    }
    if (inputs.timesteps.length !== b) {
      throw new RangeError(
        `Cannot run the IF UNet as 'timesteps' must hold ${b} values: current length is ${inputs.timesteps.length}`,
      );
    }
    const enc0 = inputs.encoderHiddenStates;
    const textDim = c.encoderHidDim ?? c.crossAttentionDim;
    if (enc0.rank !== 3 || enc0.shape[0] !== b || enc0.shape[2] !== textDim) {
      throw new RangeError(
        `Cannot run the IF UNet as 'encoderHiddenStates' must have shape [${b}, L, ${textDim}]: current shape is [${enc0.shape}]`,
      );
    }
    if (c.classEmbedType && inputs.classLabels?.length !== b) {
      throw new RangeError(
        `Cannot run the IF UNet as 'classLabels' (the noise level) must hold ${b} values: current value is ${inputs.classLabels}`,
      );
    }
    const w = this.#w;
    const act = <T extends tf.Tensor>(x: T) => activate(x, c.actFn);
    return tf.tidy(() => {
      // Time embedding, plus the noise-level embedding (stage II) and the pooled text.
      const mlp = (name: string, x: tf.Tensor) =>
        linear(w, `${name}.linear_2`, act(linear(w, `${name}.linear_1`, x)));
      const sin = { flipSinToCos: c.flipSinToCos, freqShift: c.freqShift };
      let emb = mlp(
        "time_embedding",
        timestepEmbedding(inputs.timesteps, c.blockOutChannels[0], sin),
      );
      if (c.classEmbedType === "timestep") {
        const levels = timestepEmbedding(inputs.classLabels!, c.blockOutChannels[0], sin);
        emb = tf.add(emb, mlp("class_embedding", levels));
      }
      if (c.additionEmbedType === "text") emb = tf.add(emb, this.#textTimeEmbedding(enc0));
      if (c.timeEmbeddingActFn) emb = activate(emb, c.timeEmbeddingActFn);
      const enc = c.encoderHidDim !== null ? linear(w, "encoder_hid_proj", enc0) : enc0;

      let h = c.centerInputSample ? tf.sub(tf.mul(sample, 2), 1) as tf.Tensor4D : sample;
      h = conv(w, "conv_in", h);
      const skips: tf.Tensor4D[] = [h];
      const n = c.blockOutChannels.length;
      for (let i = 0; i < n; i++) {
        const cross = c.downBlockTypes[i] === "SimpleCrossAttnDownBlock2D";
        for (let j = 0; j < c.layersPerBlock[i]; j++) {
          h = this.#resnet(`down_blocks.${i}.resnets.${j}`, h, emb);
          if (cross) {
            h = this.#attention(`down_blocks.${i}.attentions.${j}`, h, enc, {
              onlyCross: c.onlyCrossAttention[i],
              headDim: c.attentionHeadDim[i],
            });
          }
          skips.push(h);
        }
        if (i < n - 1) {
          h = this.#resnet(`down_blocks.${i}.downsamplers.0`, h, emb, { resample: "down" });
          skips.push(h);
        }
      }
      const midScale = c.midBlockScaleFactor;
      h = this.#resnet("mid_block.resnets.0", h, emb, { outScale: midScale });
      h = this.#attention("mid_block.attentions.0", h, enc, {
        onlyCross: c.midBlockOnlyCrossAttention,
        headDim: c.attentionHeadDim[n - 1],
      });
      h = this.#resnet("mid_block.resnets.1", h, emb, { outScale: midScale });
      for (let i = 0; i < n; i++) {
        const cross = c.upBlockTypes[i] === "SimpleCrossAttnUpBlock2D";
        const layers = c.layersPerBlock[n - 1 - i] + 1;
        for (let j = 0; j < layers; j++) {
          const joined = tf.concat([h, skips.pop()!], 3);
          h = this.#resnet(`up_blocks.${i}.resnets.${j}`, joined, emb);
          joined.dispose();
          if (cross) {
            // diffusers v0.21 passes attention_head_dim[i] (not reversed) to up block i.
            h = this.#attention(`up_blocks.${i}.attentions.${j}`, h, enc, {
              onlyCross: c.onlyCrossAttention[n - 1 - i],
              headDim: c.attentionHeadDim[i],
            });
          }
        }
        if (i < n - 1) h = this.#resnet(`up_blocks.${i}.upsamplers.0`, h, emb, { resample: "up" });
      }
      h = act(groupNormOf(w, "conv_norm_out", h, c.normNumGroups, c.normEps));
      return conv(w, "conv_out", h);
    });
  }

  /** TextTimeEmbedding: LayerNorm → attention pooling → linear → LayerNorm. `[B, temb]`. */
  #textTimeEmbedding(text: tf.Tensor3D): tf.Tensor {
    const w = this.#w;
    const x = layerNorm(w, "add_embedding.norm1", text) as tf.Tensor3D; // [B, L, D]
    const [b, , d] = x.shape;
    const heads = this.config.additionEmbedTypeNumHeads;
    // AttentionPooling (IF's): a class token (mean + position embedding) attends to [class, x].
    const cls = tf.add(tf.mean(x, 1, true), weight(w, "add_embedding.pool.positional_embedding"));
    const all = tf.concat([cls, x], 1);
    const q = linear(w, "add_embedding.pool.q_proj", cls);
    const k = linear(w, "add_embedding.pool.k_proj", all);
    const v = linear(w, "add_embedding.pool.v_proj", all);
    const pooled = tf.reshape(multiHeadAttention(q, k, v, heads, 1 / Math.sqrt(d / heads)), [b, d]);
    return layerNorm(w, "add_embedding.norm2", linear(w, "add_embedding.proj", pooled));
  }

  /**
   * ResnetBlock2D: GN → act → (resample both paths) → conv → time projection (scale-shift:
   * GN(h)(1 + s) + t; default: h + t before GN) → act → conv; (x + h) / outScale.
   */
  #resnet(
    name: string,
    x: tf.Tensor4D,
    temb: tf.Tensor,
    options: { resample?: "up" | "down"; outScale?: number } = {},
  ): tf.Tensor4D {
    // One scope per block: its temporaries are freed when it returns (large images, big models).
    return tf.tidy(() => this.#resnetBody(name, x, temb, options));
  }

  #resnetBody(
    name: string,
    x: tf.Tensor4D,
    temb: tf.Tensor,
    options: { resample?: "up" | "down"; outScale?: number },
  ): tf.Tensor4D {
    const c = this.config;
    const w = this.#w;
    const act = <T extends tf.Tensor>(t: T) => activate(t, c.actFn);
    let h = act(groupNormOf(w, `${name}.norm1`, x, c.normNumGroups, c.normEps));
    if (options.resample === "up") {
      x = upsampleNearest(x);
      h = upsampleNearest(h);
    } else if (options.resample === "down") {
      x = avgPool2(x);
      h = avgPool2(h);
    }
    h = conv(w, `${name}.conv1`, h);
    const t = linear(w, `${name}.time_emb_proj`, c.resnetSkipTimeAct ? temb : act(temb)); // [B, T]
    const out = h.shape[3];
    const [b] = h.shape;
    if (c.resnetTimeScaleShift === "scale_shift") {
      h = groupNormOf(w, `${name}.norm2`, h, c.normNumGroups, c.normEps);
      const scale = tf.reshape(tf.slice(t, [0, 0], [b, out]), [b, 1, 1, out]);
      const shift = tf.reshape(tf.slice(t, [0, out], [b, out]), [b, 1, 1, out]);
      h = tf.add(tf.mul(h, tf.add(scale, 1)), shift);
    } else {
      h = tf.add(h, tf.reshape(t, [b, 1, 1, out]));
      h = groupNormOf(w, `${name}.norm2`, h, c.normNumGroups, c.normEps);
    }
    h = conv(w, `${name}.conv2`, act(h));
    if (w.has(`${name}.conv_shortcut.weight`)) x = conv(w, `${name}.conv_shortcut`, x);
    const sum = tf.add(x, h) as tf.Tensor4D;
    const s = options.outScale ?? c.resnetOutScaleFactor;
    return s === 1 ? sum : tf.div(sum, s);
  }

  /**
   * Added-KV attention (diffusers' AttnAddedKVProcessor): queries from GN(h); keys and values
   * from the (group-normed) text, followed by the image's own unless `onlyCross`; residual.
   */
  #attention(
    name: string,
    h: tf.Tensor4D,
    text: tf.Tensor,
    options: { onlyCross: boolean; headDim: number },
  ): tf.Tensor4D {
    return tf.tidy(() => this.#attentionBody(name, h, text, options));
  }

  #attentionBody(
    name: string,
    h: tf.Tensor4D,
    text: tf.Tensor,
    options: { onlyCross: boolean; headDim: number },
  ): tf.Tensor4D {
    const c = this.config;
    const w = this.#w;
    const [b, hh, ww, ch] = h.shape;
    const heads = Math.floor(ch / options.headDim);
    let enc = text;
    if (c.crossAttentionNorm === "group_norm") {
      const [, l, d] = text.shape;
      const grouped = tf.reshape(text, [b, l, 1, d]) as tf.Tensor4D;
      enc = tf.reshape(groupNormOf(w, `${name}.norm_cross`, grouped, 32, 1e-5), [b, l, d]);
    }
    const x = tf.reshape(groupNormOf(w, `${name}.group_norm`, h, c.normNumGroups, 1e-5), [
      b,
      hh * ww,
      ch,
    ]);
    const q = this.#proj(`${name}.to_q`, x);
    let k = this.#proj(`${name}.add_k_proj`, enc);
    let v = this.#proj(`${name}.add_v_proj`, enc);
    if (!options.onlyCross) {
      k = tf.concat([k, this.#proj(`${name}.to_k`, x)], 1);
      v = tf.concat([v, this.#proj(`${name}.to_v`, x)], 1);
    }
    const att = multiHeadAttention(q, k, v, heads, options.headDim ** -0.5);
    const o = this.#proj(`${name}.to_out.0`, att);
    return tf.add(h, tf.reshape(o, [b, hh, ww, ch])) as tf.Tensor4D;
  }

  /** A linear attention projection plus its LoRA adapter, if any: W x + b + s·(α/r)·B A x. */
  #proj(name: string, x: tf.Tensor): tf.Tensor {
    const y = linear(this.#w, name, x);
    const a = this.#lora.get(name);
    if (!a) return y;
    // The one LoRA implementation (diffusion/'s, Eq. 3 of Hu et al.), in diffusers' layout.
    return tf.add(y, loraLinearDelta(x, a.down, a.up, this.#loraScale * a.factor));
  }

  /** Number of LoRA adapters loaded. */
  get loraCount(): number {
    return this.#lora.size;
  }

  /**
   * Loads LoRA adapters on the attention projections from a diffusers LoRA file's tensors
   * (`pytorch_lora_weights.safetensors` of diffusers' `train_dreambooth_lora.py`), replacing any
   * loaded before. Accepted names, with or without the `unet.` prefix:
   * `<attention>.processor.<proj>_lora.{down,up}.weight` (v0.21 attention-processor format; proj
   * `to_q`, `to_k`, `to_v`, `to_out`, `add_k_proj`, `add_v_proj`) and
   * `<attention>.<proj>.lora.{down,up}.weight` (`to_out.0`; the format `load_lora_weights` converts
   * to). The adapter adds `scale · (alpha / rank) · up(down(x))` to the projection (alpha = rank
   * unless given, as in diffusers).
   *
   * @param tensors LoRA tensors by name.
   * @param options `scale` (diffusers' `cross_attention_kwargs["scale"]`, default 1), `alphas`
   *   (network alpha per target projection, default none).
   */
  loadLoRA(
    tensors: ReadonlyMap<string, NamedTensor>,
    options: { scale?: number; alphas?: Readonly<Record<string, number>> } = {},
  ): void {
    const scale = options.scale ?? 1;
    if (!Number.isFinite(scale)) {
      throw new RangeError(
        `Cannot load LoRA as 'scale' must be a finite number: current value is ${scale}`,
      );
    }
    const parts = new Map<string, { down?: NamedTensor; up?: NamedTensor }>();
    for (const [key, t] of tensors) {
      if (key.startsWith("text_encoder.")) {
        throw new RangeError(
          `Cannot load LoRA tensor '${key}': text-encoder LoRA is not supported (IF's T5 stays frozen)`,
        );
      }
      const k = key.startsWith("unet.") ? key.slice(5) : key;
      const m =
        /^(.+)\.processor\.(to_q|to_k|to_v|to_out|add_k_proj|add_v_proj)_lora\.(down|up)\.weight$/
          .exec(k) ??
          /^(.+)\.(to_q|to_k|to_v|to_out\.0|add_k_proj|add_v_proj)\.lora\.(down|up)\.weight$/.exec(
            k,
          );
      if (!m) {
        throw new RangeError(
          `Cannot load LoRA tensor '${key}': not a LoRA weight of an attention projection`,
        );
      }
      const target = `${m[1]}.${m[2] === "to_out" ? "to_out.0" : m[2]}`;
      const w = this.#w.get(`${target}.weight`);
      if (!w) {
        throw new RangeError(
          `Cannot load LoRA tensor '${key}': the UNet has no projection '${target}'`,
        );
      }
      const entry = parts.get(target) ?? {};
      entry[m[3] as "down" | "up"] = t;
      parts.set(target, entry);
    }
    const loaded = new Map<string, { down: tf.Variable; up: tf.Variable; factor: number }>();
    this.#loraGeneration++;
    try {
      for (const [target, { down, up }] of parts) {
        if (!down || !up) {
          throw new RangeError(
            `Cannot load LoRA for '${target}': its ${down ? "up" : "down"} weight is missing`,
          );
        }
        const [out, inp] = this.#w.get(`${target}.weight`)!.shape;
        const r = down.shape[0];
        if (down.shape.join() !== `${r},${inp}` || up.shape.join() !== `${out},${r}`) {
          throw new RangeError(
            `Cannot load LoRA for '${target}': down [${down.shape}] and up [${up.shape}] must be [rank, ${inp}] and [${out}, rank]`,
          );
        }
        const alpha = options.alphas?.[target];
        loaded.set(target, {
          down: this.#variable(target, "down", Float32Array.from(down.data as ArrayLike<number>), [
            r,
            inp,
          ]),
          up: this.#variable(target, "up", Float32Array.from(up.data as ArrayLike<number>), [
            out,
            r,
          ]),
          factor: alpha === undefined ? 1 : alpha / r,
        });
      }
    } catch (e) {
      for (const a of loaded.values()) tf.dispose([a.down, a.up]);
      throw e;
    }
    this.unloadLoRA();
    for (const [k, v] of loaded) this.#lora.set(k, v);
    this.#loraScale = scale;
  }

  /**
   * The loaded LoRA adapters in the file format of diffusers' `train_dreambooth_lora.py`
   * (`unet.<attention>.processor.<proj>_lora.{down,up}.weight`), which `load_lora_weights` reads.
   *
   * @returns Tensors by name (float32 copies).
   */
  async exportLoRA(): Promise<Map<string, NamedTensor>> {
    const out = new Map<string, NamedTensor>();
    for (const [target, a] of this.#lora) {
      const cut = target.lastIndexOf(".");
      const isOut = target.endsWith(".to_out.0");
      const mod = isOut ? target.slice(0, -".to_out.0".length) : target.slice(0, cut);
      const proj = isOut ? "to_out" : target.slice(cut + 1);
      const key = `unet.${mod}.processor.${proj}_lora`;
      out.set(`${key}.down.weight`, {
        shape: a.down.shape,
        data: await a.down.data() as Float32Array,
      });
      out.set(`${key}.up.weight`, { shape: a.up.shape, data: await a.up.data() as Float32Array });
    }
    return out;
  }

  #variable(
    target: string,
    part: string,
    data: Float32Array,
    shape: [number, number],
  ): tf.Variable {
    return tf.tidy(() =>
      tf.variable(
        tf.tensor2d(data, shape),
        true,
        `ifunet${this.#id}/lora${this.#loraGeneration}/${target}/${part}`,
      )
    );
  }

  /**
   * Adds fresh trainable LoRA adapters on every attention projection (`to_q`, `to_k`, `to_v`,
   * `to_out.0`, `add_k_proj`, `add_v_proj`), initialised as diffusers' `LoRALinearLayer`: down
   * ~ N(0, 1/rank²), up = 0, so the adapted model starts equal to the base model. Replaces any
   * adapters loaded before.
   *
   * @param options `rank` (default 4), `seed` (default 0), `scale` (default 1).
   */
  initLoRA(options: { rank?: number; seed?: number; scale?: number } = {}): void {
    const rank = options.rank ?? 4;
    if (!Number.isInteger(rank) || rank < 1) {
      throw new RangeError(
        `Cannot add LoRA as 'rank' must be a positive integer: current value is ${rank}`,
      );
    }
    let seed = options.seed ?? 0;
    const tensors = new Map<string, NamedTensor>();
    for (const [name, t] of this.#w) {
      const m = /^(.+\.attentions\.\d+)\.(to_q|to_k|to_v|to_out\.0|add_k_proj|add_v_proj)\.weight$/
        .exec(name);
      if (!m) continue;
      const [out, inp] = t.shape;
      const down = tf.tidy(() =>
        tf.randomNormal([rank, inp], 0, 1 / rank, "float32", seed++).dataSync()
      );
      tensors.set(`${m[1]}.${m[2]}.lora.down.weight`, {
        shape: [rank, inp],
        data: down as Float32Array,
      });
      tensors.set(`${m[1]}.${m[2]}.lora.up.weight`, {
        shape: [out, rank],
        data: new Float32Array(out * rank),
      });
    }
    this.loadLoRA(tensors, { scale: options.scale });
  }

  /** The LoRA adapters' trainable variables (down and up per projection). */
  loraVariables(): tf.Variable[] {
    return [...this.#lora.values()].flatMap((a) => [a.down, a.up]);
  }

  /**
   * Full fine-tuning: turns every weight into a trainable `tf.Variable` (in place, once; later
   * calls return the same variables) and returns them, e.g. as `ifDreamBoothStep`'s `variables`.
   *
   * @returns The weights as variables, in parameter order.
   */
  trainableWeights(): tf.Variable[] {
    const out: tf.Variable[] = [];
    for (const [name, t] of this.#w) {
      if (t instanceof tf.Variable) {
        out.push(t);
        continue;
      }
      const v = tf.variable(t, true, `ifunet${this.#id}/w/${name}`);
      t.dispose();
      this.#w.set(name, v);
      out.push(v);
    }
    return out;
  }

  /**
   * The weights in diffusers' names and PyTorch layouts (convolutions `[out, in, kh, kw]`), as
   * `diffusion_pytorch_model.safetensors` holds them; LoRA adapters are not merged.
   *
   * @returns Tensors by name (float32 copies).
   */
  async exportWeights(): Promise<Map<string, NamedTensor>> {
    const out = new Map<string, NamedTensor>();
    for (const [name, t] of this.#w) {
      const torch = t.rank === 4 ? tf.transpose(t, [3, 2, 0, 1]) : t;
      out.set(name, { shape: torch.shape, data: await torch.data() as Float32Array });
      if (torch !== t) torch.dispose();
    }
    return out;
  }

  /** Removes all LoRA adapters. */
  unloadLoRA(): void {
    for (const a of this.#lora.values()) tf.dispose([a.down, a.up]);
    this.#lora.clear();
    this.#loraScale = 1;
  }

  /** Frees the weights. */
  dispose(): void {
    for (const t of this.#w.values()) t.dispose();
    this.#w.clear();
    this.unloadLoRA();
  }

  /** Frees the weights (`using`). */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
