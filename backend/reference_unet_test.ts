import assert from "assert";
import { tf } from "./deps.ts";
import { initBackend } from "./init_backend.ts";
import { createReferenceUnet } from "./reference_unet.ts";
import { blasForTests } from "./_test_util.ts";

const blas = blasForTests();
const needsBlas = (name: string) => blas.run ? name : `${name} (${blas.reason})`;

Deno.test("reference UNet: shapes, ~1.9 M weights, dispose frees every tensor", async () => {
  await initBackend({ prefer: "wasm", quiet: true });
  const before = tf.memory().numTensors;
  const unet = createReferenceUnet();
  assert.ok(Math.abs(unet.parameterCount - 1.9e6) < 0.1e6, `${unet.parameterCount} weights`);
  tf.tidy(() => {
    const y = unet.apply(tf.zeros([2, 32, 32, 3]) as tf.Tensor4D, tf.tensor1d([0.1, 0.9]));
    assert.deepEqual(y.shape, [2, 32, 32, 3]);
  });
  const x0 = tf.randomUniform([1, 32, 32, 3], -1, 1, "float32", 3) as tf.Tensor4D;
  assert.ok(Number.isFinite(unet.trainStep(x0, 1)));
  x0.dispose();
  unet.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test({
  name: needsBlas("reference UNet trains to the same losses with and without the native kernels"),
  ignore: !blas.run,
  fn: async () => {
    const losses = async (prefer: "wasm" | "wasm-native") => {
      await initBackend({ prefer, quiet: true });
      using unet = createReferenceUnet({ seed: 3, learningRate: 1e-3 });
      const x0 = tf.randomUniform([1, 32, 32, 3], -1, 1, "float32", 5) as tf.Tensor4D;
      const out = [0, 1].map((step) => unet.trainStep(x0, step));
      x0.dispose();
      return out;
    };
    const plain = await losses("wasm");
    const native = await losses("wasm-native");
    for (let i = 0; i < plain.length; i++) {
      assert.ok(
        Math.abs(plain[i] - native[i]) <= 1e-4 * Math.abs(plain[i]),
        `step ${i}: wasm ${plain[i]}, wasm-native ${native[i]}`,
      );
    }
  },
});

Deno.test("reference UNet: no tensor leaks and flat memory over 100 training steps (batch 1)", async () => {
  // Batch 1 instead of 8 keeps this test to seconds; the model and the kernels run are the same.
  const report = await initBackend({ quiet: true });
  const unet = createReferenceUnet();
  const x0 = tf.randomUniform([1, 32, 32, 3], -1, 1, "float32", 3) as tf.Tensor4D;
  unet.trainStep(x0, 0); // first step: allocates the optimizer state
  const tensors = tf.memory().numTensors;
  const rss: number[] = [], heap: number[] = [];
  // The wasm heap's size (tensors + kernel scratch); 0 on backends without one.
  const wasmHeap = () =>
    (tf.backend() as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.buffer.byteLength ?? 0;
  const t0 = performance.now();
  for (let step = 1; step < 100; step++) {
    unet.trainStep(x0, step);
    assert.equal(tf.memory().numTensors, tensors, `tensors after step ${step + 1}`);
    rss.push(Deno.memoryUsage().rss / 2 ** 20);
    heap.push(wasmHeap() / 2 ** 20);
  }
  const seconds = (performance.now() - t0) / 1e3;
  const at = (values: number[], step: number) => values[step - 2].toFixed(0);
  console.log(
    `${report.name}: 100 steps in ${seconds.toFixed(1)} s; RSS after step 10/50/100: ` +
      `${at(rss, 10)}/${at(rss, 50)}/${at(rss, 100)} MiB, peak ${Math.max(...rss).toFixed(0)} ` +
      `MiB; wasm heap ${at(heap, 10)}/${at(heap, 50)}/${at(heap, 100)} MiB`,
  );
  // The wasm heap (where tensors live) reaches its plateau in the first steps and never shrinks;
  // it must not grow after that. RSS also carries V8's garbage-collected heap, which breathes by
  // tens of MiB, so it only has to stay within a generous bound.
  assert.equal(heap[98], heap[8], "wasm heap grew after step 10");
  assert.ok(rss[98] - rss[8] < 256, `RSS grew by ${(rss[98] - rss[8]).toFixed(0)} MiB`);
  x0.dispose();
  unet.dispose();
});
