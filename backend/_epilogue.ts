// Private: the "epilogue" of fused kernels (bias and activation) and small heap helpers shared by
// the BLAS kernels. Bias rows are written into the GEMM's output before it runs (the GEMM then
// accumulates with beta = 1), so the bias costs a memcpy, not a pass; activations run as wasm's
// own SIMD kernels on the result.
import { tf } from "./deps.ts";
import {
  asShape,
  f32Index,
  free,
  heapF32,
  type Info,
  runWasmKernel,
  type WasmBackend,
} from "./_wasm.ts";

/** Fills `rows` rows of `width` floats at heap float index `dst` with the `width` floats at `src`. */
export function fillRows(
  heap: Float32Array,
  dst: number,
  src: number,
  rows: number,
  width: number,
) {
  if (rows <= 0) return;
  heap.copyWithin(dst, src, src + width);
  let filled = 1;
  while (filled < rows) {
    const n = Math.min(filled, rows - filled);
    heap.copyWithin(dst + filled * width, dst, dst + n * width);
    filled += n;
  }
}

/** Whether a bias of this shape can be written as repeated rows of the last dimension `n`. */
export function isRowBias(bias: Info | undefined, n: number): boolean {
  if (bias === undefined) return false;
  return tf.util.sizeFromShape(bias.shape) === n && (bias.shape.at(-1) ?? 1) === n;
}

/** Activations tfjs's fused ops can pass (tfjs-core 4.22 `Activation`). */
export type Activation = "linear" | "relu" | "prelu" | "elu" | "relu6" | "leakyrelu" | "sigmoid";

/**
 * Applies a bias that was not folded into the GEMM (`bias` given and `biasDone` false) and the
 * activation, with wasm's own kernels. Consumes `out` (frees it when it returns a new tensor).
 */
export function epilogue(
  backend: WasmBackend,
  out: Info,
  bias: Info | undefined,
  biasDone: boolean,
  activation: Activation | undefined,
  prelu: Info | undefined,
  leakyreluAlpha: number | undefined,
): Info {
  let y = out;
  if (bias !== undefined && !biasDone) {
    const z = runWasmKernel("Add", { a: y, b: bias }, backend);
    free(backend, y);
    y = z;
  }
  const act = activation ?? "linear";
  if (act === "linear") return y;
  let z: Info;
  switch (act) {
    case "relu":
      z = runWasmKernel("Relu", { x: y }, backend);
      break;
    case "relu6":
      z = runWasmKernel("Relu6", { x: y }, backend);
      break;
    case "elu":
      z = runWasmKernel("Elu", { x: y }, backend);
      break;
    case "sigmoid":
      z = runWasmKernel("Sigmoid", { x: y }, backend);
      break;
    case "leakyrelu":
      z = runWasmKernel("LeakyRelu", { x: y }, backend, { alpha: leakyreluAlpha ?? 0.2 });
      break;
    case "prelu":
      if (prelu === undefined) throw new Error("prelu activation needs preluActivationWeights");
      z = runWasmKernel("Prelu", { x: y, alpha: prelu }, backend);
      break;
    default:
      throw new Error(`activation ${act} is not supported by the BLAS kernels`);
  }
  free(backend, y);
  return asShape(z, y.shape);
}

/** Scratch floats on the wasm heap (owned by the kernel: free with {@linkcode freeScratch}). */
export function scratch(backend: WasmBackend, floats: number): number {
  const ptr = backend.wasm._malloc(Math.max(4, floats * 4));
  if (ptr === 0) throw new Error(`wasm heap: cannot allocate ${floats * 4} bytes`);
  return ptr >>> 2;
}

/** Frees scratch from {@linkcode scratch}. */
export function freeScratch(backend: WasmBackend, ...indices: number[]): void {
  for (const i of indices) if (i >= 0) backend.wasm._free(i * 4);
}

export { f32Index, heapF32 };
