// Private: Conv2D, FusedConv2D, Conv2DBackpropInput and Conv2DBackpropFilter (NHWC, dilation 1)
// for the wasm backend through cblas_sgemm on the wasm heap. Two schemes, chosen per call:
//
// Stride 1 — one GEMM per filter tap, no im2col. The input is zero-padded once onto a grid of
// pixels (rows of Ci floats) with row pitch Wp = W + L and image pitch Hp = H + T rows, where
// L = max(left, right) and T = max(top, bottom) zero columns/rows precede each row/image: the
// right padding of a row is the left padding of the next, and the bottom padding of an image the
// top padding of the next (a read past the right edge wraps into the next row's zero columns),
// so only (H+T)(W+L) grid pixels per image are computed instead of (H+2T)(W+2L). (No padding:
// the tensor itself is the grid.) The output is computed on the grid ("full-width" rows
// p = (b·Hp + oh)·Wp + ow); tap (kh, kw) reads the input rows shifted by
// (kh + T − top)·Wp + kw + L − left, so
//   forward        Y[p]          += Xpad[p + shift] · W[kh, kw]          (M×Ci · Ci×Co, beta = 1)
//   backward input dXpad[p+shift] += dYfull[p] · W[kh, kw]ᵀ              (shifted C pointer)
//   backward filter dW[kh, kw]    = Xpad[· + shift]ᵀ · dYfull            (Ci×M · M×Co)
// where dYfull is dy placed on the padded grid with zeros elsewhere. The rows of the grid that
// are not outputs cost (Hp·Wp − OH·OW)/(OH·OW) extra FLOPs (6% for 3×3 "same" at 32², 27% at 8²) but every
// GEMM has a long M (or K) dimension and the copies are whole rows (memcpy speed). A 1×1 conv
// without padding is a single GEMM on the tensors themselves.
//
// Stride > 1 — im2col from the padded input (one contiguous copy of KW·Ci floats per output pixel
// and filter row), one GEMM [P, KH·KW·Ci]·[KH·KW·Ci, Co]; the input gradient is one GEMM into
// columns and a col2im scatter-add in JS (these convolutions are the small downsampling ones).
//
// Copies use `copyWithin`/`fill` on the heap (native memmove/memset); bias rows are written into
// the output before the GEMMs accumulate onto them; activations use wasm's own SIMD kernels.
import { tf } from "./deps.ts";
import { type Blas, NoTrans, RowMajor, Trans } from "./blas.ts";
import {
  type Activation,
  epilogue,
  f32Index,
  fillRows,
  freeScratch,
  heapF32,
  isRowBias,
  scratch,
} from "./_epilogue.ts";
import type { Info, WasmBackend } from "./_wasm.ts";

/** Scheme override for experiments and benchmarks: "tap" (stride 1 only) or "im2col". */
export const convScheme = { forward: "auto", input: "auto", filter: "auto" } as Record<
  "forward" | "input" | "filter",
  "auto" | "im2col"
>;

type KernelArgs = {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
};

type ConvAttrs = {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
  activation?: Activation;
  leakyreluAlpha?: number;
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
};

/** Geometry of one convolution on the padded grid. */
interface Geometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  oh: number;
  ow: number;
  top: number;
  left: number;
  /** Zero rows before each image, zero columns before each row on the grid. */
  t: number;
  l: number;
  hp: number;
  wp: number;
  noPad: boolean;
  /** 1×1, stride 1, no padding: the tensors themselves are the GEMM operands. */
  direct: boolean;
  /** Rows of the full-width grid that cover every output (stride 1). */
  m: number;
  /** Pixels of the padded grid, including the zero tail that wrapped reads reach. */
  grid: number;
}

function geometry(
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
): Geometry | null {
  if ((attrs.dataFormat ?? "NHWC") !== "NHWC") return null;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  const { top, left, bottom, right } = info.padInfo;
  const g: Geometry = {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    co: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    oh: info.outHeight,
    ow: info.outWidth,
    top,
    left,
    t: Math.max(top, bottom),
    l: Math.max(left, right),
    hp: info.inHeight + Math.max(top, bottom),
    wp: info.inWidth + Math.max(left, right),
    noPad: top === 0 && left === 0 && bottom === 0 && right === 0,
    direct: false,
    m: 0,
    grid: 0,
  };
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return null;
  if ((g.oh - 1) * g.sh + g.kh > g.h + top + bottom) return null;
  if ((g.ow - 1) * g.sw + g.kw > g.w + left + right) return null;
  g.direct = g.noPad && g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1;
  g.m = (g.n - 1) * g.hp * g.wp + (g.oh - 1) * g.wp + g.ow;
  // Furthest pixel any tap or im2col copy reads (+1).
  const lastRead = ((g.n - 1) * g.hp + (g.oh - 1) * g.sh + g.kh - 1 - top + g.t) * g.wp +
    (g.ow - 1) * g.sw + g.kw - 1 - left + g.l + 1;
  g.grid = Math.max(g.n * g.hp * g.wp, lastRead);
  if (g.noPad && g.grid > g.n * g.h * g.w) return null; // cannot happen; keeps reads in bounds
  return g;
}

/** Grid offset (pixels) that tap (i, j) adds to an output position. */
const shiftOf = (g: Geometry, i: number, j: number) => (i + g.t - g.top) * g.wp + j + g.l - g.left;

const isEmpty = (g: Geometry) =>
  g.n === 0 || g.oh <= 0 || g.ow <= 0 || g.ci === 0 || g.co === 0 || g.h === 0 || g.w === 0;

/** Zero-pads x [N, H, W, Ci] (heap index xo) into [N, Hp, Wp, Ci] at xp. */
function padInto(heap: Float32Array, xo: number, xp: number, g: Geometry): void {
  const row = g.w * g.ci;
  heap.fill(0, xp, xp + g.grid * g.ci);
  for (let b = 0; b < g.n; b++) {
    for (let y = 0; y < g.h; y++) {
      const src = xo + (b * g.h + y) * row;
      heap.copyWithin(xp + ((b * g.hp + y + g.t) * g.wp + g.l) * g.ci, src, src + row);
    }
  }
}

/** Places dy [N, OH, OW, Co] on the full-width grid (m rows, zeros elsewhere) at dst. */
function spreadRows(heap: Float32Array, dyo: number, dst: number, g: Geometry): void {
  const row = g.ow * g.co;
  heap.fill(0, dst, dst + g.m * g.co);
  for (let b = 0; b < g.n; b++) {
    for (let y = 0; y < g.oh; y++) {
      const src = dyo + (b * g.oh + y) * row;
      heap.copyWithin(dst + (b * g.hp + y) * g.wp * g.co, src, src + row);
    }
  }
}

/** The outputs [N, OH, OW, Co] out of the full-width grid at src. */
function gatherRows(heap: Float32Array, src: number, outo: number, g: Geometry): void {
  const row = g.ow * g.co;
  for (let b = 0; b < g.n; b++) {
    for (let y = 0; y < g.oh; y++) {
      const s = src + (b * g.hp + y) * g.wp * g.co;
      heap.copyWithin(outo + (b * g.oh + y) * row, s, s + row);
    }
  }
}

/** im2col from the padded input: cols [N·OH·OW, KH·KW·Ci]. */
function im2col(heap: Float32Array, xp: number, cols: number, g: Geometry): void {
  const kk = g.kh * g.kw * g.ci, run = g.kw * g.ci;
  let dst = cols;
  for (let b = 0; b < g.n; b++) {
    for (let y = 0; y < g.oh; y++) {
      for (let x = 0; x < g.ow; x++) {
        for (let i = 0; i < g.kh; i++) {
          const src = xp + ((b * g.hp + y * g.sh) * g.wp + x * g.sw + shiftOf(g, i, 0)) * g.ci;
          heap.copyWithin(dst + i * run, src, src + run);
        }
        dst += kk;
      }
    }
  }
}

/** Crops dxPad [N, Hp, Wp, Ci] to dx [N, H, W, Ci]. */
function crop(heap: Float32Array, dxp: number, dxo: number, g: Geometry): void {
  const row = g.w * g.ci;
  for (let b = 0; b < g.n; b++) {
    for (let y = 0; y < g.h; y++) {
      const src = dxp + ((b * g.hp + y + g.t) * g.wp + g.l) * g.ci;
      heap.copyWithin(dxo + (b * g.h + y) * row, src, src + row);
    }
  }
}

/** Forward convolution into a new output; folds a per-channel bias into the GEMM. */
function convForward(
  blas: Blas,
  backend: WasmBackend,
  x: Info,
  filter: Info,
  bias: Info | undefined,
  g: Geometry,
): { out: Info; biasDone: boolean } {
  const out = backend.makeOutput([g.n, g.oh, g.ow, g.co], "float32");
  const foldBias = isRowBias(bias, g.co);
  if (isEmpty(g)) {
    heapF32(backend).fill(
      0,
      f32Index(backend, out),
      f32Index(backend, out) + g.n * g.oh * g.ow * g.co,
    );
    return { out, biasDone: false };
  }
  const { ci, co } = g;
  const stride1 = g.sh === 1 && g.sw === 1 && (convScheme.forward === "auto" || g.direct);
  const xp = g.noPad ? -1 : scratch(backend, g.grid * ci);
  const y = stride1 && !g.direct ? scratch(backend, g.m * co) : -1;
  const kk = g.kh * g.kw * ci, p = g.n * g.oh * g.ow;
  const cols = stride1 ? -1 : scratch(backend, p * kk);
  // Every allocation is done: views of the heap made from here on stay valid.
  const heap = heapF32(backend);
  const xo = f32Index(backend, x), fo = f32Index(backend, filter), outo = f32Index(backend, out);
  const src = g.noPad ? xo : xp;
  if (!g.noPad) padInto(heap, xo, xp, g);
  if (stride1) {
    const target = g.direct ? outo : y;
    if (foldBias) fillRows(heap, target, f32Index(backend, bias!), g.m, co);
    let t = 0;
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++, t++) {
        const shift = shiftOf(g, i, j);
        blas.sgemm(
          RowMajor,
          NoTrans,
          NoTrans,
          g.m,
          co,
          ci,
          1,
          heap.subarray(src + shift * ci),
          ci,
          heap.subarray(fo + t * ci * co),
          co,
          t === 0 && !foldBias ? 0 : 1,
          heap.subarray(target),
          co,
        );
      }
    }
    if (!g.direct) gatherRows(heap, y, outo, g);
  } else {
    im2col(heap, src, cols, g);
    if (foldBias) fillRows(heap, outo, f32Index(backend, bias!), p, co);
    blas.sgemm(
      RowMajor,
      NoTrans,
      NoTrans,
      p,
      co,
      kk,
      1,
      heap.subarray(cols),
      kk,
      heap.subarray(fo),
      co,
      foldBias ? 1 : 0,
      heap.subarray(outo),
      co,
    );
  }
  freeScratch(backend, xp, y, cols);
  return { out, biasDone: foldBias };
}

function convBackpropInput(blas: Blas, backend: WasmBackend, dy: Info, filter: Info, g: Geometry) {
  const dx = backend.makeOutput([g.n, g.h, g.w, g.ci], "float32");
  const size = g.n * g.h * g.w * g.ci;
  if (isEmpty(g)) {
    heapF32(backend).fill(0, f32Index(backend, dx), f32Index(backend, dx) + size);
    return dx;
  }
  const { ci, co } = g;
  const stride1 = g.sh === 1 && g.sw === 1 && (convScheme.input === "auto" || g.direct);
  const kk = g.kh * g.kw * ci, p = g.n * g.oh * g.ow;
  const dxp = g.noPad ? -1 : scratch(backend, g.grid * ci);
  const dyFull = stride1 && !g.direct ? scratch(backend, g.m * co) : -1;
  const dcols = stride1 ? -1 : scratch(backend, p * kk);
  const heap = heapF32(backend);
  const dyo = f32Index(backend, dy), fo = f32Index(backend, filter), dxo = f32Index(backend, dx);
  if (g.direct) {
    // dx = dy · Wᵀ: [P, Co] · [Co, Ci]
    blas.sgemm(
      RowMajor,
      NoTrans,
      Trans,
      p,
      ci,
      co,
      1,
      heap.subarray(dyo),
      co,
      heap.subarray(fo),
      co,
      0,
      heap.subarray(dxo),
      ci,
    );
    return dx;
  }
  const target = g.noPad ? dxo : dxp;
  heap.fill(0, target, target + g.grid * ci);
  if (stride1) {
    spreadRows(heap, dyo, dyFull, g);
    let t = 0;
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++, t++) {
        const shift = shiftOf(g, i, j);
        blas.sgemm(
          RowMajor,
          NoTrans,
          Trans,
          g.m,
          ci,
          co,
          1,
          heap.subarray(dyFull),
          co,
          heap.subarray(fo + t * ci * co),
          co,
          1,
          heap.subarray(target + shift * ci),
          ci,
        );
      }
    }
  } else {
    // dCols = dy · W_matᵀ: [P, Co] · [Co, KH·KW·Ci], then col2im (scatter-add) onto the grid.
    blas.sgemm(
      RowMajor,
      NoTrans,
      Trans,
      p,
      kk,
      co,
      1,
      heap.subarray(dyo),
      co,
      heap.subarray(fo),
      co,
      0,
      heap.subarray(dcols),
      kk,
    );
    const run = g.kw * ci;
    let src = dcols;
    for (let b = 0; b < g.n; b++) {
      for (let y = 0; y < g.oh; y++) {
        for (let x = 0; x < g.ow; x++) {
          for (let i = 0; i < g.kh; i++) {
            const dst = target + ((b * g.hp + y * g.sh) * g.wp + x * g.sw + shiftOf(g, i, 0)) * ci;
            const s = src + i * run;
            for (let e = 0; e < run; e++) heap[dst + e] += heap[s + e];
          }
          src += kk;
        }
      }
    }
  }
  if (!g.noPad) crop(heap, dxp, dxo, g);
  freeScratch(backend, dxp, dyFull, dcols);
  return dx;
}

function convBackpropFilter(blas: Blas, backend: WasmBackend, x: Info, dy: Info, g: Geometry) {
  const dw = backend.makeOutput([g.kh, g.kw, g.ci, g.co], "float32");
  const { ci, co } = g;
  if (isEmpty(g)) {
    const o = f32Index(backend, dw);
    heapF32(backend).fill(0, o, o + g.kh * g.kw * ci * co);
    return dw;
  }
  const stride1 = g.sh === 1 && g.sw === 1 && (convScheme.filter === "auto" || g.direct);
  const kk = g.kh * g.kw * ci, p = g.n * g.oh * g.ow;
  const xp = g.noPad ? -1 : scratch(backend, g.grid * ci);
  const dyFull = stride1 && !g.direct ? scratch(backend, g.m * co) : -1;
  const cols = stride1 ? -1 : scratch(backend, p * kk);
  const heap = heapF32(backend);
  const xo = f32Index(backend, x), dyo = f32Index(backend, dy), dwo = f32Index(backend, dw);
  const src = g.noPad ? xo : xp;
  if (!g.noPad) padInto(heap, xo, xp, g);
  if (stride1) {
    const dys = g.direct ? dyo : dyFull;
    if (!g.direct) spreadRows(heap, dyo, dyFull, g);
    let t = 0;
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++, t++) {
        const shift = shiftOf(g, i, j);
        // dW[kh, kw] = Xpad[rows + shift]ᵀ · dYfull: [Ci, M] · [M, Co]
        blas.sgemm(
          RowMajor,
          Trans,
          NoTrans,
          ci,
          co,
          g.m,
          1,
          heap.subarray(src + shift * ci),
          ci,
          heap.subarray(dys),
          co,
          0,
          heap.subarray(dwo + t * ci * co),
          co,
        );
      }
    }
  } else {
    im2col(heap, src, cols, g);
    blas.sgemm(
      RowMajor,
      Trans,
      NoTrans,
      kk,
      co,
      p,
      1,
      heap.subarray(cols),
      kk,
      heap.subarray(dyo),
      co,
      0,
      heap.subarray(dwo),
      co,
    );
  }
  freeScratch(backend, xp, dyFull, cols);
  return dw;
}

const call = (original: tf.KernelConfig | undefined, args: KernelArgs, name: string) => {
  if (original === undefined) throw new Error(`${name}: case not supported by the BLAS kernels`);
  return original.kernelFunc({
    inputs: args.inputs,
    backend: args.backend,
    attrs: args.attrs ?? {},
  });
};

/** Conv2D kernel config. */
export function conv2dConfig(blas: Blas, original?: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: "Conv2D",
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => {
      const { x, filter } = args.inputs as { x: Info; filter: Info };
      const g = x.dtype === "float32"
        ? geometry(x.shape, filter.shape, args.attrs as unknown as ConvAttrs)
        : null;
      if (g === null) return call(original, args, "Conv2D");
      const wb = args.backend as unknown as WasmBackend;
      return convForward(blas, wb, x, filter, undefined, g).out;
    }) as unknown as tf.KernelFunc,
  };
}

/** FusedConv2D kernel config: convolution, bias (folded into the GEMMs), activation. */
export function fusedConv2dConfig(blas: Blas, original?: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: "FusedConv2D",
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => {
      const { x, filter, bias, preluActivationWeights } = args.inputs as Record<
        string,
        Info | undefined
      >;
      const attrs = args.attrs as unknown as ConvAttrs;
      const g = x!.dtype === "float32" ? geometry(x!.shape, filter!.shape, attrs) : null;
      if (g === null) return call(original, args, "FusedConv2D");
      const wb = args.backend as unknown as WasmBackend;
      const { out, biasDone } = convForward(blas, wb, x!, filter!, bias, g);
      return epilogue(
        wb,
        out,
        bias,
        biasDone,
        attrs.activation,
        preluActivationWeights,
        attrs.leakyreluAlpha,
      );
    }) as unknown as tf.KernelFunc,
  };
}

/** Conv2DBackpropInput kernel config. */
export function conv2dBackpropInputConfig(
  blas: Blas,
  original?: tf.KernelConfig,
): tf.KernelConfig {
  return {
    kernelName: "Conv2DBackpropInput",
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => {
      const { dy, filter } = args.inputs as { dy: Info; filter: Info };
      const attrs = args.attrs as unknown as ConvAttrs;
      const g = dy.dtype === "float32" ? geometry(attrs.inputShape!, filter.shape, attrs) : null;
      if (g === null || g.oh !== dy.shape[1] || g.ow !== dy.shape[2]) {
        return call(original, args, "Conv2DBackpropInput");
      }
      return convBackpropInput(blas, args.backend as unknown as WasmBackend, dy, filter, g);
    }) as unknown as tf.KernelFunc,
  };
}

/** Conv2DBackpropFilter kernel config. */
export function conv2dBackpropFilterConfig(
  blas: Blas,
  original?: tf.KernelConfig,
): tf.KernelConfig {
  return {
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => {
      const { x, dy } = args.inputs as { x: Info; dy: Info };
      const attrs = args.attrs as unknown as ConvAttrs;
      const g = x.dtype === "float32" ? geometry(x.shape, attrs.filterShape!, attrs) : null;
      if (g === null || g.oh !== dy.shape[1] || g.ow !== dy.shape[2]) {
        return call(original, args, "Conv2DBackpropFilter");
      }
      return convBackpropFilter(blas, args.backend as unknown as WasmBackend, x, dy, g);
    }) as unknown as tf.KernelFunc,
  };
}
