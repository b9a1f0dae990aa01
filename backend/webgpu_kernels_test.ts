/**
 * The webgpu paths of backend/ (issue 30): GroupNorm and Adam composed from GPU kernels equal the
 * cpu backend's host loops within 1e-4 relative, GroupNorm passes a finite-difference gradient
 * check, nothing leaks over 100 Adam steps and nothing is read back to the host; AddN over many
 * inputs is right; a sync read of a GPU tensor fails with a message naming the fix; HalfTensor's
 * WGSL widening kernel gives the host conversion's exact values.
 *
 * Skipped with the reason when no WebGPU adapter exists, except under CI=true (then it fails).
 */
import assert from "assert";
import { tf } from "./deps.ts";
import { createAdam } from "./adam.ts";
import { groupNorm } from "./group_norm.ts";
import {
  fromBfloat16Bits,
  fromHalfBits,
  HalfTensor,
  toBfloat16Bits,
  toHalfBits,
} from "./half_tensor.ts";
import { initBackend } from "./init_backend.ts";
import { watchReads } from "./sync_reads.ts";
import { webgpuTestGate } from "./webgpu_adapter.ts";
import { relativeErrors } from "./_test_util.ts";

const gpu = await webgpuTestGate();
const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({
    name: gpu.run ? name : `${name} (${gpu.reason})`,
    ignore: !gpu.run,
    sanitizeResources: false,
    sanitizeOps: false,
    fn,
  });

/** Seeded values (host arrays, so both backends start from the same bits). */
function normals(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    const u = (s + 0.5) / 2 ** 32;
    s = (s * 1664525 + 1013904223) >>> 0;
    const v = (s + 0.5) / 2 ** 32;
    out[i] = shift + scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

/** GroupNorm values and gradients (x, γ, β) of Σ y·r on the active backend, read asynchronously. */
type Shape4 = [number, number, number, number];

async function groupNormCase(shape: Shape4, groups: number): Promise<Float32Array[]> {
  const c = shape[3], n = shape.reduce((a, b) => a * b);
  const out = tf.tidy(() => {
    const x = tf.tensor(normals(n, 1, 3, 1), shape) as tf.Tensor4D;
    const gamma = tf.tensor1d(normals(c, 2, 0.5, 1));
    const beta = tf.tensor1d(normals(c, 3, 0.5));
    const r = tf.tensor(normals(n, 4), shape);
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      tf.sum(
        tf.mul(groupNorm(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, { groups }), r),
      );
    return [groupNorm(x, gamma, beta, { groups }), ...tf.grads(f)([x, gamma, beta])];
  });
  const values = await Promise.all(out.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(out);
  return values;
}

test("webgpu groupNorm equals the cpu backend (values, gradients) within 1e-4, no reads, no leaks", async () => {
  const cases: [Shape4, number][] = [[[3, 5, 7, 12], 4], [[1, 4, 4, 8], 1], [[2, 3, 3, 6], 6]];
  await initBackend({ prefer: "cpu", quiet: true });
  const ref = [];
  for (const [shape, groups] of cases) ref.push(await groupNormCase(shape, groups));
  await initBackend({ prefer: "webgpu", quiet: true });
  const before = tf.memory().numTensors;
  for (const [k, [shape, groups]] of cases.entries()) {
    using reads = watchReads();
    const ours = await groupNormCase(shape, groups);
    assert.equal(reads.syncReads, 0);
    for (let i = 0; i < ours.length; i++) {
      const [maxErr] = relativeErrors(ours[i], ref[k][i]);
      assert.ok(maxErr < 1e-4, `[${shape}] groups ${groups}, output ${i}: ${maxErr}`);
    }
  }
  assert.equal(tf.memory().numTensors, before);
});

test("webgpu groupNorm passes a finite-difference gradient check", async () => {
  await initBackend({ prefer: "webgpu", quiet: true });
  const shape: Shape4 = [2, 3, 3, 4], n = 72, groups = 2;
  const x0 = normals(n, 7, 1.5, 0.5);
  const r = tf.tensor(normals(n, 8), shape);
  const gamma = tf.tensor1d(normals(4, 9, 0.5, 1)), beta = tf.tensor1d(normals(4, 10, 0.5));
  const loss = (x: tf.Tensor) =>
    tf.sum(tf.mul(groupNorm(x as tf.Tensor4D, gamma, beta, { groups }), r));
  const x = tf.tensor(x0, shape);
  const g = tf.grad(loss)(x);
  const analytic = await g.data();
  // Central differences in float32 on a few coordinates: step 1e-2, tolerance 2 % of the scale.
  const h = 1e-2;
  const scale = Math.max(...Array.from(analytic, Math.abs));
  for (const i of [0, 5, 17, 40, 71]) {
    const plus = x0.slice(), minus = x0.slice();
    plus[i] += h;
    minus[i] -= h;
    const [lp, lm] = await Promise.all(
      [plus, minus].map((v) => tf.tidy(() => loss(tf.tensor(v, shape))).data()),
    );
    const numeric = (lp[0] - lm[0]) / (2 * h);
    assert.ok(
      Math.abs(numeric - analytic[i]) <= 2e-2 * scale,
      `x[${i}]: numeric ${numeric}, analytic ${analytic[i]}`,
    );
  }
  tf.dispose([r, gamma, beta, x, g]);
});

/** 100 Adam steps on a least-squares problem; returns the weights (read once at the end). */
async function adamRun(): Promise<Float32Array[]> {
  const w = tf.tidy(() => [
    tf.variable(tf.tensor(normals(12, 11), [4, 3])),
    tf.variable(tf.tensor1d(normals(3, 12))),
  ]);
  const x = tf.tensor(normals(20, 13), [5, 4]);
  const target = tf.tensor(normals(15, 14), [5, 3]);
  const adam = createAdam({ learningRate: 0.05, epsilon: 1e-7 });
  for (let step = 0; step < 100; step++) {
    tf.dispose(adam.minimize(
      () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w[0]), w[1]), target))) as tf.Scalar,
      w,
    ));
  }
  const state = await adam.readState();
  assert.equal(state.iterations, 100);
  const out = await Promise.all(w.map((v) => v.data() as Promise<Float32Array>));
  adam.dispose();
  tf.dispose([...w, x, target]);
  return [...out, state.moments[w[0].name].m, state.moments[w[0].name].v];
}

test("webgpu Adam equals the cpu backend's after 100 steps within 1e-4; no sync read, no leak", async () => {
  await initBackend({ prefer: "cpu", quiet: true });
  const ref = await adamRun();
  await initBackend({ prefer: "webgpu", quiet: true });
  const before = tf.memory().numTensors;
  using reads = watchReads();
  const ours = await adamRun();
  assert.equal(reads.syncReads, 0);
  assert.equal(tf.memory().numTensors, before);
  for (let i = 0; i < ours.length; i++) {
    const [maxErr] = relativeErrors(ours[i], ref[i]);
    assert.ok(maxErr < 1e-4, `output ${i}: ${maxErr}`);
  }
});

test("webgpu AddN sums many inputs; a sync read of a GPU tensor names the fix", async () => {
  await initBackend({ prefer: "webgpu", quiet: true });
  for (const n of [7, 8, 9, 20, 100]) {
    const sum = tf.tidy(() =>
      tf.addN(Array.from({ length: n }, (_, i) => tf.add(tf.fill([3], i), tf.zeros([3]))))
    );
    assert.deepEqual(Array.from(await sum.data()), Array(3).fill(n * (n - 1) / 2), `n = ${n}`);
    sum.dispose();
  }
  // A tensor never read before lives only on the GPU (a read caches its values on the host).
  const fresh = tf.tidy(() => tf.add(tf.fill([3], 1), tf.zeros([3])));
  assert.throws(() => fresh.dataSync(), /use `await tensor.data\(\)`/);
  fresh.dispose();
});

test("webgpu HalfTensor: half the bytes, widens exactly (float16, bfloat16) with no host read", async () => {
  await initBackend({ prefer: "webgpu", quiet: true });
  const n = 70001; // odd, and more than one workgroup's worth
  const values = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 100);
  for (
    const [dtype, to, from] of [
      ["float16", toHalfBits, fromHalfBits],
      ["bfloat16", toBfloat16Bits, fromBfloat16Bits],
    ] as const
  ) {
    const before = tf.memory();
    const half = HalfTensor.fromValues(values, [n], { dtype });
    assert.equal(tf.memory().numBytes - before.numBytes, Math.ceil(n / 2) * 4);
    using reads = watchReads();
    const widened = tf.tidy(() => half.widen());
    const got = await widened.data();
    assert.equal(reads.syncReads, 0);
    const want = Array.from(values, (v) => from(to(v)));
    let bad = 0;
    for (let i = 0; i < n; i++) if (got[i] !== want[i]) bad++;
    assert.equal(bad, 0, `${dtype}: ${bad} values differ`);
    widened.dispose();
    half.dispose();
    assert.equal(tf.memory().numTensors, before.numTensors);
  }
});
