import assert from "assert";
import { tf } from "./deps.ts";
import { createAdam } from "./adam.ts";
import { initBackend } from "./init_backend.ts";
import { relativeErrors } from "./_test_util.ts";

for (const prefer of ["cpu", "wasm"] as const) {
  Deno.test(`createAdam matches tf.train.adam over 5 steps on ${prefer}, without leaks`, async () => {
    await initBackend({ prefer, quiet: true });
    const before = tf.memory().numTensors;
    const init = [
      tf.randomNormal([4, 3], 0, 1, "float32", 1),
      tf.randomNormal([3], 0, 1, "float32", 2),
    ];
    const ours = init.map((t) => tf.variable(t));
    const theirs = init.map((t) => tf.variable(t));
    const target = tf.randomNormal([5, 3], 0, 1, "float32", 3);
    const x = tf.randomNormal([5, 4], 0, 1, "float32", 4);
    const loss = (w: tf.Variable[]) => () =>
      tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w[0]), w[1]), target))) as tf.Scalar;
    const adam = createAdam({ learningRate: 0.05 });
    const reference = tf.train.adam(0.05);
    for (let step = 0; step < 5; step++) {
      tf.dispose(adam.minimize(loss(ours), ours));
      tf.dispose(reference.minimize(loss(theirs), true, theirs)!);
    }
    assert.equal(adam.iterations, 5);
    for (let k = 0; k < ours.length; k++) {
      const [maxErr] = relativeErrors(ours[k].dataSync(), theirs[k].dataSync());
      assert.ok(maxErr < 1e-5, `variable ${k}: ${maxErr}`);
    }
    reference.dispose();
    adam.dispose();
    tf.dispose([...init, ...ours, ...theirs, target, x]);
    assert.equal(tf.memory().numTensors, before);
  });
}

Deno.test("createAdam rejects bad options and mismatched gradients with messages naming them", () => {
  assert.throws(() => createAdam({ beta1: 1 }), /'beta1' must be in \[0, 1\): current value is 1/);
  const v = tf.variable(tf.zeros([2]));
  const g = tf.zeros([3]);
  assert.throws(() => createAdam().applyGradients([v], []), /one tensor per variable/);
  assert.throws(() => createAdam().applyGradients([v], [g]), /current shape is \[3\]/);
  tf.dispose([v, g]);
});

Deno.test("createAdam resumes from getState/setState exactly", async () => {
  await initBackend({ prefer: "wasm", quiet: true });
  const w0 = tf.randomNormal([6], 0, 1, "float32", 1);
  const loss = (w: tf.Variable) => () => tf.sum(tf.square(tf.sub(w, 0.5))) as tf.Scalar;
  const a = tf.variable(w0, true, "adam_resume_a");
  const straight = createAdam({ learningRate: 0.1 });
  for (let i = 0; i < 4; i++) tf.dispose(straight.minimize(loss(a), [a]));
  // Two steps, checkpoint (state + weights), rebuild the variable under its name, two more steps.
  const b = tf.variable(w0, true, "adam_resume_b");
  const first = createAdam({ learningRate: 0.1 });
  for (let i = 0; i < 2; i++) tf.dispose(first.minimize(loss(b), [b]));
  const state = first.getState();
  const weights = b.dataSync().slice();
  b.dispose();
  const saved = tf.tensor1d(weights);
  const c = tf.variable(saved, true, "adam_resume_b");
  saved.dispose();
  const resumed = createAdam({ learningRate: 0.1 });
  resumed.setState(state);
  for (let i = 0; i < 2; i++) tf.dispose(resumed.minimize(loss(c), [c]));
  assert.equal(resumed.iterations, 4);
  assert.deepEqual(Array.from(c.dataSync()), Array.from(a.dataSync()));
  assert.throws(() => resumed.setState({ iterations: -1, moments: {} }), /'iterations'/);
  tf.dispose([w0, a, c]);
});

Deno.test("createAdam: resumed at any step, continues bit for bit (bias corrections formed as in the steps)", async () => {
  await initBackend({ prefer: "wasm", quiet: true });
  const w0 = tf.randomNormal([6], 0, 1, "float32", 2);
  const loss = (w: tf.Variable) => () => tf.sum(tf.square(tf.sub(w, 0.5))) as tf.Scalar;
  const opts = { learningRate: 0.05, beta1: 0.9, beta2: 0.99 };
  const a = tf.variable(w0, true, "adam_resume2_a");
  const straight = createAdam(opts);
  for (let i = 0; i < 12; i++) tf.dispose(straight.minimize(loss(a), [a]));
  const want = Array.from(a.dataSync());
  for (const at of [3, 7]) {
    const b = tf.variable(w0, true, `adam_resume2_${at}`);
    const first = createAdam(opts);
    for (let i = 0; i < at; i++) tf.dispose(first.minimize(loss(b), [b]));
    const resumed = createAdam(opts);
    resumed.setState(first.getState());
    for (let i = at; i < 12; i++) tf.dispose(resumed.minimize(loss(b), [b]));
    assert.deepEqual(Array.from(b.dataSync()), want, `resumed at step ${at}`);
    b.dispose();
  }
  tf.dispose([w0, a]);
});
