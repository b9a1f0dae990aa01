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

Deno.test("reference UNet: no tensor leaks and flat RSS over 100 training steps (batch 1)", async () => {
  // Batch 1 instead of 8 keeps this test to seconds; the model and the kernels run are the same.
  const report = await initBackend({ quiet: true });
  const unet = createReferenceUnet();
  const x0 = tf.randomUniform([1, 32, 32, 3], -1, 1, "float32", 3) as tf.Tensor4D;
  unet.trainStep(x0, 0); // creates Adam's moment tensors
  const tensors = tf.memory().numTensors;
  const rssAt: number[] = [];
  const t0 = performance.now();
  for (let step = 1; step < 100; step++) {
    unet.trainStep(x0, step);
    assert.equal(tf.memory().numTensors, tensors, `tensors after step ${step}`);
    rssAt.push(Deno.memoryUsage().rss / 2 ** 20);
  }
  const seconds = (performance.now() - t0) / 1e3;
  const peak = Math.max(...rssAt), at = (step: number) => rssAt[step - 2];
  console.log(
    `${report.name}: 100 steps in ${seconds.toFixed(1)} s; RSS at step 10 ${
      at(10).toFixed(0)
    } MiB, ` +
      `step 50 ${at(50).toFixed(0)} MiB, step 100 ${at(100).toFixed(0)} MiB, peak ${
        peak.toFixed(0)
      } MiB`,
  );
  // The wasm heap reaches its plateau within the first steps; V8's own heap breathes with GC.
  assert.ok(
    at(100) - at(50) < 64,
    `RSS grew by ${(at(100) - at(50)).toFixed(0)} MiB from step 50 to step 100`,
  );
  x0.dispose();
  unet.dispose();
});
