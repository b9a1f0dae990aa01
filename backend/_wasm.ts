// Private helpers for kernels that run on tfjs's wasm backend: heap access and calls into wasm's
// own kernel functions. Every view of the heap is made after the last allocation of a kernel:
// `_malloc` may grow the wasm Memory, which replaces its ArrayBuffer.
import { tf } from "./deps.ts";

/** The parts of tfjs-backend-wasm's `BackendWasm` these kernels use. */
export interface WasmBackend {
  wasm: {
    HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  };
  dataIdMap: { get(dataId: unknown): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  disposeData(dataId: unknown, force?: boolean): boolean;
}

/** A `TensorInfo` (borrowed input or kernel output). */
export type Info = tf.TensorInfo;

/** The current heap as float32 (re-read on every call: memory growth replaces the buffer). */
export function heapF32(backend: WasmBackend): Float32Array {
  const buffer = backend.wasm.HEAPU8.buffer;
  return new Float32Array(buffer, 0, buffer.byteLength >>> 2);
}

/** Index (in floats) of a tensor's first element on the heap. */
export function f32Index(backend: WasmBackend, info: Info): number {
  const entry = backend.dataIdMap.get(info.dataId);
  if (entry === undefined) throw new Error("tensor is not on the wasm backend");
  return entry.memoryOffset >>> 2;
}

/** A float32 view of one tensor's data on the current heap. */
export function viewOf(backend: WasmBackend, info: Info): Float32Array {
  return new Float32Array(
    backend.wasm.HEAPU8.buffer,
    f32Index(backend, info) * 4,
    tf.util.sizeFromShape(info.shape),
  );
}

/** Runs the kernel currently registered for `name` on the wasm backend; the result is owned. */
export function runWasmKernel(
  name: string,
  inputs: Record<string, Info> | Info[],
  backend: WasmBackend,
  attrs: Record<string, unknown> = {},
): Info {
  const config = tf.getKernel(name, "wasm");
  if (config === undefined) throw new Error(`wasm has no kernel ${name}`);
  const out = config.kernelFunc({
    inputs: inputs as tf.NamedTensorInfoMap,
    backend: backend as unknown as tf.KernelBackend,
    attrs: attrs as tf.NamedAttrMap,
  });
  return (Array.isArray(out) ? out[0] : out) as Info;
}

/** The same data seen with another shape (no copy, no reference count: never dispose it). */
export function asShape(info: Info, shape: number[]): Info {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/** Disposes kernel-owned intermediates. */
export function free(backend: WasmBackend, ...infos: Info[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}
