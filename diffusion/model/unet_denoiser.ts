/**
 * Adapts a {@link UNet} and its condition to the samplers' {@link Denoiser} interface, evaluating the
 * conditional and unconditional branches of classifier-free guidance in one batched call.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { UNet } from "./unet.ts";
import type { TextEmbedding } from "./t5_encoder.ts";
import type { Denoiser } from "../process/sampler.ts";

/** Options of {@link unetDenoiser}. All tensors are borrowed and must outlive the sampler call. */
export interface UNetDenoiserOptions {
  /** The text condition (null: the null condition only). */
  text?: TextEmbedding | null;
  /** SR only: the low-res image upsampled and noise-augmented, `[B, H, W, C]`. */
  lowRes?: tf.Tensor4D | null;
  /** SR only: λ of the augmentation level. */
  augLogSnr?: number;
}

/**
 * Wraps a UNet as a {@link Denoiser}.
 *
 * @param unet The model (borrowed).
 * @param options See {@link UNetDenoiserOptions}.
 * @returns A denoiser whose outputs belong to the caller.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { tf } from "../deps.ts";
 * import { UNet } from "./unet.ts";
 * import { unetDenoiser } from "./unet_denoiser.ts";
 * using net = new UNet({ imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 0 });
 * const out = unetDenoiser(net).predict(tf.zeros([1, 8, 8, 3]) as tf.Tensor4D, 0, { unconditional: false });
 * console.log(out.conditional.shape); // [ 1, 8, 8, 3 ]
 * ```
 */
export function unetDenoiser(unet: UNet, options: UNetDenoiserOptions = {}): Denoiser {
  const text = options.text ?? null;
  const lowRes = options.lowRes ?? null;
  return {
    prediction: unet.config.prediction,
    predict(zt, logSnr, { unconditional }) {
      return tf.tidy(() => {
        const b = zt.shape[0];
        const n = unconditional ? 2 * b : b;
        const twice = <T extends tf.Tensor>(
          t: T,
        ): T => (unconditional ? tf.concat([t, t], 0) as T : t);
        const keep = new Float32Array(n).fill(1, 0, b); // conditional first, then null
        const out = unet.apply(twice(zt), {
          logSnr: tf.fill([n], logSnr) as tf.Tensor1D,
          text: text
            ? { tokens: twice(text.tokens), pooled: twice(text.pooled), mask: twice(text.mask) }
            : null,
          keep: text ? tf.tensor1d(keep) : null,
          lowRes: lowRes ? twice(lowRes) : null,
          augLogSnr: lowRes ? tf.fill([n], options.augLogSnr ?? 0) as tf.Tensor1D : null,
        });
        if (!unconditional) return { conditional: out };
        const [size, , , c] = [zt.shape[1], 0, 0, zt.shape[3]];
        return {
          conditional: tf.slice(out, [0, 0, 0, 0], [b, size, zt.shape[2], c]),
          unconditional: tf.slice(out, [b, 0, 0, 0], [b, size, zt.shape[2], c]),
        };
      });
    },
  };
}
