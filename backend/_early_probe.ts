// Private: run by native_kernels_test.ts in a subprocess. Registers the native kernels before
// the wasm backend exists, then starts wasm and runs a dilated convolution (which the BLAS kernel
// hands back to wasm's own, whose setup must have run). Prints the result.
import { tf } from "./deps.ts";
import { setNativeKernels } from "./native_kernels.ts";

const state = setNativeKernels(true);
await tf.setBackend("wasm");
const y = tf.conv2d(
  tf.ones([1, 5, 5, 1]) as tf.Tensor4D,
  tf.ones([2, 2, 1, 1]) as tf.Tensor4D,
  1,
  "valid",
  "NHWC",
  2,
);
console.log(JSON.stringify({ active: state.active, values: Array.from(y.dataSync()) }));
