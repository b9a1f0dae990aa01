/**
 * `--concepts FILE` (issue 32, Deliver 2): several subjects in one run on the tiny preset. Batches
 * hold every concept's instance and class rows, the step loss is Eq. 2 summed over the concepts
 * (each its own prior term, λ applied), the model carries every concept, and bad files are
 * refused before any work, naming the file, the entry and the field.
 */
import assert from "assert";
import { join } from "node:path";
import { initBackend, readRunCheckpoint, tf } from "./deps.ts";
import { readModelSubject } from "../diffusion/mod.ts";
import { builtInSubjects } from "../data/mod.ts";
import { dreamboothConceptLosses, dreamboothLoss } from "./dreambooth_loss.ts";
import { createDreamBoothConfig, createDreamBoothJob } from "./dreambooth_job.ts";
import { trainDreamBooth } from "./dreambooth_train.ts";
import { main } from "./train_cli.ts";

await initBackend({ quiet: true });

function solid(v: number, size = 32) {
  return { data: new Float32Array(size * size * 3).fill(v), width: size, height: size };
}

Deno.test("concepts job: each batch holds both concepts' instance and class rows, with their prompts", async () => {
  const { createPreset } = await import("../diffusion/mod.ts");
  using cascade = await createPreset("tiny", { seed: 0 });
  const concepts = [
    {
      name: "a",
      identifier: "sks",
      classNoun: "dog",
      instancePrompt: "a sks dog",
      classPrompt: "a dog",
    },
    {
      name: "b",
      identifier: "tree",
      classNoun: "cat",
      instancePrompt: "a tree cat",
      classPrompt: "a cat",
    },
  ];
  const config = createDreamBoothConfig({
    identifier: "sks",
    classNoun: "dog",
    instanceBatch: 2,
    concepts,
  });
  const [dogI, dogC, catI, catC] = [solid(0.1), solid(0.2), solid(0.3), solid(0.4)];
  using job = createDreamBoothJob(cascade, {
    config,
    instanceImages: [],
    concepts: [
      { instanceImages: [dogI], classImages: [dogC] },
      { instanceImages: [catI], classImages: [catC] },
    ],
  });
  const b = job.batchAt(1);
  // [dog instance ×2, dog class ×2, cat instance ×2, cat class ×2]
  assert.deepEqual(b.images, [dogI, dogI, dogC, dogC, catI, catI, catC, catC]);
  assert.deepEqual(b.prompts, [
    "a sks dog",
    "a sks dog",
    "a dog",
    "a dog",
    "a tree cat",
    "a tree cat",
    "a cat",
    "a cat",
  ]);
  assert.equal(b.numInstance, 2);
  const r = await job.trainStep();
  assert.ok(Number.isFinite(r.loss));
  // The job's checkpoint records every concept.
  const ck = await job.checkpoint();
  assert.deepEqual(JSON.parse(ck.metadata!.concepts!).map((c: { name: string }) => c.name), [
    "a",
    "b",
  ]);
  // A concepts count that does not match the config is refused.
  assert.throws(
    () => createDreamBoothJob(cascade, { config, instanceImages: [dogI], classImages: [dogC] }),
    /'concepts' has 1 entries for the config's 2 concepts/,
  );
});

Deno.test("concepts loss: Σ over concepts of Eq. 2, each with its own prior term times λ", () => {
  const shape: [number, number, number, number] = [8, 2, 2, 3];
  const pred = tf.randomNormal(shape, 0, 1, "float32", 1) as tf.Tensor4D;
  const x = tf.randomNormal(shape, 0, 1, "float32", 2) as tf.Tensor4D;
  const eps = tf.randomNormal(shape, 0, 1, "float32", 3) as tf.Tensor4D;
  const logSnr = [-2, -1, 0, 1, 2, 3, -3, 0.5];
  const before = tf.memory().numTensors;
  const lambda = 0.7;
  const terms = dreamboothConceptLosses(pred, {
    prediction: "x",
    xStart: x,
    noise: eps,
    logSnr,
    numInstance: 2,
    priorLossWeight: lambda,
    numConcepts: 2,
  });
  assert.equal(terms.length, 2);
  for (const [k, t] of terms.entries()) {
    // Concept k's chunk alone through dreamboothLoss: the same terms.
    const cut = (a: tf.Tensor4D) => tf.slice(a, [4 * k, 0, 0, 0], [4, -1, -1, -1]) as tf.Tensor4D;
    const [p, xs, e] = [cut(pred), cut(x), cut(eps)];
    const own = dreamboothLoss(p, {
      prediction: "x",
      xStart: xs,
      noise: e,
      logSnr: logSnr.slice(4 * k, 4 * k + 4),
      numInstance: 2,
      priorLossWeight: lambda,
    });
    const [a, i, pr] = [t.loss, t.instance, t.prior].map((s) => s.dataSync()[0]);
    assert.ok(Math.abs(a - own.loss.dataSync()[0]) < 1e-6);
    assert.ok(Math.abs(a - (i + lambda * pr)) < 1e-5, "loss = instance + λ·prior");
    assert.ok(pr > 0, "each concept has its own non-zero prior term");
    tf.dispose([p, xs, e, own.loss, own.instance, own.prior]);
  }
  // The two prior terms differ (they are computed on different rows).
  assert.notEqual(terms[0].prior.dataSync()[0], terms[1].prior.dataSync()[0]);
  tf.dispose(terms.flatMap((t) => [t.loss, t.instance, t.prior]));
  assert.equal(tf.memory().numTensors, before, "no leak");
  assert.throws(
    () =>
      dreamboothConceptLosses(pred, {
        prediction: "x",
        xStart: x,
        noise: eps,
        logSnr,
        numInstance: 1,
        numConcepts: 3,
      }),
    /'numConcepts' must be an integer ≥ 1 dividing the batch of 8 rows: current value is 3/,
  );
  tf.dispose([pred, x, eps]);
});

Deno.test("trainDreamBooth --concepts: two built-in subjects in one run; the model carries both concepts", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const file = join(tmp, "concepts.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify([
        { subject: "dog", identifier: "sks" },
        { subject: "cat", identifier: "tree", classPrompt: "a photo of a {class}" },
      ]),
    );
    const out = join(tmp, "out");
    const lines: string[] = [];
    const r = await trainDreamBooth({
      model: "preset:tiny",
      concepts: file,
      out,
      cacheDir: join(tmp, "cache"),
      steps: 2,
      numClassImages: 2,
      classSteps: 1,
      instanceBatch: 1,
      sampleEverySteps: 0,
      finalSamples: false,
      superRes: false,
      log: (l) => lines.push(l),
      warn: () => {},
    });
    assert.equal(r.summary.step, 2);
    const text = lines.join("\n");
    // One class-image set per concept, each from its own class prompt.
    assert.match(text, /class images: 2 of "a dog"/);
    assert.match(text, /class images: 2 of "a photo of a cat"/);
    const info = JSON.parse(await Deno.readTextFile(join(out, "dreambooth.json")));
    assert.deepEqual(
      info.concepts.map((c: { identifier: string; classNoun: string }) =>
        `${c.identifier}/${c.classNoun}`
      ),
      ["sks/dog", "tree/cat"],
    );
    assert.equal(info.concepts[1].instancePrompt, "a tree cat");
    // Model metadata: both concepts (sample/eval read them).
    const subject = await readModelSubject(out);
    assert.equal(subject?.identifier, "sks");
    assert.deepEqual(subject?.concepts?.map((c) => [c.name, c.identifier, c.classNoun]), [
      ["dog", "sks", "dog"],
      ["cat", "tree", "cat"],
    ]);
    const ck = await readRunCheckpoint(join(out, "checkpoint.safetensors"));
    assert.ok(ck.metadata.concepts?.includes('"tree"'));
    // The loss log: one finite loss per step.
    const losses = (await Deno.readTextFile(join(out, "loss.jsonl"))).trim().split("\n");
    assert.equal(losses.length, 2);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("--concepts: bad files are refused before any work, naming the file, the entry and the field", async () => {
  const tmp = await Deno.makeTempDir();
  const dog = builtInSubjects().find((s) => s.name === "dog")!;
  const cases: [unknown | string, RegExp][] = [
    ["{not json", /concepts\.json' is not valid JSON/],
    [{ subject: "dog" }, /must hold a JSON array/],
    [[], /must list 1 to 16 concepts/],
    [[{ subject: "dog", identfier: "sks" }], /entry 0 has an unknown field 'identfier'/],
    [[{ identifier: "sks" }], /entry 0 must have exactly one of 'subject'/],
    [[{ subject: "dog", instanceDir: dog.dir }], /entry 0 must have exactly one of 'subject'/],
    [[{ subject: "unicorn" }], /entry 0, field 'subject' names no built-in subject/],
    [[{ subject: "dog" }, { instanceDir: dog.dir }], /entry 1 is missing the field 'classNoun'/],
    [
      [{ subject: "dog" }, { instanceDir: "nowhere", classNoun: "dog" }],
      /entry 1, field 'instanceDir' is not a readable folder/,
    ],
    [
      [{ subject: "dog", classDir: "nowhere" }],
      /entry 0, field 'classDir' is not a readable folder/,
    ],
    [
      [{ subject: "dog", identifier: "sks" }, { subject: "cat", identifier: "SKS" }],
      /entry 1, field 'identifier' repeats entry 0's identifier/,
    ],
    [[{ subject: "dog", classNoun: 3 }], /entry 0, field 'classNoun' must be a non-empty string/],
  ];
  const error = console.error, log = console.log, warn = console.warn;
  try {
    for (const [content, pattern] of cases) {
      const file = join(tmp, "concepts.json");
      await Deno.writeTextFile(
        file,
        typeof content === "string" ? content : JSON.stringify(content),
      );
      let text = "";
      console.error = console.log = console.warn = (...a: unknown[]) => text += a.join(" ") + "\n";
      let code: number;
      try {
        code = await main(["--model", "preset:tiny", "--out", join(tmp, "o"), "--concepts", file]);
      } finally {
        console.error = error;
        console.log = log;
        console.warn = warn;
      }
      assert.equal(code, 2, `${JSON.stringify(content)}: ${text}`);
      assert.match(text, pattern, text);
      assert.match(text, /concepts\.json/, "the message names the file");
      assert.doesNotMatch(text, /class images:|step \d+\//, "no compute before the error");
    }
    // A missing file, and the one-subject options beside --concepts.
    for (
      const [args, pattern] of [
        [
          ["--concepts", join(tmp, "none.json")],
          /none\.json' \('concepts', --concepts\) is unreadable/,
        ],
        [
          ["--concepts", join(tmp, "concepts.json"), "--class-noun", "dog"],
          /'concepts' \(--concepts\) and 'classNoun' \(--class-noun\) exclude each other/,
        ],
        [
          ["--concepts", join(tmp, "concepts.json"), "--identifier", "sks"],
          /'concepts' \(--concepts\) and 'identifier' \(--identifier\) exclude each other/,
        ],
      ] as [string[], RegExp][]
    ) {
      let text = "";
      console.error = console.log = console.warn = (...a: unknown[]) => text += a.join(" ") + "\n";
      let code: number;
      try {
        code = await main(["--model", "preset:tiny", "--out", join(tmp, "o"), ...args]);
      } finally {
        console.error = error;
        console.log = log;
        console.warn = warn;
      }
      assert.equal(code, 2, text);
      assert.match(text, pattern, text);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
