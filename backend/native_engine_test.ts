import assert from "assert";
import { tf } from "./deps.ts";
import { nativeEngineLib, setupNativeEngine } from "./native_engine.ts";
import { initBackend } from "./init_backend.ts";
import { groupNorm } from "./group_norm.ts";
import { createAdam } from "./adam.ts";
import { upsampleNearest } from "./upsample.ts";
import { silu } from "./silu.ts";
import { createReferenceUnet } from "./reference_unet.ts";
import { marchLevel, nativeCacheDir, nativeFlags } from "./_native_lib.ts";
import { relativeErrors } from "./_test_util.ts";
import {
  type Case,
  caseFailures,
  checkGradients,
  gradientChecks,
  kernelCases,
  rnd,
  runCases,
} from "./_kernel_cases.ts";

const engine = await setupNativeEngine();
let ci = false;
try {
  ci = Deno.env.get("CI") === "true";
} catch {
  // no env permission: not CI
}
if (!engine.active && ci) {
  throw new Error(`CI=true but the native engine is off (${engine.detail}): it would go untested`);
}
const probe = new URL("./_engine_probe.ts", import.meta.url).pathname;
const named = (name: string) => engine.active ? name : `${name} (skipped: ${engine.detail})`;

/** Cases for the kernels the engine adds beyond the wasm-native table. */
function engineCases(): Case[] {
  const cases: Case[] = [];
  cases.push({
    name: "unary kernels",
    run: () => {
      const x = rnd([3, 5, 7], 1), pos = tf.add(tf.abs(x), 0.1);
      return [
        tf.exp(x),
        tf.log(pos),
        tf.sqrt(pos),
        tf.rsqrt(pos),
        tf.neg(x),
        tf.square(x),
        tf.sigmoid(x),
        tf.tanh(x),
        tf.relu(x),
        tf.abs(x),
        tf.sin(x),
        tf.cos(x),
        tf.reciprocal(pos),
        tf.step(x, 0.3),
        tf.erf(x),
        tf.leakyRelu(x, 0.1),
        tf.elu(x),
        tf.log1p(pos),
        tf.expm1(x),
        tf.sign(x),
        tf.floor(tf.mul(x, 3)),
      ];
    },
  });
  cases.push({
    // The cpu backend's Cast int32 → float32 shares its input's Int32Array: a kernel must read it as
    // numbers, not as float32 bits (tf.norm's pow(x, int32 2) gave 1 everywhere before the fix).
    name: "float32 tensors cast from int32 (shared Int32Array storage)",
    run: () => {
      const x = rnd([3, 5], 3);
      const n = tf.cast(tf.tensor1d([1, 2, 3, 4, 5], "int32"), "float32");
      return [
        tf.norm(x, 2, 1, true),
        tf.pow(x, tf.scalar(2, "int32")),
        tf.mul(x, n),
        tf.matMul(x, tf.reshape(n, [5, 1])),
      ];
    },
  });
  cases.push({
    name: "binary kernels with broadcasting, AddN",
    run: () => {
      const a = rnd([3, 1, 5, 4], 1), b = rnd([6, 1, 4], 2), c = rnd([3, 6, 5, 4], 3);
      return [
        tf.maximum(a, b),
        tf.minimum(b, a),
        tf.squaredDifference(a, b),
        tf.pow(tf.add(tf.abs(a), 0.5), b),
        tf.add(c, tf.scalar(2)),
        tf.div(tf.scalar(2), tf.add(tf.abs(c), 1)),
        tf.addN([c, c, tf.mul(c, 2)]),
        tf.mul(rnd([7], 4), rnd([1], 5)),
      ];
    },
  });
  cases.push({
    name: "gather (axis 0, 1, 2; repeated indices) and its gradient (UnsortedSegmentSum)",
    run: () => {
      const x = rnd([6, 5, 4], 1), r = rnd([3, 2, 5, 4], 2);
      const idx = tf.tensor2d([[5, 0], [2, 2], [0, 3]], [3, 2], "int32");
      const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.gather(a, idx), r)))(x);
      return [
        tf.gather(x, idx),
        tf.gather(x, tf.tensor1d([4, 1, 1], "int32"), 1),
        tf.gather(x, tf.tensor1d([3, 0], "int32"), 2),
        dx,
        tf.unsortedSegmentSum(rnd([7, 3], 3), tf.tensor1d([0, 2, 2, 1, 0, 4, 2], "int32"), 5),
      ];
    },
  });
  cases.push({
    name: "exp, sigmoid, softmax at large and small arguments",
    run: () => {
      const x = tf.tensor1d([-100, -87, -20, -1e-3, 0, 1e-6, 3, 20, 80, 88]);
      return [tf.exp(x), tf.sigmoid(x), tf.softmax(tf.reshape(x, [2, 5])), tf.elu(x)];
    },
  });
  cases.push({
    name: "max, min, prod, softmax, logSumExp",
    run: () => {
      const x = rnd([3, 5, 7, 6], 1);
      return [
        tf.max(x, [1, 3]),
        tf.max(x, 0, true),
        tf.min(x, -1),
        tf.min(x, [0, 1, 2, 3]),
        tf.prod(tf.add(tf.mul(x, 0.1), 1), [0, 2]),
        tf.softmax(x),
        tf.logSumExp(x, 2),
        tf.mean(x, [0, 1, 3], true),
        // One run of middle axes (the scale/shift gradients of [B, H, W, C] over H and W).
        tf.sum(x, [1, 2]),
        tf.mean(x, [1, 2], true),
        tf.max(x, 1),
        tf.min(x, [1, 2]),
        tf.sum(rnd([2, 300, 7, 3], 2), [1, 2]),
      ];
    },
  });
  cases.push({
    name: "transpose, slice, tile/broadcastTo, pad, concat",
    run: () => {
      const x = rnd([3, 5, 7, 6], 1);
      return [
        tf.transpose(x, [0, 3, 1, 2]),
        tf.transpose(x, [2, 0, 3, 1]),
        tf.transpose(rnd([5, 7], 2)),
        tf.slice(x, [1, 2, 0, 3], [2, 2, 7, 3]),
        tf.slice(x, [0, 0, 3, 0], [-1, 5, 2, -1]),
        tf.tile(rnd([2, 1, 3], 3), [2, 4, 1]),
        tf.broadcastTo(rnd([1, 5, 1, 6], 4), [3, 5, 7, 6]),
        tf.pad(x, [[0, 0], [1, 2], [3, 0], [0, 1]]),
        tf.pad(x, [[1, 0], [0, 0], [0, 0], [2, 2]], 1.5),
        tf.concat([x, tf.mul(x, 2)], 3),
        tf.concat([x, rnd([3, 2, 7, 6], 5), x], 1),
        tf.concat([rnd([4], 6), rnd([3], 7)], 0),
      ];
    },
  });
  for (const [b, h, w, c, g] of [[1, 5, 7, 12, 3], [3, 4, 4, 8, 8], [2, 6, 3, 16, 1]]) {
    cases.push({
      name: `groupNorm [${b},${h},${w},${c}] groups ${g}: y, dx, dγ, dβ`,
      run: () => {
        const x = tf.add(rnd([b, h, w, c], 1), 0.5) as tf.Tensor4D;
        const gamma = rnd([c], 2) as tf.Tensor1D, beta = rnd([c], 3) as tf.Tensor1D;
        const r = rnd([b, h, w, c], 4);
        const f = (xs: tf.Tensor, gs: tf.Tensor, bs: tf.Tensor) =>
          tf.sum(
            tf.mul(
              groupNorm(xs as tf.Tensor4D, gs as tf.Tensor1D, bs as tf.Tensor1D, { groups: g }),
              r,
            ),
          );
        return [groupNorm(x, gamma, beta, { groups: g }), ...tf.grads(f)([x, gamma, beta])];
      },
    });
  }
  cases.push({
    name: "silu (fused on native) and its gradient",
    run: () => {
      const x = tf.mul(rnd([3, 5, 7, 4], 1), 4), r = rnd([3, 5, 7, 4], 2);
      const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(silu(a), r)))(x);
      return [silu(x), dx];
    },
  });
  cases.push({
    name: "Adam (fused) three steps, nearest upsampling and its gradient",
    run: () => {
      const v = tf.variable(rnd([5, 7], 1), true, "engine_test_adam");
      const adam = createAdam({ learningRate: 0.01 });
      for (let i = 0; i < 3; i++) {
        adam.applyGradients([v], [tf.mul(rnd([5, 7], 2 + i), 1 + i)]);
      }
      const w = v.clone();
      v.dispose();
      adam.dispose();
      const x = rnd([3, 4, 5, 2], 5) as tf.Tensor4D, r = rnd([3, 8, 10, 2], 6);
      const up = upsampleNearest(x, 2);
      const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(upsampleNearest(a as tf.Tensor4D, 2), r)))(
        x,
      );
      return [w, up, dx];
    },
  });
  return cases;
}

Deno.test({
  name: named("native engine kernels equal the cpu backend within 1e-4 over the shape table"),
  ignore: !engine.active,
  fn: async () => {
    const cases = [...kernelCases(), ...engineCases()];
    const convCases = cases.filter((c) => c.name.startsWith("conv2d"));
    assert.ok(convCases.length > 20);
    await initBackend({ prefer: "cpu", quiet: true });
    const ref = runCases(cases, true);
    const report = await initBackend({ prefer: "native", quiet: true });
    assert.equal(report.name, "native");
    assert.equal(tf.getBackend(), "native");
    const before = tf.memory().numTensors;
    const failures: string[] = [];
    // Convolutions under each scheme: auto, always im2col, per-tap GEMMs wherever stride 1.
    for (const scheme of [0, 1, 2]) {
      nativeEngineLib()!.nk_conv_scheme(scheme);
      const run = scheme === 0 ? cases : convCases;
      failures.push(...caseFailures(run, {
        got: runCases(run),
        ref: run.map((c) => ref[cases.indexOf(c)]),
        note: ` (scheme ${scheme})`,
      }));
    }
    nativeEngineLib()!.nk_conv_scheme(0);
    assert.equal(tf.memory().numTensors, before, "the kernels leak no tensors");
    assert.deepEqual(failures, []);
  },
});

Deno.test({
  name: named("native engine gradients agree with finite differences"),
  ignore: !engine.active,
  fn: async () => {
    await initBackend({ prefer: "native", quiet: true });
    const before = tf.memory().numTensors;
    const checks = gradientChecks();
    checks.push([
      "silu (product with a linear term)",
      (a, b) => tf.add(tf.sum(silu(a)), tf.sum(b)),
      [3, 4],
      [2],
    ]);
    checks.push([
      "groupNorm (γ linear)",
      (a, b) =>
        tf.sum(
          tf.mul(
            groupNorm(
              tf.reshape(b, [2, 3, 3, 4]) as tf.Tensor4D,
              tf.reshape(a, [4]) as tf.Tensor1D,
              tf.zeros([4]),
              {
                groups: 2,
              },
            ),
            tf.reshape(tf.linspace(-1, 1, 72), [2, 3, 3, 4]),
          ),
        ),
      [4],
      [72],
    ]);
    // Linear losses: exact up to rounding at a wide step; silu is smooth: a small one.
    checkGradients(checks, {
      eps: (name) => name.startsWith("silu") ? 1e-2 : 0.5,
      inputs: (name) => name.startsWith("groupNorm") ? ["a"] : ["a", "b"],
    });
    assert.equal(tf.memory().numTensors, before);
  },
});

Deno.test({
  name: named("native engine: 200 training steps leak no tensors or memory; loss matches cpu"),
  ignore: !engine.active,
  fn: async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--v8-flags=--expose-gc", probe, "leak", "220"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const { at } = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
    const mib = (x: number) => (x / 2 ** 20).toFixed(1);
    // Steps 20, 120, 220: the same tensors, the same memory retained after a full GC (V8's heap
    // moves by a few MiB from one collection to the next), and RSS at its plateau.
    assert.deepEqual(
      at.map((a: { tensors: number }) => a.tensors),
      new Array(3).fill(at[0].tensors),
    );
    for (const a of at.slice(1)) {
      assert.ok(
        a.retained - at[0].retained < 8 * 2 ** 20,
        `retained ${mib(at[0].retained)} → ${mib(a.retained)} MiB`,
      );
    }
    assert.ok(
      at[2].rss - at[1].rss < 32 * 2 ** 20,
      `RSS ${mib(at[1].rss)} → ${mib(at[2].rss)} MiB`,
    );
    // The losses of the first steps equal the cpu backend's.
    const losses: Record<string, number[]> = {};
    for (const prefer of ["cpu", "native"] as const) {
      await initBackend({ prefer, quiet: true });
      using unet = createReferenceUnet({ channels: [8, 16, 16], groups: 4, seed: 3 });
      const x0 = tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 5) as tf.Tensor4D;
      losses[prefer] = [0, 1, 2].map((i) => unet.trainStep(x0, i));
      x0.dispose();
    }
    for (let i = 0; i < 3; i++) {
      const [rel] = relativeErrors([losses.native[i]], [losses.cpu[i]]);
      assert.ok(rel < 1e-4, `step ${i}: native ${losses.native[i]}, cpu ${losses.cpu[i]}`);
    }
  },
});

Deno.test("native engine: the -march level follows the CPU's features (cache safe to copy)", () => {
  const v3 = "flags\t\t: fpu sse4_2 ssse3 popcnt avx avx2 fma bmi1 bmi2 movbe f16c\n";
  const v4 = v3.replace("\n", " avx512f avx512bw avx512cd avx512dq avx512vl\n");
  if (Deno.build.arch === "x86_64") {
    assert.equal(marchLevel(v3), "x86-64-v3");
    assert.equal(marchLevel(v4), "x86-64-v4");
    assert.equal(marchLevel("flags : fpu\n"), "");
    assert.ok(nativeFlags("x86-64-v3").includes("-march=x86-64-v3"));
  }
  assert.ok(!nativeFlags("").some((f) => f.startsWith("-march")));
});

Deno.test({
  name: named("native engine: the cached library has its compile flags recorded beside it"),
  ignore: !engine.active,
  fn: () => {
    const file = /C kernels (engine-\S+\.so)/.exec(engine.detail)![1];
    const record = JSON.parse(
      Deno.readTextFileSync(`${nativeCacheDir()}/${file.replace(/\.so$/, ".json")}`),
    );
    assert.deepEqual(record.flags, nativeFlags());
    assert.match(record.ccVersion, /\S/);
  },
});

Deno.test({
  name: named("initBackend picks the native engine by default and says so in one line"),
  ignore: !engine.active,
  fn: async () => {
    const report = await initBackend({ quiet: true });
    if (report.name === "tensorflow") return;
    assert.equal(report.name, "native");
    assert.equal(report.faster, undefined);
    assert.match(report.reason, /native CPU engine: .*OpenBLAS/);
  },
});

Deno.test("without a compiler the default is wasm-native, and the line names the command", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", probe],
    env: { CC: "/nonexistent/cc", DREAMBOOTH_NATIVE_CACHE: await Deno.makeTempDir() },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const lines = stdout.trim().split("\n");
  assert.match(lines[0], /^tfjs backend: (wasm-native|wasm) — /);
  assert.match(lines[0], /no C compiler/);
  assert.match(lines[0], /for the native engine run: apt-get install -y .*gcc/);
});
