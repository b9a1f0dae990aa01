/**
 * Named configs with the shapes of the real DeepFloyd IF models: `if-i-m` (stage I medium, 64²),
 * `if-ii-m` (stage II medium, 64² → 256²) as diffusers `UNet2DConditionModel` configs with their
 * schedulers, and `t5-v1_1-xxl` (the text encoder, a transformers `T5Config`). They let a bench or
 * a test build IF-shaped models from random weights, and count parameters without allocating any.
 *
 * Sources (see reports/2026-12-08-if-real-shapes.md for the derivation and what is not verified):
 * - Block types, `cross_attention_norm`, `act_fn`, `addition_embed_type`, `encoder_hid_dim` and
 *   stage I's scheduler: diffusers v0.21.4 (commit f5942649) `scripts/convert_if.py`,
 *   `create_unet_diffusers_config` lines 217–302 and `convert_stage_1_pipeline` lines 82–89.
 * - Stage II's `time_embedding_dim`, `time_embedding_act_fn`, `resnet_skip_time_act`, the 1/0.7071
 *   scale factors, `only_cross_attention`, `class_embed_type` "timestep" and its two schedulers:
 *   the same file, `get_super_res_unet` lines 731–751 and `convert_super_res_pipeline` 118–129;
 *   stage II's `layers_per_block` [2, 2, 3, 5, 5] from the block slices that `verify_param_count`
 *   (lines 1145–1166) checks for "-II-" checkpoints.
 * - The widths (`model_channels` × `channel_mult`, `encoder_channels`) live in each checkpoint's
 *   `config.yml` on the Hugging Face hub, which neither deep-floyd/IF nor diffusers contains: they
 *   are reconstructed so that the parameter count matches the figure that deep-floyd/IF's README
 *   (model zoo table, lines 304–307 at ffc8163) publishes: IF-I-M 400 M, IF-II-M 450 M.
 * - T5 v1.1 XXL: google/t5-v1_1-xxl's `config.json` (d_model 4096, d_ff 10240, 64 heads × 64,
 *   24 layers, gated-GELU); the encoder has 4.7 B parameters (issue 31).
 *
 * @module
 */
import { ifUNetConfigFromDiffusers } from "./if_unet_config.ts";
import { ifUNetParameterShapes } from "./if_unet.ts";

/** The preset names. */
export const IF_PRESET_NAMES = ["if-i-m", "if-ii-m", "t5-v1_1-xxl"] as const;
/** A preset name. */
export type IFPresetName = typeof IF_PRESET_NAMES[number];

/** A preset: diffusers / transformers config objects as their `config.json` files hold them. */
export interface IFPreset {
  /** `"unet"`: a stage's UNet (+ schedulers); `"t5"`: the text encoder. */
  kind: "unet" | "t5";
  /** `unet/config.json` or `text_encoder/config.json`. */
  config: Record<string, unknown>;
  /** `scheduler/scheduler_config.json` (UNet presets). */
  scheduler?: Record<string, unknown>;
  /** Stage II: `image_noising_scheduler/scheduler_config.json`. */
  imageNoisingScheduler?: Record<string, unknown>;
  /** `model_index.json`'s `_class_name` (UNet presets). */
  pipelineClass?: string;
  /** The parameter count the model's publishers state. */
  publishedParams: number;
}

const SQRT2 = 1 / 0.7071; // convert_if.py line 742: "resnet_out_scale_factor" = 1 / 0.7071

/** The keys of stage I and stage II configs that convert_if.py sets the same way (lines 277–302). */
const COMMON = {
  _class_name: "UNet2DConditionModel",
  out_channels: 6,
  attention_head_dim: 64,
  cross_attention_norm: "group_norm",
  mid_block_type: "UNetMidBlock2DSimpleCrossAttn",
  addition_embed_type: "text",
  act_fn: "gelu",
  resnet_time_scale_shift: "scale_shift",
  encoder_hid_dim: 4096,
  upcast_attention: false,
  use_linear_projection: false,
};

function presetTable(): Record<IFPresetName, IFPreset> {
  return {
    "if-i-m": {
      kind: "unet",
      pipelineClass: "IFPipeline",
      publishedParams: 400e6,
      config: {
        ...COMMON,
        in_channels: 3,
        sample_size: 64,
        // model_channels 192, channel_mult 1,2,3,4 (reconstructed, see the module doc)
        block_out_channels: [192, 384, 576, 768],
        layers_per_block: 3,
        cross_attention_dim: 768,
        // attention at 64 / 32, 16, 8 px: downsampling factors 2, 4, 8 (convert_if.py 218–249)
        down_block_types: [
          "ResnetDownsampleBlock2D",
          "SimpleCrossAttnDownBlock2D",
          "SimpleCrossAttnDownBlock2D",
          "SimpleCrossAttnDownBlock2D",
        ],
        up_block_types: [
          "SimpleCrossAttnUpBlock2D",
          "SimpleCrossAttnUpBlock2D",
          "SimpleCrossAttnUpBlock2D",
          "ResnetUpsampleBlock2D",
        ],
      },
      scheduler: {
        _class_name: "DDPMScheduler",
        num_train_timesteps: 1000,
        variance_type: "learned_range",
        beta_schedule: "squaredcos_cap_v2",
        prediction_type: "epsilon",
        thresholding: true,
        dynamic_thresholding_ratio: 0.95,
        sample_max_value: 1.5,
      },
    },
    "if-ii-m": {
      kind: "unet",
      pipelineClass: "IFSuperResolutionPipeline",
      publishedParams: 450e6,
      config: {
        ...COMMON,
        in_channels: 6,
        sample_size: 256,
        // model_channels 160, channel_mult 1,2,3,4,4 (reconstructed, see the module doc)
        block_out_channels: [160, 320, 480, 640, 640],
        layers_per_block: [2, 2, 3, 5, 5],
        cross_attention_dim: 768,
        down_block_types: [
          "ResnetDownsampleBlock2D",
          "ResnetDownsampleBlock2D",
          "ResnetDownsampleBlock2D",
          "SimpleCrossAttnDownBlock2D",
          "SimpleCrossAttnDownBlock2D",
        ],
        up_block_types: [
          "SimpleCrossAttnUpBlock2D",
          "SimpleCrossAttnUpBlock2D",
          "ResnetUpsampleBlock2D",
          "ResnetUpsampleBlock2D",
          "ResnetUpsampleBlock2D",
        ],
        class_embed_type: "timestep",
        time_embedding_dim: 640, // model_channels × channel_mult[-1] (line 732)
        time_embedding_act_fn: "gelu",
        resnet_skip_time_act: true,
        resnet_out_scale_factor: SQRT2,
        mid_block_scale_factor: SQRT2,
        only_cross_attention: true,
      },
      scheduler: {
        _class_name: "DDPMScheduler",
        num_train_timesteps: 1000,
        variance_type: "learned_range",
        beta_schedule: "squaredcos_cap_v2",
        prediction_type: "epsilon",
        thresholding: true,
        dynamic_thresholding_ratio: 0.95,
        sample_max_value: 1.0,
      },
      imageNoisingScheduler: {
        _class_name: "DDPMScheduler",
        num_train_timesteps: 1000,
        beta_schedule: "squaredcos_cap_v2",
      },
    },
    "t5-v1_1-xxl": {
      kind: "t5",
      publishedParams: 4.7e9,
      config: {
        architectures: ["T5EncoderModel"],
        model_type: "t5",
        d_model: 4096,
        d_ff: 10240,
        d_kv: 64,
        num_heads: 64,
        num_layers: 24,
        num_decoder_layers: 24,
        vocab_size: 32128,
        relative_attention_num_buckets: 32,
        relative_attention_max_distance: 128,
        feed_forward_proj: "gated-gelu",
        dense_act_fn: "gelu_new",
        is_gated_act: true,
        layer_norm_epsilon: 1e-6,
        tie_word_embeddings: false,
        pad_token_id: 0,
        eos_token_id: 1,
        torch_dtype: "bfloat16",
      },
    },
  };
}

/**
 * A named preset (a fresh copy: the caller may change it).
 *
 * @param name One of {@link IF_PRESET_NAMES}.
 * @returns The preset's configs.
 *
 * @example
 * ```ts
 * import { ifPreset, ifUNetParameterCount } from "./if_presets.ts";
 * const p = ifPreset("if-i-m");
 * console.log((ifUNetParameterCount(p.config) / 1e6).toFixed(0)); // 372
 * ```
 */
export function ifPreset(name: IFPresetName): IFPreset {
  if (!(IF_PRESET_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(
      `Cannot find IF preset 'name' ${JSON.stringify(name)}: known are ${
        IF_PRESET_NAMES.join(", ")
      }`,
    );
  }
  return structuredClone(presetTable()[name]);
}

/**
 * The number of parameters of an IF UNet config, from its shapes only (nothing allocated).
 *
 * @param config A diffusers `unet/config.json` object.
 * @returns The parameter count.
 */
export function ifUNetParameterCount(config: Record<string, unknown>): number {
  let n = 0;
  for (const s of ifUNetParameterShapes(ifUNetConfigFromDiffusers(config)).values()) {
    n += s.reduce((a, b) => a * b, 1);
  }
  return n;
}

/**
 * The tensor shapes of a T5 v1.1 encoder (`T5EncoderModel`) in transformers' names, from its
 * `config.json`: the shared embedding, per block self-attention q/k/v/o (relative position bias in
 * block 0 only), gated-GELU wi_0/wi_1/wo, two RMS norms, and the final norm.
 *
 * @param config A transformers T5 `config.json` object.
 * @returns Shapes by tensor name (PyTorch `[out, in]` layouts).
 */
export function t5EncoderParameterShapes(config: Record<string, unknown>): Map<string, number[]> {
  const int = (k: string) => {
    const v = config[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
      throw new RangeError(
        `Cannot size a T5 encoder as '${k}' must be a positive integer: current value is ${
          JSON.stringify(v)
        }`,
      );
    }
    return v;
  };
  const d = int("d_model"), ff = int("d_ff"), inner = int("num_heads") * int("d_kv");
  const out = new Map<string, number[]>([["shared.weight", [int("vocab_size"), d]]]);
  for (let i = 0; i < int("num_layers"); i++) {
    const b = `encoder.block.${i}.layer`;
    for (const p of ["q", "k", "v"]) out.set(`${b}.0.SelfAttention.${p}.weight`, [inner, d]);
    out.set(`${b}.0.SelfAttention.o.weight`, [d, inner]);
    if (i === 0) {
      out.set(`${b}.0.SelfAttention.relative_attention_bias.weight`, [
        int("relative_attention_num_buckets"),
        int("num_heads"),
      ]);
    }
    out.set(`${b}.0.layer_norm.weight`, [d]);
    out.set(`${b}.1.DenseReluDense.wi_0.weight`, [ff, d]);
    out.set(`${b}.1.DenseReluDense.wi_1.weight`, [ff, d]);
    out.set(`${b}.1.DenseReluDense.wo.weight`, [d, ff]);
    out.set(`${b}.1.layer_norm.weight`, [d]);
  }
  out.set("encoder.final_layer_norm.weight", [d]);
  return out;
}

/**
 * The number of parameters of a T5 v1.1 encoder config (nothing allocated).
 *
 * @param config A transformers T5 `config.json` object.
 * @returns The parameter count.
 */
export function t5EncoderParameterCount(config: Record<string, unknown>): number {
  let n = 0;
  for (const s of t5EncoderParameterShapes(config).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}
