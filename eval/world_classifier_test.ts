import assert from "assert";
import { builtInSubjects, initBackend, loadSubjectFolder, tf } from "./deps.ts";
import { WorldClassifier } from "./world_classifier.ts";
import { dreambenchPrompts } from "./dreambench_prompts.ts";
import { promptFidelity } from "./prompt_fidelity.ts";

await initBackend({ quiet: true });

Deno.test("WorldClassifier: shipped weights load, labels and held-out figures present, no leaks", async () => {
  const before = tf.memory().numTensors;
  {
    using c = await WorldClassifier.load();
    assert.equal(c.classes.length, 155);
    assert.equal(c.contexts.length, 20);
    assert.equal(c.properties[0], "none");
    assert.equal(c.inputSize, 64);
    const acc = JSON.parse(c.metadata.heldOutAccuracy);
    for (const k of ["classNoun", "context", "property"]) assert.ok(acc[k] > 0 && acc[k] <= 1);
    const im = { data: new Float32Array(128 * 128 * 3).fill(0.3), width: 128, height: 128 };
    const out = c.classify([im, im, im], { batchSize: 2 });
    assert.equal(out.classNoun.length, 3);
    assert.equal(out.classProbs.length, 3 * 155);
    let sum = 0;
    for (let j = 0; j < 20; j++) sum += out.contextProbs[j];
    assert.ok(Math.abs(sum - 1) < 1e-4);
    for (let j = 0; j < 155; j++) {
      assert.ok(Math.abs(out.classProbs[j] - out.classProbs[155 + j]) < 1e-5);
    }
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("WorldClassifier: a blank image has low prompt fidelity over the DreamBench prompts", async () => {
  using c = await WorldClassifier.load();
  for (const value of [-1, 0, 1]) {
    const blank = { data: new Float32Array(64 * 64 * 3).fill(value), width: 64, height: 64 };
    const scores = dreambenchPrompts("sks", "dog").map((p) =>
      promptFidelity([blank], {
        classifier: c,
        target: { context: p.context, property: p.property },
      }).estimate
    );
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    assert.ok(mean <= 0.1, `blank ${value}: mean prompt fidelity ${mean}`);
  }
});

Deno.test("WorldClassifier reads the built-in subjects' contexts", async () => {
  using c = await WorldClassifier.load();
  let ok = 0, n = 0;
  for (const s of builtInSubjects()) {
    const { images } = await loadSubjectFolder(s.dir, { size: 64 });
    const info = JSON.parse(await Deno.readTextFile(`${s.dir}/subject.json`));
    const out = c.classify(images);
    out.context.forEach((x, i) => {
      ok += x === info.images[i].context ? 1 : 0;
      n++;
    });
  }
  assert.ok(ok / n >= 0.8, `context accuracy on the built-in subjects: ${ok}/${n}`);
});

Deno.test("WorldClassifier validates its inputs", async () => {
  using c = await WorldClassifier.load();
  assert.throws(
    () => c.classify([{ data: new Float32Array(3), width: 2, height: 2 }]),
    /images\[0\]/,
  );
  assert.throws(() => c.classify([], { batchSize: 0 }), /'batchSize'/);
  await assert.rejects(
    () => WorldClassifier.load("/nonexistent/x.safetensors"),
    /No such file|NotFound|not found/i,
  );
});
