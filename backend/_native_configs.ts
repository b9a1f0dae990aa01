// Private: the list of BLAS-backed kernel configs for the wasm backend.
import type { tf } from "./deps.ts";
import type { Blas } from "./blas.ts";
import { binaryConfig } from "./_binary_kernels.ts";
import { castConfig, identityConfig, reduceConfig, splitVConfig } from "./_misc_kernels.ts";
import { batchMatMulConfig, fusedMatMulConfig } from "./_matmul_kernels.ts";
import {
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  conv2dConfig,
  fusedConv2dConfig,
} from "./_conv_kernels.ts";

/** The kernels replaced, in the order of {@linkcode nativeKernelConfigs}. */
export const nativeKernelNames = [
  "BatchMatMul",
  "_FusedMatMul",
  "Conv2D",
  "FusedConv2D",
  "Conv2DBackpropInput",
  "Conv2DBackpropFilter",
  "Identity",
  "Cast",
  "Sum",
  "Mean",
  "SplitV",
  "Add",
  "Sub",
  "Multiply",
  "RealDiv",
] as const;

/**
 * Kernel configs that call `blas.sgemm`; `original(name)` gives the kernel each replaces (used for
 * cases they do not cover: other dtypes, NCHW, dilation > 1).
 */
export function nativeKernelConfigs(
  blas: Blas,
  original: (name: string) => tf.KernelConfig | undefined,
): tf.KernelConfig[] {
  return [
    batchMatMulConfig(blas, original("BatchMatMul")),
    fusedMatMulConfig(blas, original("_FusedMatMul")),
    conv2dConfig(blas, original("Conv2D")),
    fusedConv2dConfig(blas, original("FusedConv2D")),
    conv2dBackpropInputConfig(blas, original("Conv2DBackpropInput")),
    conv2dBackpropFilterConfig(blas, original("Conv2DBackpropFilter")),
    identityConfig(original("Identity")),
    castConfig(original("Cast")),
    reduceConfig("Sum", blas, original("Sum")),
    reduceConfig("Mean", blas, original("Mean")),
    splitVConfig(original("SplitV")),
    ...["Add", "Sub", "Multiply", "RealDiv"].map((n) => binaryConfig(n, original(n))),
  ];
}
