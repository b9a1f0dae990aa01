import assert from "assert";
import { builtInSubjects, initBackend, loadSubjectFolder, tf } from "./deps.ts";
import {
  DEFAULT_CLASSIFIER_VIEWS,
  SINGLE_CLASSIFIER_VIEW,
  WorldClassifier,
} from "./world_classifier.ts";
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
    // The default reading (both shipped nets, 8 views) as measured by measure-eval-nets on the
    // held-out scenes and on the second held-out stream: the eval issue's ≥ 90 % for each head.
    assert.equal(c.numNets, 2);
    for (const key of ["heldOutAccuracyViews", "confirmAccuracyViews"]) {
      const v = JSON.parse(c.metadata[key]);
      assert.equal(v.scenes, 4000);
      for (const k of ["classNoun", "context", "property"]) assert.ok(v[k] >= 0.9, `${key}.${k}`);
    }
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
  assert.throws(() => c.classify([], { views: [] }), /'views' must be a non-empty array/);
  assert.throws(
    () => c.classify([], { views: [{ flip: false, dx: 1.5, dy: 0 }] }),
    /'views\[0\]\.dx' must be an integer with \|dx\| < 16: current value is 1.5/,
  );
  assert.throws(
    () => c.classify([], { views: [{ flip: false, dx: 0, dy: -16 }] }),
    /'views\[0\]\.dy' must be an integer with \|dy\| < 16/,
  );
  await assert.rejects(
    () => WorldClassifier.load("/nonexistent/x.safetensors"),
    /No such file|NotFound|not found/i,
  );
});

Deno.test("WorldClassifier test-time views: each view is the mirrored / moved image, and their log-probabilities are averaged", async () => {
  const before = tf.memory().numTensors;
  {
    using c = await WorldClassifier.load();
    const S = 64;
    // A real scene-like image: a built-in subject's photo at the classifier's own size.
    const [im] = (await loadSubjectFolder(builtInSubjects()[0].dir, { size: S })).images;
    const px = (d: Float32Array, x: number, y: number) =>
      d.subarray((y * S + x) * 3, (y * S + x) * 3 + 3);
    const mirrored = new Float32Array(im.data.length), moved = new Float32Array(im.data.length);
    const clamp = (v: number) => Math.max(0, Math.min(S - 1, v));
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        px(mirrored, x, y).set(px(im.data, S - 1 - x, y));
        px(moved, x, y).set(px(im.data, clamp(x - 3), clamp(y + 2))); // right 3, up 2
      }
    }
    const one = (data: Float32Array, views = SINGLE_CLASSIFIER_VIEW) =>
      c.classify([{ data, width: S, height: S }], { views }).classProbs;
    const close = (a: Float32Array, b: Float32Array, what: string) => {
      for (let j = 0; j < a.length; j++) assert.ok(Math.abs(a[j] - b[j]) < 1e-5, `${what}[${j}]`);
    };
    const flipView = [{ flip: true, dx: 0, dy: 0 }], moveView = [{ flip: false, dx: 3, dy: -2 }];
    close(one(im.data, flipView), one(mirrored), "flip view vs the mirrored image");
    close(one(im.data, moveView), one(moved), "shift view vs the moved image");
    // Two views: the normalised geometric mean of their probabilities.
    const a = one(im.data), b = one(mirrored);
    const both = one(im.data, [SINGLE_CLASSIFIER_VIEW[0], flipView[0]]);
    let z = 0;
    const g = a.map((v, j) => Math.sqrt(v * b[j]));
    g.forEach((v) => z += v);
    close(both, g.map((v) => v / z), "two views");
    // A repeated view changes nothing; the default is the 8 documented views.
    close(one(im.data, [...SINGLE_CLASSIFIER_VIEW, ...SINGLE_CLASSIFIER_VIEW]), a, "repeated view");
    assert.equal(DEFAULT_CLASSIFIER_VIEWS.length, 8);
    close(c.classify([im]).classProbs, one(im.data, DEFAULT_CLASSIFIER_VIEWS), "default views");
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("WorldClassifier ensembles: nets' log-probabilities are averaged; an empty list is refused", async () => {
  const before = tf.memory().numTensors;
  {
    using one = await WorldClassifier.load("world_nets.safetensors");
    using two = await WorldClassifier.load(["world_nets.safetensors", "world_nets.safetensors"]);
    assert.equal(one.numNets, 1);
    assert.equal(two.numNets, 2);
    const [im] = (await loadSubjectFolder(builtInSubjects()[1].dir, { size: 64 })).images;
    const a = one.classify([im]), b = two.classify([im]);
    // The same net twice: the geometric mean of equal probabilities is that probability.
    for (let j = 0; j < a.classProbs.length; j++) {
      assert.ok(Math.abs(a.classProbs[j] - b.classProbs[j]) < 1e-5, `class ${j}`);
    }
    assert.deepEqual(b.context, a.context);
  }
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(() => WorldClassifier.load([]), /'path' is an empty array/);
});
