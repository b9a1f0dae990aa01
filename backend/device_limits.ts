import { tf } from "./deps.ts";

/**
 * The largest float32 tensor (in elements) that one kernel of the active backend can bind:
 * WebGPU's `maxStorageBufferBindingSize / 4` on webgpu (128 MiB → 33.5 M elements on Mesa's
 * lavapipe; tfjs-webgpu does not split larger tensors, and WebGPU drops the whole command buffer
 * when a binding is too large), `Infinity` elsewhere. Model code splits work that would exceed it
 * (e.g. attention scores by query rows).
 *
 * @returns Elements, or `Infinity`.
 *
 * @example
 * ```ts
 * import { tf } from "./deps.ts";
 * import { maxKernelElements } from "./device_limits.ts";
 * await tf.setBackend("cpu");
 * console.log(maxKernelElements()); // Infinity
 * ```
 */
export function maxKernelElements(): number {
  if (tf.getBackend() !== "webgpu") return Infinity;
  const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
  const bytes = device?.limits.maxStorageBufferBindingSize;
  return bytes === undefined ? Infinity : Math.floor(bytes / 4);
}
