import assert from "assert";
import { openBlas, setupNativeEngine } from "../backend/mod.ts";
import { explain, withServedCheckout } from "./_url_import.ts";

// From a scratch folder with --no-config (npm packages and the wasm binary come from Deno's global
// cache), import backend/mod.ts by URL, pick the default backend and train one conv step.
Deno.test("backend/mod.ts imported by URL with --no-config picks a backend and trains a conv", async () => {
  await withServedCheckout(async ({ base, run }) => {
    const r = await run(`import { initBackend, tf } from "${base}backend/mod.ts";
const report = await initBackend({ quiet: true });
const g = tf.tidy(() => {
  const x = tf.randomNormal([2, 6, 6, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  const f = (w: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, w as tf.Tensor4D, 1, "same")));
  return tf.grad(f)(tf.ones([3, 3, 3, 4])).dataSync().length;
});
console.log(JSON.stringify({ name: report.name, backend: tf.getBackend(), g }));
`);
    assert.ok(r.success, explain(r));
    const result = JSON.parse(r.lastLine);
    // With a BLAS library the FFI kernels must load from a URL import too, and with a compiler
    // the native engine (its C source is fetched from the served checkout).
    const engine = await setupNativeEngine();
    const expected = engine.active ? "native" : openBlas() === null ? "wasm" : "wasm-native";
    assert.equal(result.name, expected);
    assert.equal(result.backend, expected === "wasm-native" ? "wasm" : expected);
    assert.equal(result.g, 3 * 3 * 3 * 4);
  });
});
