import assert from "assert";
import { initBackend, tf } from "./deps.ts";
import { emaDecayAt, WeightEma } from "./weight_ema.ts";

const f32 = (t: { data: unknown }) => t.data as Float32Array;

Deno.test("WeightEma: the warm-up decay and the average, hand-computed, without leaks", async () => {
  await initBackend({ quiet: true });
  assert.equal(emaDecayAt(0.999, 1), 2 / 11);
  assert.equal(emaDecayAt(0.999, 10), 11 / 20);
  assert.equal(emaDecayAt(0.9, 1000), 0.9);
  const before = tf.memory().numTensors;
  const w = tf.tidy(() => tf.variable(tf.tensor1d([0, 10])));
  {
    using ema = new WeightEma([["w", w]], 0.28);
    // s0 = w0 = [0, 10]; after each step w is set, then s ← d s + (1 − d) w.
    const ws = [[1, 8], [2, 6], [4, 0]];
    const ds = [2 / 11, 3 / 12, 0.28]; // min(0.28, (1 + n)/(10 + n)): the cap from n = 3 on
    let s = [0, 10];
    for (const [k, v] of ws.entries()) {
      tf.tidy(() => w.assign(tf.tensor1d(v)));
      ema.update();
      s = s.map((x, j) => ds[k] * x + (1 - ds[k]) * v[j]);
    }
    assert.equal(ema.updates, 3);
    const got = f32((await ema.export()).get("ema.w")!);
    got.forEach((x, j) => assert.ok(Math.abs(x - s[j]) < 1e-6, `${x} vs ${s[j]}`));
    // The raw weights are left alone.
    assert.deepEqual([...w.dataSync()], [4, 0]);
  }
  w.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("WeightEma: load restores the shadow and the count; bad input is refused by name", async () => {
  await initBackend({ quiet: true });
  const w = tf.variable(tf.tensor2d([[1, 2]]));
  try {
    using a = new WeightEma([["w", w]], 0.9);
    w.assign(tf.tensor2d([[3, 5]]));
    a.update();
    const saved = await a.export();
    using b = new WeightEma([["w", w]], 0.9);
    b.load(saved, a.updates);
    assert.equal(b.updates, 1);
    w.assign(tf.tensor2d([[7, 7]]));
    a.update();
    b.update();
    assert.deepEqual(
      [...f32((await b.export()).get("ema.w")!)],
      [...f32((await a.export()).get("ema.w")!)],
    );
    assert.throws(() => b.load(new Map(), 1), /'ema.w' is missing/);
    assert.throws(
      () => b.load(new Map([["ema.w", { shape: [2], data: new Float32Array(2) }]]), 1),
      /'ema.w' has shape \[2\], not \[1,2\]/,
    );
    assert.throws(() => b.load(saved, -1), /'updates' must be an integer ≥ 0/);
    // restore: the count from a run checkpoint's state, the shadow from its tensors.
    using c = new WeightEma([["w", w]], 0.9);
    c.restore({ tensors: saved, state: { step: 1, emaUpdates: 1 } });
    assert.equal(c.updates, 1);
    assert.throws(() => c.restore({ tensors: saved, state: { step: 1 } }), /holds none/);
    assert.throws(() => new WeightEma([["w", w]], 1), /'decay' must be a number in \(0, 1\)/);
    assert.throws(() => new WeightEma([], 0.9), /given no variables/);
  } finally {
    w.dispose();
  }
});
