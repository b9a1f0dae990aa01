// Private: BatchMatMul and _FusedMatMul for the wasm backend through cblas_sgemm on the wasm heap.
// Operands of any rank ≥ 2 (tfjs 4.22 passes 2-D tensors on some paths, 3-D on others), outer
// dimensions broadcast as numpy does; one sgemm per output batch (one in all when `b` is shared
// and `a` is not transposed: the batch folds into M).
import { tf } from "./deps.ts";
import { type Blas, NoTrans, RowMajor, Trans } from "./blas.ts";
import { type Activation, epilogue, f32Index, fillRows, heapF32, isRowBias } from "./_epilogue.ts";
import type { Info, WasmBackend } from "./_wasm.ts";

type KernelArgs = {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
};

/** Shapes of a matmul: output shape and, per output batch, the batch index into a and b. */
export function matMulPlan(a: Info, b: Info, transposeA: boolean, transposeB: boolean) {
  const ra = a.shape.length, rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ` +
        `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batch = tf.util.sizeFromShape(outer);
  const ia = new Int32Array(batch), ib = new Int32Array(batch);
  const sizeA = tf.util.sizeFromShape(outerA), sizeB = tf.util.sizeFromShape(outerB);
  if (sizeA === batch && sizeB === batch) {
    for (let i = 0; i < batch; i++) ia[i] = ib[i] = i;
  } else {
    // General broadcasting: walk the output's outer index and map it into a and b.
    const r = outer.length;
    const padA = [...new Array(r - outerA.length).fill(1), ...outerA];
    const padB = [...new Array(r - outerB.length).fill(1), ...outerB];
    const idx = new Array(r).fill(0);
    for (let i = 0; i < batch; i++) {
      let offA = 0, offB = 0;
      for (let d = 0; d < r; d++) {
        offA = offA * padA[d] + (padA[d] === 1 ? 0 : idx[d]);
        offB = offB * padB[d] + (padB[d] === 1 ? 0 : idx[d]);
      }
      ia[i] = offA;
      ib[i] = offB;
      for (let d = r - 1; d >= 0; d--) {
        if (++idx[d] < outer[d]) break;
        idx[d] = 0;
      }
    }
  }
  return { m, n, k, outShape: [...outer, m, n], batch, ia, ib, sizeA, sizeB };
}

/**
 * C = op(A)·op(B) (+ bias rows), written into a new output tensor. Returns the output and whether
 * the bias was folded in.
 */
function gemmInto(
  blas: Blas,
  backend: WasmBackend,
  a: Info,
  b: Info,
  transposeA: boolean,
  transposeB: boolean,
  bias: Info | undefined,
): { out: Info; biasDone: boolean } {
  const p = matMulPlan(a, b, transposeA, transposeB);
  const out = backend.makeOutput(p.outShape, "float32");
  const total = p.batch * p.m * p.n;
  const foldBias = isRowBias(bias, p.n);
  if (total === 0) return { out, biasDone: true };
  const heap = heapF32(backend); // after makeOutput: the heap may have grown
  const ao = f32Index(backend, a), bo = f32Index(backend, b), co = f32Index(backend, out);
  if (p.k === 0) {
    heap.fill(0, co, co + total);
    if (foldBias) fillRows(heap, co, f32Index(backend, bias!), p.batch * p.m, p.n);
    return { out, biasDone: foldBias };
  }
  if (foldBias) fillRows(heap, co, f32Index(backend, bias!), p.batch * p.m, p.n);
  const beta = foldBias ? 1 : 0;
  const ta = transposeA ? Trans : NoTrans, tb = transposeB ? Trans : NoTrans;
  const lda = transposeA ? p.m : p.k, ldb = transposeB ? p.k : p.n;
  const strideA = p.m * p.k, strideB = p.k * p.n, strideC = p.m * p.n;
  if (p.sizeB === 1 && !transposeA && p.sizeA === p.batch) {
    // b is shared and a's rows are contiguous across the batch: one GEMM with M = batch·m.
    blas.sgemm(
      RowMajor,
      ta,
      tb,
      p.batch * p.m,
      p.n,
      p.k,
      1,
      heap.subarray(ao),
      lda,
      heap.subarray(bo),
      ldb,
      beta,
      heap.subarray(co),
      p.n,
    );
  } else {
    for (let i = 0; i < p.batch; i++) {
      blas.sgemm(
        RowMajor,
        ta,
        tb,
        p.m,
        p.n,
        p.k,
        1,
        heap.subarray(ao + p.ia[i] * strideA),
        lda,
        heap.subarray(bo + p.ib[i] * strideB),
        ldb,
        beta,
        heap.subarray(co + i * strideC),
        p.n,
      );
    }
  }
  return { out, biasDone: foldBias };
}

/** BatchMatMul kernel config. */
export function batchMatMulConfig(blas: Blas, original?: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: "BatchMatMul",
    backendName: "wasm",
    kernelFunc: (({ inputs, backend, attrs }: KernelArgs) => {
      const { a, b } = inputs as { a: Info; b: Info };
      if ((a.dtype !== "float32" || b.dtype !== "float32") && original) {
        return original.kernelFunc({ inputs, backend, attrs: attrs ?? {} });
      }
      const { transposeA = false, transposeB = false } = (attrs ?? {}) as {
        transposeA?: boolean;
        transposeB?: boolean;
      };
      return gemmInto(
        blas,
        backend as unknown as WasmBackend,
        a,
        b,
        transposeA,
        transposeB,
        undefined,
      )
        .out;
    }) as unknown as tf.KernelFunc,
  };
}

/** _FusedMatMul kernel config: matmul, then bias (folded into the GEMM) and activation. */
export function fusedMatMulConfig(blas: Blas, original?: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: "_FusedMatMul",
    backendName: "wasm",
    kernelFunc: (({ inputs, backend, attrs }: KernelArgs) => {
      const { a, b, bias, preluActivationWeights } = inputs as Record<string, Info | undefined>;
      if ((a!.dtype !== "float32" || b!.dtype !== "float32") && original) {
        return original.kernelFunc({ inputs, backend, attrs: attrs ?? {} });
      }
      const { transposeA = false, transposeB = false, activation, leakyreluAlpha } = (attrs ??
        {}) as {
          transposeA?: boolean;
          transposeB?: boolean;
          activation?: Activation;
          leakyreluAlpha?: number;
        };
      const wb = backend as unknown as WasmBackend;
      const { out, biasDone } = gemmInto(blas, wb, a!, b!, transposeA, transposeB, bias);
      return epilogue(wb, out, bias, biasDone, activation, preluActivationWeights, leakyreluAlpha);
    }) as unknown as tf.KernelFunc,
  };
}
