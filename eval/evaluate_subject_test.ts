import assert from "assert";
import { builtInSubjects, initBackend, loadSubjectFolder } from "./deps.ts";
import { evaluateSubject } from "./evaluate_subject.ts";
import { WorldClassifier } from "./world_classifier.ts";
import { SubjectEmbedder } from "./subject_embedder.ts";
import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
import { dreambenchPrompts } from "./dreambench_prompts.ts";

await initBackend({ quiet: true });

Deno.test("evaluateSubject: the subject's own images score high, blank images low", async () => {
  const dog = builtInSubjects()[0];
  const cat = builtInSubjects().find((s) => s.name === "cat")!;
  const real = (await loadSubjectFolder(dog.dir, { size: 64 })).images;
  const catImages = (await loadSubjectFolder(cat.dir, { size: 64 })).images;
  using classifier = await WorldClassifier.load();
  using embedder = await SubjectEmbedder.load();
  const prompts = dreambenchPrompts("sks", "dog").slice(0, 3);
  const common = {
    classifier,
    embedder,
    pixelEmbedder: new ForegroundColorEmbedder(),
    samplesPerPrompt: 3,
    presSamples: 3,
    prompts,
    resamples: 200,
  };
  const progress: number[] = [];
  const same = await evaluateSubject({ name: "dog", classNoun: "dog", images: real }, {
    ...common,
    generate: (_p, seeds) => Promise.resolve(seeds.map((_, i) => real[i % real.length])),
    onProgress: (done) => progress.push(done),
  });
  assert.deepEqual(progress, [1, 2, 3, 4]);
  const blank = { data: new Float32Array(64 * 64 * 3), width: 64, height: 64 };
  const blanks = await evaluateSubject({ name: "dog", classNoun: "dog", images: real }, {
    ...common,
    generate: (_p, seeds) => Promise.resolve(seeds.map(() => blank)),
  });
  const cats = await evaluateSubject({ name: "dog", classNoun: "dog", images: real }, {
    ...common,
    generate: (_p, seeds) => Promise.resolve(seeds.map((_, i) => catImages[i])),
  });
  assert.ok(same.summary.subjectFidelity.estimate > cats.summary.subjectFidelity.estimate);
  assert.ok(same.summary.pres.estimate > cats.summary.pres.estimate);
  assert.ok(blanks.summary.promptFidelity.estimate <= 0.34);
  assert.equal(blanks.summary.diversity!.estimate, 0);
  assert.ok(same.summary.diversity!.estimate > 0);
  assert.equal(same.prompts.length, 3);
  assert.equal(same.prompts[0].images.length, 3);
  // Deterministic for a seed.
  const again = await evaluateSubject({ name: "dog", classNoun: "dog", images: real }, {
    ...common,
    generate: (_p, seeds) => Promise.resolve(seeds.map((_, i) => real[i % real.length])),
  });
  assert.deepEqual(again.summary, same.summary);
});

Deno.test("evaluateSubject validates its inputs", async () => {
  const im = { data: new Float32Array(12), width: 2, height: 2 };
  const embedder = new ForegroundColorEmbedder();
  // deno-lint-ignore no-explicit-any
  const classifier = {} as any;
  await assert.rejects(
    () =>
      evaluateSubject({ name: "x", classNoun: "dog", images: [] }, {
        generate: () => Promise.resolve([]),
        classifier,
        embedder,
      }),
    /has no images/,
  );
  await assert.rejects(
    () =>
      evaluateSubject({ name: "x", classNoun: "dog", images: [im] }, {
        generate: () => Promise.resolve([]),
        classifier,
        embedder,
      }),
    /returned 0 images for 4 seeds/,
  );
});
