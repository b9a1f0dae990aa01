/**
 * The npm dependencies of backend/, with full specifiers so that a URL import (no deno.json) works.
 * tfjs-core is re-exported as `tf`; importing this module also registers every tfjs gradient
 * (see backend/vendor_tfjs_gradients.ts for why they are vendored), the cpu backend and the wasm
 * backend. The webgpu backend is loaded on demand ({@linkcode loadWebgpuBackend}).
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import "./_tfjs_gradients.js";
import { MathBackendCPU } from "npm:@tensorflow/tfjs-backend-cpu@4.22.0";
import * as tfWasm from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";

export { MathBackendCPU, tf, tfWasm };

/**
 * Loads (and thereby registers) tfjs's webgpu backend. Kept out of the static imports so that a
 * program that never asks for webgpu does not load it.
 *
 * @returns The module's namespace.
 *
 * @example
 * ```ts
 * import { loadWebgpuBackend, tf } from "./deps.ts";
 * await loadWebgpuBackend();
 * console.log(tf.findBackendFactory("webgpu") !== undefined); // true
 * ```
 */
export function loadWebgpuBackend(): Promise<unknown> {
  return import("npm:@tensorflow/tfjs-backend-webgpu@4.22.0");
}

// Deno reports itself as Node to tfjs, so the cpu backend prints an "install tfjs-node" banner on
// first use. Instantiating it here (cheap, synchronous) lets us switch that banner off once.
const cpuBackend = tf.findBackend("cpu") as { firstUse?: boolean } | null;
if (cpuBackend !== null && "firstUse" in cpuBackend) cpuBackend.firstUse = false;
