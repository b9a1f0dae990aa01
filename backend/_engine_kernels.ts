// Private: the kernels of the native CPU engine. The engine's backend is tfjs's cpu backend class
// (tensors are JavaScript TypedArrays, outside any wasm heap); these kernels hand those arrays to
// C (backend/_native_engine.c, OpenMP threads) and to OpenBLAS's sgemm as FFI "buffer" arguments,
// zero-copy. A kernel returns `null` for a case it does not cover (another dtype, NCHW, ...) and
// the cpu backend's own kernel runs on the same memory instead.
import { MathBackendCPU, tf } from "./deps.ts";
import { type Blas, NoTrans, RowMajor, Trans } from "./blas.ts";
import { matMulPlan } from "./_matmul_kernels.ts";
import type { NativeLib } from "./_native_lib.ts";

type Info = tf.TensorInfo;
type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };
type Attrs = Record<string, unknown>;

/**
 * The engine's tfjs backend: the cpu backend's storage, with native kernels registered for it, and
 * a pool of float32 arrays. A fresh `Float32Array` of a few MiB costs page faults (and the GC's
 * work later) every time; training asks for the same sizes every step, so an array that a kernel
 * of this engine allocated is reused once its tensor is disposed. Only arrays that never left the
 * engine are reused: one read out (`readSync`/`dataSync`) or written in by anyone else (shared with
 * another tensor, e.g. a cpu kernel's subarray view) is never pooled again.
 */
export class NativeBackend extends MathBackendCPU {
  #ours = new WeakSet<ArrayBuffer>();
  #pool = new Map<number, Float32Array[]>();
  #pooled = 0;
  /** Most bytes kept for reuse (`DREAMBOOTH_NATIVE_POOL_MB`, default 256). */
  poolLimit: number;

  constructor(poolLimitBytes = 256 * 2 ** 20) {
    super();
    // The cpu backend prints an "install tfjs-node" banner on first use (Deno reports itself as
    // Node to tfjs); this engine is the faster path it advertises.
    (this as unknown as { firstUse: boolean }).firstUse = false;
    this.poolLimit = poolLimitBytes;
  }

  /** A float32 output of `shape` owned by this engine (contents undefined: write every value). */
  makeOwned(shape: number[]): Info {
    const n = tf.util.sizeFromShape(shape);
    const list = this.#pool.get(n);
    let values = list?.pop();
    if (values !== undefined) {
      this.#pooled -= n * 4;
      if (list!.length === 0) this.#pool.delete(n);
    } else values = new Float32Array(n);
    const info = this.makeTensorInfo(shape, "float32", values);
    this.#ours.add(values.buffer as ArrayBuffer); // after write(), which untracks
    return info;
  }

  /** A tensor's values without marking them read out (for kernels of this engine). */
  valuesOf(info: Info): Float32Array {
    const values = this.data.get(info.dataId)!.values;
    if (values instanceof Float32Array) return values;
    // A float32 tensor may share another typed array: the cpu backend's Cast int32 → float32 keeps
    // its input's Int32Array (same dataId). Widen a copy; reading its bits as float32 would be wrong.
    return Float32Array.from(values as ArrayLike<number>);
  }

  /** Bytes held for reuse now. */
  pooledBytes(): number {
    return this.#pooled;
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType) {
    this.#untrack(values);
    return super.write(values, shape, dtype);
  }

  override move(
    dataId: object,
    values: tf.backend_util.BackendValues,
    shape: number[],
    dtype: tf.DataType,
    refCount: number,
  ): void {
    this.#untrack(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: object): tf.backend_util.BackendValues {
    const values = super.readSync(dataId);
    this.#untrack(values);
    const own = this.data.get(dataId)?.values;
    if (own !== undefined) this.#untrack(own);
    return values;
  }

  override disposeData(dataId: object, force = false): boolean {
    const entry = this.data.get(dataId);
    const released = super.disposeData(dataId, force);
    const values = entry?.values;
    if (
      released && entry !== undefined && !this.data.has(dataId) && values instanceof Float32Array &&
      values.length >= 1024 && this.#ours.has(values.buffer as ArrayBuffer) &&
      this.#pooled + values.length * 4 <= this.poolLimit
    ) {
      const list = this.#pool.get(values.length);
      if (list === undefined) this.#pool.set(values.length, [values]);
      else list.push(values);
      this.#pooled += values.length * 4;
    }
    return released;
  }

  override dispose(): void {
    this.#pool.clear();
    this.#pooled = 0;
    super.dispose();
  }

  #untrack(values: unknown): void {
    if (ArrayBuffer.isView(values)) this.#ours.delete(values.buffer as ArrayBuffer);
  }
}

/** A kernel body: the output(s), or `null` to run the cpu backend's kernel instead. */
type Body = (
  inputs: Record<string, Info>,
  be: NativeBackend,
  attrs: Attrs,
  all: Info[],
) => Info | Info[] | null;

const size = (shape: number[]) => tf.util.sizeFromShape(shape);
const f32 = (be: NativeBackend, t: Info) => be.valuesOf(t);
const isF32 = (...ts: (Info | undefined)[]) =>
  ts.every((t) => t === undefined || t.dtype === "float32");
const make = (be: NativeBackend, shape: number[], values?: Float32Array) =>
  values ? be.makeTensorInfo(shape, "float32", values) : be.makeOwned(shape);

/** Runs the cpu backend's kernel `name` on our backend (same storage). */
export function runCpu(
  name: string,
  inputs: tf.NamedTensorInfoMap,
  be: NativeBackend,
  attrs: Attrs = {},
): Info {
  const config = tf.getKernel(name, "cpu");
  if (config === undefined) throw new Error(`the cpu backend has no kernel ${name}`);
  const out = config.kernelFunc({ inputs, backend: be, attrs: attrs as tf.NamedAttrMap });
  return (Array.isArray(out) ? out[0] : out) as Info;
}

function kernel(name: string, body: Body): tf.KernelConfig {
  return {
    kernelName: name,
    backendName: "native",
    kernelFunc: (({ inputs, backend, attrs }: Args) => {
      const be = backend as NativeBackend;
      const all = Array.isArray(inputs) ? inputs as Info[] : Object.values(inputs) as Info[];
      const out = body(inputs as Record<string, Info>, be, (attrs ?? {}) as Attrs, all);
      if (out !== null) return out;
      const config = tf.getKernel(name, "cpu")!;
      return config.kernelFunc({ inputs, backend, attrs: attrs ?? {} });
    }) as unknown as tf.KernelFunc,
  };
}

const toI64 = (values: number[]) => BigInt64Array.from(values, (v) => BigInt(v));

/** Row-major strides (elements). */
function stridesOf(shape: number[]): number[] {
  const st = new Array(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = s;
    s *= shape[d];
  }
  return st;
}

/**
 * Drops unit dimensions and merges dimensions that every operand walks contiguously:
 * `strides[k][d-1] == strides[k][d] · dims[d]`. Returns `[rank, dims…, strides0…, strides1…]`.
 */
function collapse(dims: number[], strides: number[][]): BigInt64Array {
  const d: number[] = [], s: number[][] = strides.map(() => []);
  for (let i = 0; i < dims.length; i++) {
    if (dims[i] === 1) continue;
    const last = d.length - 1;
    if (last >= 0 && strides.every((st, k) => s[k][last] === st[i] * dims[i])) {
      d[last] *= dims[i];
      strides.forEach((st, k) => (s[k][last] = st[i]));
    } else {
      d.push(dims[i]);
      strides.forEach((st, k) => s[k].push(st[i]));
    }
  }
  if (d.length === 0) {
    d.push(1);
    s.forEach((x) => x.push(0));
  }
  return toI64([d.length, ...d, ...s.flat()]);
}

const infoCache = new Map<string, BigInt64Array>();
function cachedInfo(key: string, make: () => BigInt64Array): BigInt64Array {
  let v = infoCache.get(key);
  if (v === undefined) {
    if (infoCache.size > 4096) infoCache.clear();
    v = make();
    infoCache.set(key, v);
  }
  return v;
}

/** Broadcast strides of `shape` against the output shape (0 where broadcast). */
function broadcastStrides(shape: number[], out: number[]): number[] {
  const padded = [...new Array(out.length - shape.length).fill(1), ...shape];
  const st = stridesOf(padded);
  return padded.map((n, i) => (n === 1 ? 0 : st[i]));
}

/** `a op b` with numpy broadcasting in C (op: 0 add, 1 sub, 2 mul, 3 div, ...); `null` unless float32. */
function binaryOp(lib: NativeLib, op: number, a: Info, b: Info, be: NativeBackend): Info | null {
  if (!isF32(a, b)) return null;
  const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const out = make(be, outShape);
  if (size(outShape) === 0) return out;
  const info = cachedInfo(
    `b${a.shape}|${b.shape}`,
    () =>
      collapse(outShape, [
        broadcastStrides(a.shape, outShape),
        broadcastStrides(b.shape, outShape),
      ]),
  );
  lib.nk_binary(op, f32(be, a), f32(be, b), f32(be, out), info);
  return out;
}

/** The native kernels, for a library `lib` and BLAS `blas`. */
export function engineKernels(lib: NativeLib, blas: Blas): tf.KernelConfig[] {
  /** Re-checks OpenBLAS's adaptive thread count when due (before heavy C calls). */
  const tick = () => {
    const t = blas.tuner;
    if (t !== undefined && performance.now() >= t.nextCheck) t.check();
  };
  // OpenMP's thread count follows OpenBLAS's (held during a training run: the threaded sums of
  // GroupNorm's backward and the column reductions round by thread count too).
  const t = blas.tuner;
  if (t !== undefined) {
    lib.nk_set_threads(t.threads);
    t.followers.push((n) => lib.nk_set_threads(n));
  }
  return [
    ...elementwiseKernels(lib),
    ...reductionKernels(lib),
    ...layoutKernels(lib),
    ...indexKernels(lib),
    ...matmulKernels(lib, blas),
    ...convKernels(lib, tick),
  ];
}

/** Binary (broadcasting) and unary elementwise kernels, AddN. */
function elementwiseKernels(lib: NativeLib): tf.KernelConfig[] {
  const configs: tf.KernelConfig[] = [];
  // ------------------------------------------------------------------ elementwise, binary
  const binary: Record<string, number> = {
    Add: 0,
    Sub: 1,
    Multiply: 2,
    RealDiv: 3,
    Maximum: 4,
    Minimum: 5,
    SquaredDifference: 6,
    Pow: 7,
  };
  for (const [name, op] of Object.entries(binary)) {
    configs.push(kernel(name, ({ a, b }, be) => binaryOp(lib, op, a, b, be)));
  }
  // AddN: a chain of in-place adds.
  configs.push(kernel("AddN", (_inputs, be, _attrs, all) => {
    if (!isF32(...all) || all.some((t) => !tf.util.arraysEqual(t.shape, all[0].shape))) return null;
    const out = make(be, all[0].shape, f32(be, all[0]).slice());
    const info = collapse(all[0].shape, [stridesOf(all[0].shape), stridesOf(all[0].shape)]);
    for (let i = 1; i < all.length; i++) {
      lib.nk_binary(0, f32(be, out), f32(be, all[i]), f32(be, out), info);
    }
    return out;
  }));

  // ------------------------------------------------------------------ elementwise, unary
  const unary: Record<string, [number, (a: Attrs) => number]> = {
    Exp: [0, () => 0],
    Log: [1, () => 0],
    Sqrt: [2, () => 0],
    Rsqrt: [3, () => 0],
    Neg: [4, () => 0],
    Square: [5, () => 0],
    Sigmoid: [6, () => 0],
    Tanh: [7, () => 0],
    Relu: [8, () => 0],
    Abs: [9, () => 0],
    Sin: [10, () => 0],
    Cos: [11, () => 0],
    Reciprocal: [12, () => 0],
    Step: [13, (a) => (a.alpha as number | undefined) ?? 0],
    Erf: [15, () => 0],
    LeakyRelu: [16, (a) => (a.alpha as number | undefined) ?? 0.2],
    Elu: [18, () => 0],
    Log1p: [19, () => 0],
    Expm1: [20, () => 0],
    Sign: [21, () => 0],
    Floor: [22, () => 0],
  };
  for (const [name, [op, alpha]] of Object.entries(unary)) {
    configs.push(kernel(name, ({ x }, be, attrs) => {
      if (!isF32(x)) return null;
      const out = make(be, x.shape);
      lib.nk_unary(op, f32(be, x), f32(be, out), size(x.shape), alpha(attrs));
      return out;
    }));
  }

  return configs;
}

/** Sum, Mean, Max, Min, Prod and Softmax. */
function reductionKernels(lib: NativeLib): tf.KernelConfig[] {
  const configs: tf.KernelConfig[] = [];
  // ------------------------------------------------------------------ reductions
  const reduce =
    (op: number, axisKey: string) =>
    ({ x }: Record<string, Info>, be: NativeBackend, attrs: Attrs) => {
      if (!isF32(x)) return null;
      const rank = x.shape.length;
      const axes = tf.util.parseAxisParam(attrs[axisKey] as number | number[], x.shape).sort((
        p,
        q,
      ) => p - q);
      const keepDims = attrs.keepDims === true;
      const [outShape, reduceShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
      const outer = size(outShape), inner = size(reduceShape);
      const shape = keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
      const out = make(be, shape);
      if (outer === 0) return out;
      if (inner === 0) return null;
      const inTail = axes.every((a, i) => a === rank - axes.length + i);
      const inHead = axes.every((a, i) => a === i);
      const xv = f32(be, x), ov = f32(be, out);
      const block = axes.every((a, i) => a === axes[0] + i); // one run of adjacent axes
      if (inTail || inner === 1) lib.nk_reduce_rows(op, xv, ov, outer, inner);
      else if (inHead && op <= 3) lib.nk_reduce_cols(op, xv, ov, inner, outer);
      else if (block && op <= 3) {
        // [before, reduced, after] (e.g. a [B, H, W, C] gradient summed over H and W): the
        // leading-axes reduction on each `before` slice, in place, in one call (a transposed copy
        // of the whole tensor first cost 30× more at [4, 128, 128, 16]; one call per slice cost
        // ~1 s per 512² sampler step in avgPool2's [B·H/2, W/2, 2, C] sum).
        const after = size(x.shape.slice(axes[axes.length - 1] + 1));
        lib.nk_reduce_mid(op, xv, ov, outer / after, inner, after);
      } else {
        // Move the reduced axes last (one strided copy), then reduce rows.
        const perm = [
          ...Array.from({ length: rank }, (_v, d) => d).filter((d) => !axes.includes(d)),
          ...axes,
        ];
        const st = stridesOf(x.shape);
        const tmp = new Float32Array(size(x.shape));
        lib.nk_strided_copy(
          xv,
          0,
          tmp,
          collapse(perm.map((p) => x.shape[p]), [perm.map((p) => st[p])]),
        );
        lib.nk_reduce_rows(op, tmp, ov, outer, inner);
      }
      return out;
    };
  configs.push(kernel("Sum", reduce(0, "axis")));
  configs.push(kernel("Mean", reduce(1, "axis")));
  configs.push(kernel("Max", reduce(2, "reductionIndices")));
  configs.push(kernel("Min", reduce(3, "axis")));
  configs.push(kernel("Prod", reduce(4, "axis")));

  configs.push(kernel("Softmax", ({ logits }, be, attrs) => {
    const dim = attrs.dim as number;
    const rank = logits.shape.length;
    if (!isF32(logits) || rank === 0 || (dim !== -1 && dim !== rank - 1)) return null;
    const out = make(be, logits.shape);
    const cols = logits.shape[rank - 1];
    if (cols > 0) lib.nk_softmax(f32(be, logits), f32(be, out), size(logits.shape) / cols, cols);
    return out;
  }));

  return configs;
}

/** Transpose, Slice, Tile, PadV2, Concat, SplitV. */
function layoutKernels(lib: NativeLib): tf.KernelConfig[] {
  const configs: tf.KernelConfig[] = [];
  // ------------------------------------------------------------------ layout
  configs.push(kernel("Transpose", ({ x }, be, attrs) => {
    if (!isF32(x)) return null;
    const perm = attrs.perm as number[];
    const shape = perm.map((p) => x.shape[p]);
    const out = make(be, shape);
    if (size(shape) === 0) return out;
    const st = stridesOf(x.shape);
    lib.nk_strided_copy(
      f32(be, x),
      0,
      f32(be, out),
      cachedInfo(`t${x.shape}|${perm}`, () => collapse(shape, [perm.map((p) => st[p])])),
    );
    return out;
  }));
  configs.push(kernel("Slice", ({ x }, be, attrs) => {
    if (!isF32(x)) return null;
    const [begin, sz] = tf.slice_util.parseSliceParams(
      x as tf.Tensor,
      attrs.begin as number[],
      attrs.size as number[],
    );
    const out = make(be, sz);
    if (size(sz) === 0) return out;
    const st = stridesOf(x.shape);
    const offset = begin.reduce((s, b, d) => s + b * st[d], 0);
    lib.nk_strided_copy(f32(be, x), offset, f32(be, out), collapse(sz, [st]));
    return out;
  }));
  configs.push(kernel("Tile", ({ x }, be, attrs) => {
    if (!isF32(x)) return null;
    const reps = attrs.reps as number[];
    const shape = x.shape.map((n, i) => n * reps[i]);
    const out = make(be, shape);
    if (size(shape) === 0) return out;
    const st = stridesOf(x.shape);
    const dims = x.shape.flatMap((n, i) => [reps[i], n]);
    const strides = x.shape.flatMap((_n, i) => [0, st[i]]);
    lib.nk_strided_copy(f32(be, x), 0, f32(be, out), collapse(dims, [strides]));
    return out;
  }));
  configs.push(kernel("PadV2", ({ x }, be, attrs) => {
    if (!isF32(x)) return null;
    const paddings = attrs.paddings as [number, number][];
    const shape = x.shape.map((n, i) => paddings[i][0] + n + paddings[i][1]);
    const out = make(be, shape);
    const ov = f32(be, out);
    const c = (attrs.constantValue as number | undefined) ?? 0;
    if (ov.length > 0) lib.nk_fill(ov, ov.length, c); // pooled arrays hold old values
    if (size(x.shape) === 0) return out;
    const st = stridesOf(shape);
    const offset = paddings.reduce((s, [p], d) => s + p * st[d], 0);
    lib.nk_strided_scatter(f32(be, x), ov, offset, collapse(x.shape, [st]));
    return out;
  }));
  configs.push(kernel("Concat", (_inputs, be, attrs, all) => {
    if (!isF32(...all)) return null;
    const axis = tf.util.parseAxisParam(attrs.axis as number, all[0].shape)[0];
    const shape = tf.backend_util.computeOutShape(all.map((t) => t.shape), axis);
    const out = make(be, shape);
    if (size(shape) === 0) return out;
    const outer = size(shape.slice(0, axis)), pitch = size(shape.slice(axis));
    let off = 0;
    for (const t of all) {
      const run = size(t.shape.slice(axis));
      if (run > 0) lib.nk_copy_rows(f32(be, t), 0, run, f32(be, out), off, pitch, outer, run);
      off += run;
    }
    return out;
  }));
  configs.push(kernel("SplitV", ({ x }, be, attrs) => {
    if (!isF32(x)) return null;
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(
      x as tf.Tensor,
      attrs.numOrSizeSplits as number[],
      axis,
    );
    const outer = size(x.shape.slice(0, axis)), inner = size(x.shape.slice(axis + 1));
    const pitch = x.shape[axis] * inner;
    let begin = 0;
    return sizes.map((s) => {
      const shape = x.shape.slice();
      shape[axis] = s;
      const out = make(be, shape);
      if (s * inner * outer > 0) {
        lib.nk_copy_rows(
          f32(be, x),
          begin * inner,
          pitch,
          f32(be, out),
          0,
          s * inner,
          outer,
          s * inner,
        );
      }
      begin += s;
      return out;
    });
  }));

  return configs;
}

/** GatherV2 (embedding lookups) and UnsortedSegmentSum (its gradient). */
function indexKernels(lib: NativeLib): tf.KernelConfig[] {
  const configs: tf.KernelConfig[] = [];
  configs.push(kernel("GatherV2", ({ x, indices }, be, attrs) => {
    if (
      !isF32(x) || indices.dtype !== "int32" || ((attrs.batchDims as number | undefined) ?? 0) !== 0
    ) {
      return null;
    }
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
    const rows = x.shape[axis];
    const idx = be.data.get(indices.dataId)!.values as Int32Array;
    for (let i = 0; i < idx.length; i++) if (!(idx[i] >= 0 && idx[i] < rows)) return null; // cpu's error
    const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
    const out = make(be, shape);
    const outer = size(x.shape.slice(0, axis)), inner = size(x.shape.slice(axis + 1));
    if (size(shape) > 0) {
      lib.nk_gather(f32(be, x), idx, f32(be, out), outer, rows, idx.length, inner);
    }
    return out;
  }));
  configs.push(kernel("UnsortedSegmentSum", ({ x, segmentIds }, be, attrs) => {
    if (!isF32(x) || segmentIds.dtype !== "int32") return null;
    const segments = attrs.numSegments as number;
    const shape = [segments, ...x.shape.slice(segmentIds.shape.length)];
    const out = make(be, shape);
    const n = size(segmentIds.shape), inner = size(x.shape.slice(segmentIds.shape.length));
    const ids = be.data.get(segmentIds.dataId)!.values as Int32Array;
    if (size(shape) > 0) lib.nk_segment_sum(f32(be, x), ids, f32(be, out), n, segments, inner);
    return out;
  }));

  return configs;
}

/** Bias (when not folded) and activation, in place on `out` where native; returns the result. */
function epilogue(
  lib: NativeLib,
  be: NativeBackend,
  out: Info,
  bias: Info | undefined,
  biasDone: boolean,
  activation: string | undefined,
  prelu: Info | undefined,
  alpha: number | undefined,
): Info {
  let y = out;
  if (bias !== undefined && !biasDone) {
    const sum = binaryOp(lib, 0, y, bias, be) ?? runCpu("Add", { a: y, b: bias }, be);
    be.disposeIntermediateTensorInfo(y);
    y = sum;
  }
  const ops: Record<string, [number, number]> = {
    relu: [8, 0],
    sigmoid: [6, 0],
    elu: [18, 0],
    leakyrelu: [16, alpha ?? 0.2],
  };
  if (activation === undefined || activation === "linear") return y;
  const native = ops[activation];
  if (native !== undefined) {
    const v = f32(be, y);
    lib.nk_unary(native[0], v, v, v.length, native[1]);
    return y;
  }
  const act = activation === "relu6"
    ? runCpu("Relu6", { x: y }, be)
    : activation === "prelu"
    ? runCpu("Prelu", { x: y, alpha: prelu! }, be)
    : null;
  if (act === null) {
    throw new Error(`Activation ${activation} has not been implemented for the native engine`);
  }
  be.disposeIntermediateTensorInfo(y);
  return act;
}

/** BatchMatMul and _FusedMatMul through OpenBLAS. */
function matmulKernels(lib: NativeLib, blas: Blas): tf.KernelConfig[] {
  const configs: tf.KernelConfig[] = [];
  // ------------------------------------------------------------------ matmul
  const gemm = (
    be: NativeBackend,
    a: Info,
    b: Info,
    transposeA: boolean,
    transposeB: boolean,
    bias: Info | undefined,
  ): { out: Info; biasDone: boolean } => {
    const p = matMulPlan(a, b, transposeA, transposeB);
    const out = make(be, p.outShape);
    const total = p.batch * p.m * p.n;
    const cv = f32(be, out);
    const foldBias = bias !== undefined && bias.dtype === "float32" && size(bias.shape) === p.n &&
      bias.shape.at(-1) === p.n;
    if (foldBias) {
      lib.nk_strided_copy(f32(be, bias), 0, cv, collapse([p.batch * p.m, p.n], [[0, 1]]));
    }
    if (total === 0) return { out, biasDone: foldBias };
    if (p.k === 0) {
      if (!foldBias) lib.nk_fill(cv, total, 0);
      return { out, biasDone: foldBias };
    }
    const av = f32(be, a), bv = f32(be, b);
    const beta = foldBias ? 1 : 0;
    const ta = transposeA ? Trans : NoTrans, tb = transposeB ? Trans : NoTrans;
    const lda = transposeA ? p.m : p.k, ldb = transposeB ? p.k : p.n;
    if (p.sizeB === 1 && !transposeA && p.sizeA === p.batch) {
      blas.sgemm(RowMajor, ta, tb, p.batch * p.m, p.n, p.k, 1, av, lda, bv, ldb, beta, cv, p.n);
    } else {
      const sA = p.m * p.k, sB = p.k * p.n, sC = p.m * p.n;
      for (let i = 0; i < p.batch; i++) {
        blas.sgemm(
          RowMajor,
          ta,
          tb,
          p.m,
          p.n,
          p.k,
          1,
          av.subarray(p.ia[i] * sA),
          lda,
          bv.subarray(p.ib[i] * sB),
          ldb,
          beta,
          cv.subarray(i * sC),
          p.n,
        );
      }
    }
    return { out, biasDone: foldBias };
  };

  configs.push(kernel("BatchMatMul", ({ a, b }, be, attrs) => {
    if (!isF32(a, b)) return null;
    return gemm(be, a, b, attrs.transposeA === true, attrs.transposeB === true, undefined).out;
  }));
  configs.push(kernel("_FusedMatMul", ({ a, b, bias, preluActivationWeights }, be, attrs) => {
    if (!isF32(a, b)) return null;
    const { out, biasDone } = gemm(
      be,
      a,
      b,
      attrs.transposeA === true,
      attrs.transposeB === true,
      bias,
    );
    return epilogue(
      lib,
      be,
      out,
      bias,
      biasDone,
      attrs.activation as string | undefined,
      preluActivationWeights,
      attrs.leakyreluAlpha as number | undefined,
    );
  }));

  return configs;
}

/** Conv2D, FusedConv2D and both backward passes (NHWC). */
function convKernels(lib: NativeLib, tick: () => void): tf.KernelConfig[] {
  const configs: tf.KernelConfig[] = [];
  // ------------------------------------------------------------------ convolution (NHWC)
  const geometry = (xShape: number[], fShape: number[], attrs: Attrs): Int32Array | null => {
    if (((attrs.dataFormat as string | undefined) ?? "NHWC") !== "NHWC") return null;
    const c = tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      fShape as [number, number, number, number],
      attrs.strides as number | [number, number],
      (attrs.dilations as number | [number, number] | undefined) ?? 1,
      attrs.pad as "valid",
      attrs.dimRoundingMode as "floor" | undefined,
    );
    return Int32Array.from([
      c.batchSize,
      c.inHeight,
      c.inWidth,
      c.inChannels,
      c.outChannels,
      c.filterHeight,
      c.filterWidth,
      c.strideHeight,
      c.strideWidth,
      c.dilationHeight,
      c.dilationWidth,
      c.outHeight,
      c.outWidth,
      c.padInfo.top,
      c.padInfo.left,
    ]);
  };
  const check = (rc: number) => {
    if (rc !== 0) throw new Error(`native convolution failed (code ${rc}: out of memory?)`);
  };
  const conv = (
    be: NativeBackend,
    x: Info,
    filter: Info,
    bias: Info | undefined,
    attrs: Attrs,
  ): { out: Info; biasDone: boolean } | null => {
    if (!isF32(x, filter)) return null;
    const g = geometry(x.shape, filter.shape, attrs);
    if (g === null) return null;
    tick();
    const out = make(be, [g[0], g[11], g[12], g[4]]);
    const foldBias = bias !== undefined && bias.dtype === "float32" && size(bias.shape) === g[4];
    check(lib.nk_conv_fwd(
      f32(be, x),
      f32(be, filter),
      foldBias ? f32(be, bias) : new Float32Array(1),
      foldBias ? 1 : 0,
      f32(be, out),
      g,
    ));
    return { out, biasDone: foldBias };
  };
  configs.push(
    kernel(
      "Conv2D",
      ({ x, filter }, be, attrs) => conv(be, x, filter, undefined, attrs)?.out ?? null,
    ),
  );
  configs.push(kernel("FusedConv2D", ({ x, filter, bias, preluActivationWeights }, be, attrs) => {
    const r = conv(be, x, filter, bias, attrs);
    if (r === null) return null;
    return epilogue(
      lib,
      be,
      r.out,
      bias,
      r.biasDone,
      attrs.activation as string | undefined,
      preluActivationWeights,
      attrs.leakyreluAlpha as number | undefined,
    );
  }));
  configs.push(kernel("Conv2DBackpropInput", ({ dy, filter }, be, attrs) => {
    if (!isF32(dy, filter)) return null;
    const inputShape = attrs.inputShape as number[];
    const g = geometry(inputShape, filter.shape, attrs);
    if (g === null) return null;
    tick();
    const dx = make(be, inputShape);
    check(lib.nk_conv_bwd_input(f32(be, dy), f32(be, filter), f32(be, dx), g));
    return dx;
  }));
  configs.push(kernel("Conv2DBackpropFilter", ({ x, dy }, be, attrs) => {
    if (!isF32(x, dy)) return null;
    const filterShape = attrs.filterShape as number[];
    const g = geometry(x.shape, filterShape, attrs);
    if (g === null) return null;
    tick();
    const df = make(be, filterShape);
    check(lib.nk_conv_bwd_filter(f32(be, x), f32(be, dy), f32(be, df), g));
    return df;
  }));

  return configs;
}
