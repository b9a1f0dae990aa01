/**
 * Offset noise (Guttenberg 2023, "Diffusion with offset noise"): ε ← ε + s·δ with one
 * δ ~ N(0, 1) per image and channel, shared by every pixel, so that the model also learns to
 * change an image's mean brightness and colour (plain ε leaves the low frequencies nearly intact
 * at every t, and a model trained on it keeps every sample near mid-grey on average).
 *
 * @module
 */

/**
 * Adds a per-image, per-channel offset to NHWC noise in place: `noise[b, y, x, c] += strength ·
 * offsets[b·C + c]`.
 *
 * @param noise The noise `[B, H, W, C]`, flat (changed in place and returned).
 * @param options `offsets` (B·C standard-normal draws), `channels` (C), `strength` (s ≥ 0).
 * @returns `noise`.
 *
 * @example
 * ```ts
 * import { offsetNoise } from "./offset_noise.ts";
 * const n = offsetNoise(new Float32Array(4), { offsets: new Float32Array([1, -1]), channels: 2, strength: 0.1 });
 * console.log(Array.from(n, (v) => +v.toFixed(2))); // [0.1, -0.1, 0.1, -0.1]
 * ```
 */
export function offsetNoise(
  noise: Float32Array,
  options: { offsets: Float32Array; channels: number; strength: number },
): Float32Array {
  const { offsets, channels, strength } = options;
  if (!(strength >= 0) || !Number.isFinite(strength)) {
    throw new RangeError(
      `Cannot offset the noise as 'strength' must be a finite number ≥ 0: current value is ${strength}`,
    );
  }
  if (!Number.isInteger(channels) || channels < 1 || offsets.length % channels !== 0) {
    throw new RangeError(
      `Cannot offset the noise as 'offsets' (${offsets.length}) must hold a whole number of 'channels' (${channels})`,
    );
  }
  const batch = offsets.length / channels;
  const perImage = noise.length / batch;
  if (!Number.isInteger(perImage) || perImage % channels !== 0) {
    throw new RangeError(
      `Cannot offset the noise as its length ${noise.length} is not ${batch} images of ${channels} channels`,
    );
  }
  for (let b = 0; b < batch; b++) {
    const base = b * perImage;
    for (let i = 0; i < perImage; i++) {
      noise[base + i] += strength * offsets[b * channels + (i % channels)];
    }
  }
  return noise;
}
