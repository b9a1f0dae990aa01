import assert from "assert";
import { tf } from "./deps.ts";
import { initBackend, tensorflowPackages } from "./init_backend.ts";
import { nativeKernelsActive } from "./native_kernels.ts";

Deno.test("initBackend honours prefer and reports what it chose", async () => {
  const cpu = await initBackend({ prefer: "cpu", quiet: true });
  assert.deepEqual([cpu.name, cpu.native, tf.getBackend()], ["cpu", false, "cpu"]);
  const wasm = await initBackend({ prefer: "wasm", quiet: true });
  assert.deepEqual([wasm.name, wasm.native, tf.getBackend()], ["wasm", false, "wasm"]);
  assert.equal(nativeKernelsActive(), false);
  assert.match(wasm.reason, /asked for/);
});

Deno.test("initBackend rejects a bad 'prefer' with a message naming it", async () => {
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => initBackend({ prefer: "x" as any }),
    /Cannot init backend as 'prefer' must be one of tensorflow, native, wasm-native, wasm, cpu, webgpu: current value is "x"/,
  );
});

Deno.test("initBackend passes over an absent tensorflow package quickly", async () => {
  const t0 = performance.now();
  const report = await initBackend({ prefer: "tensorflow", quiet: true });
  if (report.name !== "tensorflow") {
    assert.match(report.reason, /tensorflow: .*not installed/);
    assert.ok(performance.now() - t0 < 5000);
  }
});

async function tensorflowInstalled(): Promise<boolean> {
  for (const pkg of tensorflowPackages) {
    try {
      const specifier: string = pkg;
      await import(specifier);
      return true;
    } catch {
      // absent
    }
  }
  return false;
}
const haveTensorflow = await tensorflowInstalled();

Deno.test({
  name: haveTensorflow
    ? "initBackend picks the tensorflow backend when tfjs-node is installed"
    : "initBackend picks the tensorflow backend (skipped: neither @tensorflow/tfjs-node-gpu nor " +
      "@tensorflow/tfjs-node is installed; see README)",
  ignore: !haveTensorflow,
  fn: async () => {
    const report = await initBackend({ quiet: true });
    assert.deepEqual([report.name, report.native, tf.getBackend()], [
      "tensorflow",
      true,
      "tensorflow",
    ]);
    const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2]));
    assert.deepEqual(Array.from(await y.data()), [3, 3, 3, 3]);
    y.dispose();
  },
});

Deno.test("plain wasm trains a conv net: its Conv2DBackpropFilter matches the cpu backend", async () => {
  const run = async (name: "cpu" | "wasm") => {
    await initBackend({ prefer: name, quiet: true });
    return tf.tidy(() => {
      const x = tf.randomNormal([3, 7, 9, 5], 0, 1, "float32", 1) as tf.Tensor4D;
      const w = tf.randomNormal([3, 3, 5, 6], 0, 1, "float32", 2) as tf.Tensor4D;
      const out: Float32Array[] = [];
      for (const [s, p] of [[1, "same"], [2, "same"], [1, "valid"], [2, "valid"]] as const) {
        const f = (b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, b as tf.Tensor4D, s, p)));
        out.push(tf.grad(f)(w).dataSync() as Float32Array);
      }
      return out;
    });
  };
  const before = tf.memory().numTensors;
  const ref = await run("cpu");
  const got = await run("wasm");
  for (let i = 0; i < ref.length; i++) {
    let num = 0, den = 0;
    for (let k = 0; k < ref[i].length; k++) {
      num += (got[i][k] - ref[i][k]) ** 2;
      den += ref[i][k] ** 2;
    }
    assert.ok(Math.sqrt(num / den) < 1e-5, `case ${i}: relative error ${Math.sqrt(num / den)}`);
  }
  assert.equal(tf.memory().numTensors, before);
});
