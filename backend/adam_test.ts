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
