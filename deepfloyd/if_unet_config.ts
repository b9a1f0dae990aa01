/**
 * The configuration of DeepFloyd IF's UNets, read from a diffusers `unet/config.json`
 * (`UNet2DConditionModel`, diffusers v0.21). Only what IF stage I and stage II use is implemented;
 * any other value is refused with an error naming the field and the value.
 *
 * @module
 */
import type { Activation } from "./_nn.ts";

/** Down-block types IF uses. */
export type IFDownBlockType = "ResnetDownsampleBlock2D" | "SimpleCrossAttnDownBlock2D";
/** Up-block types IF uses. */
export type IFUpBlockType = "ResnetUpsampleBlock2D" | "SimpleCrossAttnUpBlock2D";

/** A validated IF UNet config (diffusers field names in camelCase, lists expanded per block). */
export interface IFUNetConfig {
  /** Input channels: 3 for stage I, 6 for stage II (noisy image + upscaled low-res image). */
  readonly inChannels: number;
  /** Output channels: 6 when the variance is learned (ε and the variance interpolation v). */
  readonly outChannels: number;
  /** The training resolution (informative). */
  readonly sampleSize: number | null;
  /** Map the input x to 2x − 1 first. */
  readonly centerInputSample: boolean;
  /** Sinusoidal time embedding as [cos, sin] instead of [sin, cos]. */
  readonly flipSinToCos: boolean;
  /** `downscale_freq_shift` of the sinusoidal embedding. */
  readonly freqShift: number;
  readonly downBlockTypes: readonly IFDownBlockType[];
  readonly upBlockTypes: readonly IFUpBlockType[];
  readonly blockOutChannels: readonly number[];
  /** ResNets per down block (up blocks have one more). */
  readonly layersPerBlock: readonly number[];
  /** Per down block: attention over the text only (no self-attention keys). */
  readonly onlyCrossAttention: readonly boolean[];
  readonly midBlockOnlyCrossAttention: boolean;
  /** Width of each attention head, per down block (up block i uses entry i, as diffusers does). */
  readonly attentionHeadDim: readonly number[];
  /** ResNet outputs are divided by this (mid block: `midBlockScaleFactor`). */
  readonly resnetOutScaleFactor: number;
  readonly midBlockScaleFactor: number;
  readonly actFn: Activation;
  readonly normNumGroups: number;
  readonly normEps: number;
  /** Width of the text tokens the attention layers see (after `encoder_hid_proj`). */
  readonly crossAttentionDim: number;
  /** Width of the text encoder's output when it is projected (`encoder_hid_dim`), else null. */
  readonly encoderHidDim: number | null;
  /** `"timestep"`: stage II's noise-level conditioning, else null. */
  readonly classEmbedType: "timestep" | null;
  /** `"text"`: attention-pooled text added to the time embedding, else null. */
  readonly additionEmbedType: "text" | null;
  readonly additionEmbedTypeNumHeads: number;
  readonly resnetTimeScaleShift: "default" | "scale_shift";
  /** Feed the time embedding to each ResNet's projection without an activation first. */
  readonly resnetSkipTimeAct: boolean;
  /** Width of the time embedding (`time_embedding_dim`, default 4 × blockOutChannels[0]). */
  readonly timeEmbeddingDim: number;
  readonly timeEmbeddingActFn: Activation | null;
  readonly convInKernel: number;
  readonly convOutKernel: number;
  /** `"group_norm"` on the text tokens before the added K/V projections, else null. */
  readonly crossAttentionNorm: "group_norm" | null;
}

const ACTIVATIONS: readonly Activation[] = ["gelu", "silu", "swish", "mish", "relu"];

/** Fields that do not change the computation of the blocks IF uses (eval mode, fp32). */
const NO_EFFECT = new Set([
  "dropout",
  "downsample_padding",
  "upcast_attention",
  "use_linear_projection",
  "transformer_layers_per_block",
  "addition_time_embed_dim",
  "projection_class_embeddings_input_dim",
]);

function refuse(field: string, value: unknown, what: string): never {
  throw new RangeError(
    `Cannot build an IF UNet as '${field}' ${what}: current value is ${JSON.stringify(value)}`,
  );
}

function posInt(field: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    refuse(field, v, "must be a positive integer");
  }
  return v;
}

function num(field: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    refuse(field, v, "must be a positive number");
  }
  return v;
}

function perBlock<T>(field: string, v: unknown, n: number, check: (f: string, x: unknown) => T) {
  if (Array.isArray(v)) {
    if (v.length !== n) refuse(field, v, `must have one entry per down block (${n})`);
    return v.map((x, i) => check(`${field}[${i}]`, x));
  }
  const one = check(field, v);
  return Array.from({ length: n }, () => one);
}

function bool(field: string, v: unknown): boolean {
  if (typeof v !== "boolean") refuse(field, v, "must be a boolean");
  return v;
}

function activation(field: string, v: unknown): Activation {
  if (!ACTIVATIONS.includes(v as Activation)) {
    refuse(field, v, `must be one of ${ACTIVATIONS.join(", ")}`);
  }
  return v as Activation;
}

type Getter = (k: string, d: unknown) => unknown;

/** `block_out_channels`, `down_block_types`, `up_block_types`: IF's block types only. */
function readBlocks(get: Getter) {
  const blockOut = get("block_out_channels", [320, 640, 1280, 1280]);
  if (!Array.isArray(blockOut) || blockOut.length < 1) {
    refuse("block_out_channels", blockOut, "must be a non-empty list");
  }
  const blockOutChannels = blockOut.map((v, i) => posInt(`block_out_channels[${i}]`, v));
  const n = blockOutChannels.length;
  const downs = get("down_block_types", null);
  const ups = get("up_block_types", null);
  if (!Array.isArray(downs) || downs.length !== n) {
    refuse("down_block_types", downs, `must list ${n} block types (one per block_out_channels)`);
  }
  if (!Array.isArray(ups) || ups.length !== n) {
    refuse("up_block_types", ups, `must list ${n} block types (one per block_out_channels)`);
  }
  downs.forEach((t, i) => {
    if (t !== "ResnetDownsampleBlock2D" && t !== "SimpleCrossAttnDownBlock2D") {
      refuse(
        `down_block_types[${i}]`,
        t,
        `is not implemented (IF uses "ResnetDownsampleBlock2D" and "SimpleCrossAttnDownBlock2D")`,
      );
    }
  });
  ups.forEach((t, i) => {
    if (t !== "ResnetUpsampleBlock2D" && t !== "SimpleCrossAttnUpBlock2D") {
      refuse(
        `up_block_types[${i}]`,
        t,
        `is not implemented (IF uses "ResnetUpsampleBlock2D" and "SimpleCrossAttnUpBlock2D")`,
      );
    }
  });
  return {
    blockOutChannels,
    downs: downs as IFDownBlockType[],
    ups: ups as IFUpBlockType[],
  };
}

/** Fields whose non-default values change the model in ways not implemented here. */
function refuseUnimplemented(get: Getter) {
  const mid = get("mid_block_type", "UNetMidBlock2DCrossAttn");
  if (mid !== "UNetMidBlock2DSimpleCrossAttn") {
    refuse("mid_block_type", mid, `is not implemented (IF uses "UNetMidBlock2DSimpleCrossAttn")`);
  }
  for (
    const k of [
      "num_attention_heads",
      "num_class_embeds",
      "time_cond_proj_dim",
      "timestep_post_act",
    ]
  ) {
    const v = get(k, null);
    if (v !== null) refuse(k, v, "is not implemented");
  }
  for (const k of ["class_embeddings_concat", "dual_cross_attention"]) {
    const v = get(k, false);
    if (v !== false) refuse(k, v, "is not implemented");
  }
}

/**
 * Reads a diffusers `UNet2DConditionModel` config (the parsed `unet/config.json`) for IF.
 * Missing fields take diffusers v0.21's defaults. Refuses what is not implemented: other block
 * types, `class_embed_type` other than null/"timestep", `addition_embed_type` other than
 * null/"text", `encoder_hid_dim_type` other than "text_proj", `class_embeddings_concat`,
 * `num_attention_heads`, `time_cond_proj_dim`, `timestep_post_act`, fourier time embeddings, a
 * list of `cross_attention_dim`, `cross_attention_norm` "layer_norm", `attention_type` other than
 * "default", `dual_cross_attention`, and any unknown field with a value other than null/false.
 *
 * @param json The parsed config.json.
 * @returns A frozen {@link IFUNetConfig}.
 *
 * @example
 * ```ts
 * import { ifUNetConfigFromDiffusers } from "./if_unet_config.ts";
 * const c = ifUNetConfigFromDiffusers({
 *   in_channels: 3, out_channels: 6, block_out_channels: [32, 64],
 *   down_block_types: ["ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"],
 *   up_block_types: ["SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"],
 *   mid_block_type: "UNetMidBlock2DSimpleCrossAttn", cross_attention_dim: 64, attention_head_dim: 16,
 * });
 * console.log(c.timeEmbeddingDim, c.layersPerBlock); // 128 [ 2, 2 ]
 * ```
 */
export function ifUNetConfigFromDiffusers(json: Record<string, unknown>): IFUNetConfig {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new TypeError(`Cannot build an IF UNet as 'config' must be the parsed unet/config.json`);
  }
  const g = (k: string, d: unknown) => (k in json ? json[k] : d);
  const known = new Set<string>();
  const get = (k: string, d: unknown) => (known.add(k), g(k, d));
  const cls = get("_class_name", "UNet2DConditionModel");
  if (cls !== "UNet2DConditionModel") refuse("_class_name", cls, `must be "UNet2DConditionModel"`);

  const { blockOutChannels, downs, ups } = readBlocks(get);
  const n = blockOutChannels.length;
  refuseUnimplemented(get);
  const oca = get("only_cross_attention", false);
  const onlyCrossAttention = perBlock("only_cross_attention", oca, n, bool);
  const mbo = get("mid_block_only_cross_attention", null);
  const midBlockOnlyCrossAttention = mbo === null
    ? (typeof oca === "boolean" ? oca : false)
    : bool("mid_block_only_cross_attention", mbo);
  const attentionHeadDim = perBlock("attention_head_dim", get("attention_head_dim", 8), n, posInt);
  const layersPerBlock = perBlock("layers_per_block", get("layers_per_block", 2), n, posInt);
  const cad = get("cross_attention_dim", 1280);
  if (Array.isArray(cad)) refuse("cross_attention_dim", cad, "is not implemented as a list");
  const crossAttentionDim = posInt("cross_attention_dim", cad);
  const ehdt = get("encoder_hid_dim_type", null);
  const ehd = get("encoder_hid_dim", null);
  if (ehdt !== null && ehdt !== "text_proj") {
    refuse("encoder_hid_dim_type", ehdt, `is not implemented (only "text_proj")`);
  }
  if (ehdt !== null && ehd === null) {
    refuse("encoder_hid_dim", ehd, "must be set with encoder_hid_dim_type");
  }
  const encoderHidDim = ehd === null ? null : posInt("encoder_hid_dim", ehd);
  const cet = get("class_embed_type", null);
  if (cet !== null && cet !== "timestep") {
    refuse("class_embed_type", cet, `is not implemented (only null and "timestep")`);
  }
  const aet = get("addition_embed_type", null);
  if (aet !== null && aet !== "text") {
    refuse("addition_embed_type", aet, `is not implemented (only null and "text")`);
  }
  const tst = get("resnet_time_scale_shift", "default");
  if (tst !== "default" && tst !== "scale_shift") {
    refuse("resnet_time_scale_shift", tst, `must be "default" or "scale_shift"`);
  }
  const tet = get("time_embedding_type", "positional");
  if (tet !== "positional") {
    refuse("time_embedding_type", tet, `is not implemented (only "positional")`);
  }
  const can = get("cross_attention_norm", null);
  if (can !== null && can !== "group_norm") {
    refuse("cross_attention_norm", can, `is not implemented (only null and "group_norm")`);
  }
  const at = get("attention_type", "default");
  if (at !== "default") refuse("attention_type", at, `is not implemented (only "default")`);
  const kernel = (k: string) => {
    const v = posInt(k, get(k, 3));
    if (v % 2 !== 1) refuse(k, v, "must be odd");
    return v;
  };
  const ng = get("norm_num_groups", 32);
  if (ng === null) refuse("norm_num_groups", ng, "is not implemented as null");
  const tea = get("time_embedding_act_fn", null);
  const ted = get("time_embedding_dim", null);
  const ss = get("sample_size", null);
  const config: IFUNetConfig = {
    inChannels: posInt("in_channels", get("in_channels", 4)),
    outChannels: posInt("out_channels", get("out_channels", 4)),
    sampleSize: ss === null ? null : posInt("sample_size", ss),
    centerInputSample: bool("center_input_sample", get("center_input_sample", false)),
    flipSinToCos: bool("flip_sin_to_cos", get("flip_sin_to_cos", true)),
    freqShift: Number(get("freq_shift", 0)),
    downBlockTypes: downs,
    upBlockTypes: ups,
    blockOutChannels,
    layersPerBlock,
    onlyCrossAttention,
    midBlockOnlyCrossAttention,
    attentionHeadDim,
    resnetOutScaleFactor: num("resnet_out_scale_factor", get("resnet_out_scale_factor", 1)),
    midBlockScaleFactor: num("mid_block_scale_factor", get("mid_block_scale_factor", 1)),
    actFn: activation("act_fn", get("act_fn", "silu")),
    normNumGroups: posInt("norm_num_groups", ng),
    normEps: num("norm_eps", get("norm_eps", 1e-5)),
    crossAttentionDim,
    encoderHidDim,
    classEmbedType: cet as "timestep" | null,
    additionEmbedType: aet as "text" | null,
    additionEmbedTypeNumHeads: posInt(
      "addition_embed_type_num_heads",
      get("addition_embed_type_num_heads", 64),
    ),
    resnetTimeScaleShift: tst,
    resnetSkipTimeAct: bool("resnet_skip_time_act", get("resnet_skip_time_act", false)),
    timeEmbeddingDim: ted === null ? 4 * blockOutChannels[0] : posInt("time_embedding_dim", ted),
    timeEmbeddingActFn: tea === null ? null : activation("time_embedding_act_fn", tea),
    convInKernel: kernel("conv_in_kernel"),
    convOutKernel: kernel("conv_out_kernel"),
    crossAttentionNorm: can as "group_norm" | null,
  };
  if (!Number.isFinite(config.freqShift)) refuse("freq_shift", json.freq_shift, "must be a number");
  for (const [k, v] of Object.entries(json)) {
    if (known.has(k) || NO_EFFECT.has(k) || k.startsWith("_")) continue;
    if (v !== null && v !== false) refuse(k, v, "is not implemented");
  }
  return Object.freeze(config);
}
