// Private: non-GEMM kernels that make training on wasm cheaper, registered with the BLAS kernels.
// - Identity and same-dtype Cast share the input's data (reference count + 1), as tfjs's cpu
//   backend does, instead of copying it: tfjs clones every tensor it saves for the backward pass
//   through Identity, ~700 copies per reference training step. tfjs tensors are immutable (a
//   Variable's assign swaps its dataId), so sharing is safe.
// - Sum over leading axes (bias and broadcast gradients: [B, H, W, C] → [C]) is one GEMV-shaped
//   sgemm, ones[1, P] · X[P, C], where wasm transposes first.
import { tf } from "./deps.ts";
import { type Blas, NoTrans, RowMajor } from "./blas.ts";
import { f32Index, freeScratch, heapF32, scratch } from "./_epilogue.ts";
import type { Info, WasmBackend } from "./_wasm.ts";

type KernelArgs = {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
};

type RefCounting = { incRef(dataId: unknown): void };

/** Identity kernel config (shares data). */
export function identityConfig(original?: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: "Identity",
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => {
      const { x } = args.inputs as { x: Info };
      if (x.dtype === "string" && original) {
        return original.kernelFunc({ ...args, attrs: args.attrs ?? {} });
      }
      (args.backend as unknown as RefCounting).incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    }) as unknown as tf.KernelFunc,
  };
}

/** Cast kernel config (shares data when the dtype does not change). */
export function castConfig(original?: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: "Cast",
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => {
      const { x } = args.inputs as { x: Info };
      const { dtype } = (args.attrs ?? {}) as { dtype?: tf.DataType };
      if ((dtype !== x.dtype || x.dtype === "string") && original) {
        return original.kernelFunc({ ...args, attrs: args.attrs ?? {} });
      }
      (args.backend as unknown as RefCounting).incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    }) as unknown as tf.KernelFunc,
  };
}

/** Sum kernel config (leading-axes float32 reductions through sgemm; others to wasm's own). */
export function sumConfig(blas: Blas, original?: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: "Sum",
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => {
      const { x } = args.inputs as { x: Info };
      const { axis, keepDims = false } = (args.attrs ?? {}) as {
        axis: number | number[];
        keepDims?: boolean;
      };
      const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
      const k = axes.length;
      const leading = k > 0 && k < x.shape.length && axes.every((a, i) => a === i);
      const p = tf.util.sizeFromShape(x.shape.slice(0, k));
      const c = tf.util.sizeFromShape(x.shape.slice(k));
      if (x.dtype !== "float32" || !leading || p < 2 || c === 0) {
        if (original === undefined) throw new Error("Sum: case not supported");
        return original.kernelFunc({ ...args, attrs: args.attrs ?? {} });
      }
      const backend = args.backend as unknown as WasmBackend;
      const shape = keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k);
      const out = backend.makeOutput(shape, "float32");
      const ones = scratch(backend, p);
      const heap = heapF32(backend);
      heap.fill(1, ones, ones + p);
      blas.sgemm(
        RowMajor,
        NoTrans,
        NoTrans,
        1,
        c,
        p,
        1,
        heap.subarray(ones),
        p,
        heap.subarray(f32Index(backend, x)),
        c,
        0,
        heap.subarray(f32Index(backend, out)),
        c,
      );
      freeScratch(backend, ones);
      return out;
    }) as unknown as tf.KernelFunc,
  };
}
