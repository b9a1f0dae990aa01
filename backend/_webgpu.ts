// Private: make tfjs-backend-webgpu 4.22 usable under Deno and correct.
// - Its synchronous read copies the buffer through a 2D canvas, which Deno does not have ("Cannot
//   read properties of null (reading 'clearRect')"), and WebGPU offers no way to wait for a buffer
//   synchronously; reads must be `await tensor.data()`. A sync read of a GPU-resident tensor now
//   throws an error that says so.
// - Its AddN binds every input in one shader: with more inputs than the device's
//   maxStorageBuffersPerShaderStage − 1 (7 at WebGPU's default limits) the pipeline is invalid, and
//   WebGPU drops the whole command buffer silently (losses read back as 0, gradients as 0).
//   AddN is re-registered to sum in chunks that fit.
// - Validation errors WebGPU would swallow are printed (once per message).
import { tf } from "./deps.ts";

/** Applies every fix below to the registered webgpu backend (idempotent). */
export function patchWebgpu(): void {
  guardWebgpuReadSync();
  chunkWebgpuAddN();
  reportUncapturedErrors();
}

type WebgpuBackend = {
  device: GPUDevice;
  disposeData(dataId: unknown): boolean;
  readSync(dataId: unknown): unknown;
  tensorMap: { get(dataId: unknown): { values: unknown; dtype: string } | undefined };
};

const guarded = new WeakSet<object>();

/** Whether this runtime can draw into a 2D canvas (tfjs-webgpu's sync read needs one). */
function has2dCanvas(): boolean {
  try {
    const C = (globalThis as { OffscreenCanvas?: new (w: number, h: number) => unknown })
      .OffscreenCanvas;
    if (C === undefined) return false;
    const canvas = new C(1, 1) as { getContext(kind: string): unknown };
    return canvas.getContext("2d") != null;
  } catch {
    return false;
  }
}

/**
 * Wraps the webgpu backend's `readSync` (once) so that, where no 2D canvas exists, reading a tensor
 * that lives only on the GPU throws a TypeError naming the fix instead of failing inside tfjs.
 * Values already on the host (uploads, CPU-forwarded small ops) still read synchronously.
 */
function guardWebgpuReadSync(): void {
  const backend = tf.findBackend("webgpu") as unknown as WebgpuBackend | null;
  if (backend === null || guarded.has(backend) || has2dCanvas()) return;
  guarded.add(backend);
  const readSync = backend.readSync;
  backend.readSync = function (dataId: unknown) {
    const data = this.tensorMap.get(dataId);
    if (data !== undefined && data.values == null && data.dtype !== "string") {
      throw new TypeError(
        "Cannot read a webgpu tensor synchronously (dataSync/arraySync) in this runtime: " +
          "tfjs-backend-webgpu reads back through a 2D canvas, which it lacks; use " +
          "`await tensor.data()` instead",
      );
    }
    return readSync.call(this, dataId);
  };
}

let addNChunked = false;

/** Re-registers webgpu's AddN so that no shader binds more storage buffers than the device allows. */
function chunkWebgpuAddN(): void {
  if (addNChunked) return;
  const config = tf.getKernel("AddN", "webgpu");
  if (config === undefined) return;
  addNChunked = true;
  const own = config.kernelFunc;
  tf.unregisterKernel("AddN", "webgpu");
  tf.registerKernel({
    ...config,
    kernelFunc: (args) => {
      const backend = args.backend as unknown as WebgpuBackend;
      const max = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
      let inputs = args.inputs as unknown as tf.TensorInfo[];
      const partial: tf.TensorInfo[] = [];
      while (inputs.length > max) {
        const next: tf.TensorInfo[] = [];
        for (let i = 0; i < inputs.length; i += max) {
          const chunk = inputs.slice(i, i + max);
          if (chunk.length === 1) {
            next.push(chunk[0]);
            continue;
          }
          const sum = own({ ...args, inputs: chunk as unknown as tf.NamedTensorInfoMap });
          partial.push(sum as tf.TensorInfo);
          next.push(sum as tf.TensorInfo);
        }
        inputs = next;
      }
      const out = own({ ...args, inputs: inputs as unknown as tf.NamedTensorInfoMap });
      for (const t of partial) backend.disposeData(t.dataId);
      return out;
    },
  });
}

const reportedDevices = new WeakSet<object>();

/** Prints WebGPU validation errors (each message once): tfjs never listens for them. */
function reportUncapturedErrors(): void {
  const backend = tf.findBackend("webgpu") as unknown as WebgpuBackend | null;
  if (backend === null || reportedDevices.has(backend.device)) return;
  reportedDevices.add(backend.device);
  const seen = new Set<string>();
  backend.device.addEventListener("uncapturederror", (event) => {
    const message = (event as GPUUncapturedErrorEvent).error.message;
    if (seen.has(message)) return;
    seen.add(message);
    console.error(`webgpu: ${message.split("\n")[0]}`);
  });
}
