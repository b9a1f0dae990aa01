/**
 * backend/: choosing the tfjs backend, and native CPU kernels (OpenBLAS through Deno FFI) registered
 * into tfjs. Also exports the one tfjs-core instance every package uses, with all gradients
 * registered.
 *
 * @module
 */
export { tf } from "./deps.ts";
export { upsampleNearest } from "./upsample.ts";
