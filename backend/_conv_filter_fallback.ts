// Conv2DBackpropFilter for tfjs's wasm backend, which has none (training a conv net on plain wasm
// fails without it). Composed from wasm's own kernels, one matmul per filter tap:
//   dW[kh, kw, :, :]ᵀ = dyᵀ [Co, P] · x_tap [P, Ci],   P = B·OH·OW,
// where x_tap is the (strided) slice of the zero-padded input that tap (kh, kw) sees. dy is
// transposed once so that every matmul is untransposed (wasm's fast XNNPACK path).
import { tf } from "./deps.ts";
import { asShape, free, type Info, runWasmKernel, type WasmBackend } from "./_wasm.ts";

/** Attributes tfjs passes to Conv2DBackpropFilter. */
export interface ConvFilterAttrs {
  strides: [number, number] | number;
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
  filterShape: [number, number, number, number];
  dilations?: [number, number] | number;
}

/** The kernel function (wasm kernels only). */
export function convFilterFallback(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): Info {
  const backend = args.backend as unknown as WasmBackend;
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = args.attrs as unknown as ConvFilterAttrs;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NHWC") {
    throw new Error("Conv2DBackpropFilter on wasm supports NHWC only");
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize: n, inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  const p = n * oh * ow;
  if (p === 0) {
    return runWasmKernel("Fill", {}, backend, {
      shape: attrs.filterShape,
      value: 0,
      dtype: "float32",
    });
  }
  const padded = padInfo.top || padInfo.bottom || padInfo.left || padInfo.right;
  const xPad = padded
    ? runWasmKernel("PadV2", { x }, backend, {
      paddings: [[0, 0], [padInfo.top, padInfo.bottom], [padInfo.left, padInfo.right], [0, 0]],
      constantValue: 0,
    })
    : x;
  const dyT = runWasmKernel("Transpose", { x: asShape(dy, [p, co]) }, backend, { perm: [1, 0] });
  const taps: Info[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const begin = [0, i * dh, j * dw, 0];
      const end = [n, i * dh + (oh - 1) * sh + 1, j * dw + (ow - 1) * sw + 1, ci];
      const xs = runWasmKernel("StridedSlice", { x: xPad }, backend, {
        begin,
        end,
        strides: [1, sh, sw, 1],
        beginMask: 0,
        endMask: 0,
        ellipsisMask: 0,
        newAxisMask: 0,
        shrinkAxisMask: 0,
      });
      taps.push(runWasmKernel(
        "BatchMatMul",
        {
          a: asShape(dyT, [1, co, p]),
          b: asShape(xs, [1, p, ci]),
        },
        backend,
        { transposeA: false, transposeB: false },
      ));
      free(backend, xs);
    }
  }
  // [KH·KW, Co, Ci] → [KH·KW, Ci, Co] = [KH, KW, Ci, Co]
  const stacked = taps.length === 1
    ? taps[0]
    : runWasmKernel("Concat", taps.map((t) => asShape(t, [1, co, ci])), backend, { axis: 0 });
  const out = runWasmKernel("Transpose", { x: asShape(stacked, [kh * kw, co, ci]) }, backend, {
    perm: [0, 2, 1],
  });
  free(backend, dyT, ...(taps.length === 1 ? taps : [...taps, stacked]));
  if (xPad !== x) free(backend, xPad);
  return asShape(out, [...attrs.filterShape]);
}

/** Registers {@linkcode convFilterFallback} for wasm unless a Conv2DBackpropFilter exists. */
export function ensureConvFilterKernel(): void {
  if (tf.getKernel("Conv2DBackpropFilter", "wasm") !== undefined) return;
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: convFilterFallback as unknown as tf.KernelFunc,
  });
}
