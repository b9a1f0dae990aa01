// Private: run a JavaScript loop over float32 tensors without copies on the wasm backend (views
// of the wasm heap) and with dataSync/tf.tensor elsewhere. Outputs are allocated first: the heap
// views are made after the last allocation (growth replaces the heap's buffer).
import { tf } from "./deps.ts";
import type { WasmBackend } from "./_wasm.ts";
import type { NativeBackend } from "./_engine_kernels.ts";

/**
 * Computes `fn(inputs, outputs)` where `inputs` are read-only float32 views of `tensors` and
 * `outputs` are float32 arrays of `outShapes` (fresh, except on the native engine, whose pooled
 * arrays hold old values: `fn` writes every output value); returns the outputs as tensors (owned).
 * `fn` must not allocate tensors.
 */
export function jsOp(
  tensors: tf.Tensor[],
  outShapes: number[][],
  fn: (inputs: Float32Array[], outputs: Float32Array[]) => void,
): tf.Tensor[] {
  for (const t of tensors) {
    if (t.dtype !== "float32") throw new TypeError(`expected float32, got ${t.dtype}`);
  }
  if (tf.getBackend() === "wasm") {
    const backend = tf.backend() as unknown as WasmBackend;
    const infos = outShapes.map((shape) => backend.makeOutput(shape, "float32"));
    const buffer = backend.wasm.HEAPU8.buffer;
    const view = (t: tf.TensorInfo) =>
      new Float32Array(
        buffer,
        backend.dataIdMap.get(t.dataId)!.memoryOffset,
        tf.util.sizeFromShape(t.shape),
      );
    fn(tensors.map(view), infos.map(view));
    return infos.map((info) => tf.engine().makeTensorFromTensorInfo(info));
  }
  if (tf.getBackend() === "native") {
    // The native engine: its own arrays, read in place (dataSync would mark them read out, which
    // keeps them from its pool) and outputs from its pool.
    const backend = tf.backend() as unknown as NativeBackend;
    const infos = outShapes.map((shape) => backend.makeOwned(shape));
    fn(tensors.map((t) => backend.valuesOf(t)), infos.map((i) => backend.valuesOf(i)));
    return infos.map((info) => tf.engine().makeTensorFromTensorInfo(info));
  }
  const outputs = outShapes.map((shape) => new Float32Array(tf.util.sizeFromShape(shape)));
  fn(tensors.map((t) => t.dataSync() as Float32Array), outputs);
  return outputs.map((values, i) => tf.tensor(values, outShapes[i], "float32"));
}
