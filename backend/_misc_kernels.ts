// Private: non-GEMM kernels that make training on wasm cheaper, registered with the BLAS kernels.
// - Identity and same-dtype Cast share the input's data (reference count + 1), as tfjs's cpu
//   backend does, instead of copying it: tfjs clones every tensor it saves for the backward pass
//   through Identity, ~700 copies per reference training step. tfjs tensors are immutable (a
//   Variable's assign swaps its dataId), so sharing is safe.
// - Sum and Mean over leading axes (bias and broadcast gradients: [B, H, W, C] → [C]) are one
//   GEMV-shaped sgemm, ones[1, P] · X[P, C], and over interleaved axes (GroupNorm statistics) one
//   in-order JavaScript pass, where wasm transposes first.
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
 * Reduction plan: the input's dimensions with size-1 ones dropped and neighbours of the same kind
 * (kept or reduced) merged, with the output's element stride per dimension (0 where reduced).
 */
function reducePlan(shape: number[], axes: number[]) {
  const dims: number[] = [], reduced: boolean[] = [];
  shape.forEach((n, d) => {
    if (n === 1) return;
    const r = axes.includes(d);
    const k = dims.length - 1;
    if (k >= 0 && reduced[k] === r) dims[k] *= n;
    else {
      dims.push(n);
      reduced.push(r);
    }
  });
  const so = new Array(dims.length).fill(0);
  let stride = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    if (!reduced[d]) {
      so[d] = stride;
      stride *= dims[d];
    }
  }
  return { dims, reduced, so };
}

/** o[·] += x[i] over a 4-deep nest (input read in order; output strides so, 0 where reduced). */
function reduceNest(h: Float32Array, x: number, o: number, d: number[], so: number[]): void {
  const [n0, n1, n2, n3] = d, [s0, s1, s2, s3] = so;
  let i = x;
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      for (let i2 = 0; i2 < n2; i2++) {
        const base = o + i0 * s0 + i1 * s1 + i2 * s2;
        if (s3 === 0) {
          let acc = 0;
          for (let i3 = 0; i3 < n3; i3++) acc += h[i++];
          h[base] += acc;
        } else {
          for (let i3 = 0; i3 < n3; i3++) h[base + i3] += h[i++];
        }
      }
    }
  }
}

/**
 * Sum or Mean kernel config (float32). Leading axes: one ones-vector sgemm (alpha = 1/P for the
 * mean). Axes that interleave with kept ones (GroupNorm's `[B, HW, G, C/G]` over axes 1 and 3):
 * one in-order JavaScript pass on heap views, ~2× faster here than wasm, which transposes first.
 * Trailing-only or all-axes reductions, and other dtypes, stay with wasm's kernels.
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
      const p = reducePlan(x.shape, axes);
      const k = p.dims.length;
      if (k < 2 || k > 4 || !p.reduced.includes(false)) return fallback();
      if (p.reduced.every((r, d) => r === (d >= k - p.reduced.filter(Boolean).length))) {
        return fallback(); // trailing-only: wasm reduces contiguous runs well
      }
      const backend = args.backend as unknown as WasmBackend;
      const shape = keepDims
        ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
        : x.shape.filter((_, i) => !axes.includes(i));
      const count = axes.reduce((n, a) => n * x.shape[a], 1);
      const out = backend.makeOutput(shape, "float32");
      const size = tf.util.sizeFromShape(shape);
      if (k === 2 && p.reduced[0]) {
        // Leading reduction: out[C] = (1/P)·ones[1, P] · X[P, C]
        const ones = scratch(backend, p.dims[0]);
        const heap = heapF32(backend);
        heap.fill(1, ones, ones + p.dims[0]);
        blas.sgemm(
          RowMajor,
          NoTrans,
          NoTrans,
          1,
          p.dims[1],
          p.dims[0],
          name === "Mean" ? 1 / count : 1,
          heap.subarray(ones),
          p.dims[0],
          heap.subarray(f32Index(backend, x)),
          p.dims[1],
          0,
          heap.subarray(f32Index(backend, out)),
          p.dims[1],
        );
        freeScratch(backend, ones);
        return out;
      }
      const heap = heapF32(backend);
      const o = f32Index(backend, out);
      heap.fill(0, o, o + size);
      const pad = 4 - k;
      reduceNest(
        heap,
        f32Index(backend, x),
        o,
        [...new Array(pad).fill(1), ...p.dims],
        [...new Array(pad).fill(0), ...p.so],
      );
      if (name === "Mean") {
        const inv = 1 / count;
        for (let i = o; i < o + size; i++) heap[i] *= inv;
      }
      return out;
    }) as unknown as tf.KernelFunc,
  };
}
