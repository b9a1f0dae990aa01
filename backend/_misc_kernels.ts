// Private: non-GEMM kernels that make training on wasm cheaper, registered with the BLAS kernels.
// - Identity and same-dtype Cast share the input's data (reference count + 1), as tfjs's cpu
//   backend does, instead of copying it: tfjs clones every tensor it saves for the backward pass
//   through Identity, ~700 copies per reference training step. tfjs tensors are immutable (a
//   Variable's assign swaps its dataId), so sharing is safe.
// - Sum and Mean over leading axes (bias and broadcast gradients: [B, H, W, C] → [C]) are one
//   GEMV-shaped sgemm, ones[1, P] · X[P, C], where wasm transposes first.
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

/**
 * Sum or Mean kernel config (float32). Leading axes (bias gradients): one ones-vector sgemm
 * (alpha = 1/P for the mean), where wasm transposes first. Everything else stays with wasm's
 * kernels (a JavaScript pass over interleaved axes, GroupNorm's statistics, measured no faster).
 */
export function reduceConfig(
  name: "Sum" | "Mean",
  blas: Blas,
  original?: tf.KernelConfig,
): tf.KernelConfig {
  return {
    kernelName: name,
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => {
      const { x } = args.inputs as { x: Info };
      const { axis, keepDims = false } = (args.attrs ?? {}) as {
        axis: number | number[];
        keepDims?: boolean;
      };
      const fallback = () => {
        if (original === undefined) throw new Error(`${name}: case not supported`);
        return original.kernelFunc({ ...args, attrs: args.attrs ?? {} });
      };
      if (x.dtype !== "float32" || tf.util.sizeFromShape(x.shape) === 0) return fallback();
      const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
      const k = axes.length;
      if (k === 0 || k >= x.shape.length || !axes.every((a, i) => a === i)) return fallback();
      const p = tf.util.sizeFromShape(x.shape.slice(0, k));
      const c = tf.util.sizeFromShape(x.shape.slice(k));
      if (p < 2) return fallback();
      const backend = args.backend as unknown as WasmBackend;
      const shape = keepDims
        ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
        : x.shape.filter((_, i) => !axes.includes(i));
      const count = axes.reduce((n, a) => n * x.shape[a], 1);
      const out = backend.makeOutput(shape, "float32");
      // out[C] = (1/P)·ones[1, P] · X[P, C]
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
        name === "Mean" ? 1 / count : 1,
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

/**
 * SplitV kernel config (float32): the gradient of concat (skip connections, upsampling). Each
 * output is `outer` contiguous runs of the input, copied with `copyWithin` (memmove) — wasm's
 * own goes through its generic strided slice, ~5× slower on `[8, 32, 32, 96]` split on channels.
 */
export function splitVConfig(original?: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: "SplitV",
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => {
      const { x } = args.inputs as { x: Info };
      const { numOrSizeSplits, axis } = (args.attrs ?? {}) as {
        numOrSizeSplits: number | number[];
        axis: number | number[];
      };
      if (x.dtype !== "float32" && original) {
        return original.kernelFunc({ ...args, attrs: args.attrs ?? {} });
      }
      const ax = tf.util.parseAxisParam(axis, x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(
        x as unknown as tf.Tensor,
        numOrSizeSplits,
        ax,
      );
      const backend = args.backend as unknown as WasmBackend;
      const outer = tf.util.sizeFromShape(x.shape.slice(0, ax));
      const inner = tf.util.sizeFromShape(x.shape.slice(ax + 1));
      const stride = x.shape[ax] * inner;
      const outs = sizes.map((s) => {
        const shape = [...x.shape];
        shape[ax] = s;
        return backend.makeOutput(shape, "float32");
      });
      const heap = heapF32(backend);
      const xo = f32Index(backend, x);
      let offset = 0;
      sizes.forEach((s, k) => {
        const run = s * inner;
        const dst = f32Index(backend, outs[k]);
        for (let o = 0; o < outer; o++) {
          const src = xo + o * stride + offset;
          if (run >= 16) heap.copyWithin(dst + o * run, src, src + run);
          else for (let e = 0; e < run; e++) heap[dst + o * run + e] = heap[src + e];
        }
        offset += run;
      });
      return outs;
    }) as unknown as tf.KernelFunc,
  };
}
