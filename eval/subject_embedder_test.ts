import assert from "assert";
import { builtInSubjects, initBackend, loadSubjectFolder, type RgbImage, tf } from "./deps.ts";
import { SubjectEmbedder } from "./subject_embedder.ts";
import { subjectFidelity } from "./subject_fidelity.ts";

await initBackend({ quiet: true });

const subjects: { name: string; images: RgbImage[] }[] = [];
for (const s of builtInSubjects()) {
  subjects.push({ name: s.name, images: (await loadSubjectFolder(s.dir, { size: 64 })).images });
}

Deno.test("SubjectEmbedder: unit-norm embeddings, deterministic, no leaks", async () => {
  const before = tf.memory().numTensors;
  {
    using e = await SubjectEmbedder.load();
    assert.equal(e.dim, 128);
    const a = e.embed(subjects[0].images, { batchSize: 2 });
    assert.deepEqual(a, e.embed(subjects[0].images, { batchSize: 2 }));
    const b = e.embed(subjects[0].images);
    assert.ok(a.every((x, i) => Math.abs(x - b[i]) < 1e-4), "batch size changes only rounding");
    for (let i = 0; i < subjects[0].images.length; i++) {
      let s = 0;
      for (let k = 0; k < 128; k++) s += a[i * 128 + k] ** 2;
      assert.ok(Math.abs(s - 1) < 1e-4);
    }
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("SubjectEmbedder: real subject images vs themselves score near the top; shuffled identities low", async () => {
  using embedder = await SubjectEmbedder.load();
  for (const s of subjects) {
    const self = subjectFidelity(s.images, s.images, { embedder }).estimate;
    const others = subjects.filter((o) => o !== s).map((o) =>
      subjectFidelity(o.images, s.images, { embedder }).estimate
    );
    assert.ok(self > 0.5, `${s.name}: self ${self}`);
    assert.ok(others.every((x) => x < self), `${s.name}: self ${self}, others ${others}`);
  }
  // Shuffled identities: each generated image is another subject's.
  const shuffled = subjects.map((_s, i) => subjects[(i + 1) % subjects.length].images[0]);
  for (const [i, s] of subjects.entries()) {
    const self = subjectFidelity([s.images[0]], s.images, { embedder }).estimate;
    const wrong = subjectFidelity([shuffled[i]], s.images, { embedder }).estimate;
    assert.ok(wrong < self, `${s.name}: shuffled ${wrong} vs self ${self}`);
  }
});
