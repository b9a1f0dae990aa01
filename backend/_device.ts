// Private: whether the active tfjs backend keeps tensors on an accelerator, where a host loop
// (dataSync + JavaScript) would be a device→host round trip, so ops must be composed from
// backend kernels instead.
import { tf } from "./deps.ts";

/** Backends whose tensors live off the JavaScript heap behind a device queue. */
const deviceBackends = new Set(["webgpu", "webgl", "tensorflow"]);

/** True when the active backend is webgpu, webgl or tensorflow (libtensorflow, maybe CUDA). */
export function onDevice(): boolean {
  return deviceBackends.has(tf.getBackend());
}
