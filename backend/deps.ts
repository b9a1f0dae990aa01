/**
 * The npm dependencies of backend/, with full specifiers so that a URL import (no deno.json) works.
 * tfjs-core is re-exported as `tf`; importing this module also registers every tfjs gradient
 * (see tools/vendor_tfjs_gradients.ts for why they are vendored).
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import "./_tfjs_gradients.js";

export { tf };
