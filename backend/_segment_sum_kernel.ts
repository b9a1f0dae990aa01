/**
 * Private: an `UnsortedSegmentSum` kernel for tfjs's wasm backend, which lacks one. The gradient
 * of `tf.gather` (the text encoder's embedding lookup) needs it, so training the text encoder on
 * wasm fails without it. Registered once, on import, only where no kernel exists (a later
 * tfjs version that ships one wins). Works in place on the wasm heap (zero-filled output,
 * then one row add per segment id).
 *
 * @module
 */
import { tf } from "./deps.ts";

interface WasmLike {
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
}

/** Registers the kernel for the wasm backend if missing; returns whether it registered it. */
export function ensureSegmentSumKernel(): boolean {
  if (tf.getKernel("UnsortedSegmentSum", "wasm") !== undefined) return false;
  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
      const wasm = backend as unknown as WasmLike;
      if (x.dtype !== "float32") {
        throw new TypeError(
          `UnsortedSegmentSum (backend/ wasm kernel) supports float32 only: current dtype is ${x.dtype}`,
        );
      }
      const n = segmentIds.shape.reduce((a, b) => a * b, 1);
      const total = x.shape.reduce((a, b) => a * b, 1);
      const row = n === 0 ? 0 : total / n;
      const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
      const out = wasm.makeOutput(outShape, "float32");
      // Views made after the allocation (it may grow the heap).
      const o = wasm.typedArrayFromHeap(out) as Float32Array;
      const xs = wasm.typedArrayFromHeap(x) as Float32Array;
      const ids = wasm.typedArrayFromHeap(segmentIds);
      o.fill(0);
      for (let i = 0; i < n; i++) {
        const s = ids[i];
        if (s < 0 || s >= numSegments) continue; // as TensorFlow: out-of-range ids are dropped
        const src = i * row, dst = s * row;
        for (let k = 0; k < row; k++) o[dst + k] += xs[src + k];
      }
      return out;
    },
  });
  return true;
}

ensureSegmentSumKernel();
