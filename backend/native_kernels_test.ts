import assert from "assert";
import { tf } from "./deps.ts";
import { initBackend } from "./init_backend.ts";
import { nativeKernelsActive, setNativeKernels } from "./native_kernels.ts";
import { blasForTests, relativeErrors } from "./_test_util.ts";
import {
  caseFailures,
  checkGradients,
  gradientChecks,
  kernelCases,
  rnd,
  runCases,
} from "./_kernel_cases.ts";

const blas = blasForTests();
const needsBlas = (name: string) => blas.run ? name : `${name} (${blas.reason})`;

Deno.test({
  name: needsBlas("native kernels equal the cpu backend within 1e-4 over the shape table"),
  ignore: !blas.run,
  fn: async () => {
    const cases = kernelCases();
    await initBackend({ prefer: "cpu", quiet: true });
    const ref = runCases(cases, true);
    await initBackend({ prefer: "wasm-native", quiet: true });
    assert.ok(nativeKernelsActive());
    const before = tf.memory().numTensors;
    const got = runCases(cases);
    assert.equal(tf.memory().numTensors, before, "the kernels leak no tensors");
    assert.deepEqual(caseFailures(cases, { got, ref }), []);
  },
});

Deno.test({
  name: needsBlas("native kernel gradients agree with finite differences"),
  ignore: !blas.run,
  fn: async () => {
    await initBackend({ prefer: "wasm-native", quiet: true });
    const before = tf.memory().numTensors;
    const checks = gradientChecks();
    checkGradients(checks);
    assert.equal(tf.memory().numTensors, before);
  },
});

Deno.test({
  name: needsBlas("setNativeKernels(false) restores wasm's own kernels and they still work"),
  ignore: !blas.run,
  fn: async () => {
    await initBackend({ prefer: "wasm-native", quiet: true });
    const x = rnd([2, 6, 6, 3], 1) as tf.Tensor4D, f = rnd([3, 3, 3, 4], 2) as tf.Tensor4D;
    const native = tf.tidy(() =>
      tf.grad((w: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, w as tf.Tensor4D, 1, "same"))))(f)
        .dataSync()
    );
    assert.equal(setNativeKernels(false).active, false);
    assert.equal(nativeKernelsActive(), false);
    const own = tf.tidy(() =>
      tf.grad((w: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, w as tf.Tensor4D, 1, "same"))))(f)
        .dataSync()
    );
    const m = tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync());
    assert.deepEqual(Array.from(m), [3, 3, 3, 3]);
    const [maxErr] = relativeErrors(own, native);
    assert.ok(maxErr < 1e-4, `wasm vs native filter gradient: ${maxErr}`);
    assert.ok(setNativeKernels(true).active);
    tf.dispose([x, f]);
  },
});

Deno.test("DREAMBOOTH_NATIVE=0 falls back to plain wasm with a one-line notice, and it trains", async () => {
  const script = new URL("./_fallback_probe.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    env: { DREAMBOOTH_NATIVE: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const lines = stdout.trim().split("\n");
  // One line: the engine, why the faster ones were passed over, and how to get them back.
  assert.match(lines[0], /^tfjs backend: wasm — /);
  assert.match(lines[0], /native kernels off \(DREAMBOOTH_NATIVE=0\)/);
  assert.match(lines[0], /for the native engine run: unset DREAMBOOTH_NATIVE/);
  const report = JSON.parse(lines.at(-1)!);
  assert.equal(report.name, "wasm");
  assert.equal(report.native, false);
  assert.ok(report.maxErr < 1e-4, `fallback conv gradients vs cpu: ${report.maxErr}`);
  assert.equal(report.listenersAdded, 0, "the wasm module's rethrowing listener is removed");
});

Deno.test({
  name: needsBlas("native kernels registered before wasm starts still reach wasm's own kernels"),
  ignore: !blas.run,
  fn: async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./_early_probe.ts", import.meta.url).pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
    assert.deepEqual(result, { active: true, values: new Array(9).fill(4) });
  },
});
