/**
 * eval/ throughput: images/s of the world classifier, the subject embedder and the
 * foreground-colour measure (64 and 128 px inputs), and the seconds of a whole
 * `evaluateSubject` on the built-in dog with its own images as "generations" (the metrics and
 * bootstrap without a model). `deno task bench eval`.
 *
 * @module
 */
import { initBackend } from "../backend/mod.ts";
import { builtInSubjects, loadSubjectFolder, type RgbImage } from "../data/mod.ts";
import {
  evaluateSubject,
  ForegroundColorEmbedder,
  SubjectEmbedder,
  WorldClassifier,
} from "../eval/mod.ts";

await initBackend({});
const dog = builtInSubjects()[0];
using classifier = await WorldClassifier.load();
using embedder = await SubjectEmbedder.load();
const pixel = new ForegroundColorEmbedder();

function rate(name: string, f: (ims: RgbImage[]) => unknown, ims: RgbImage[]): void {
  f(ims.slice(0, 4)); // warm-up
  const t0 = performance.now();
  f(ims);
  const s = (performance.now() - t0) / 1000;
  console.log(`${name.padEnd(40)} ${(ims.length / s).toFixed(0).padStart(6)} images/s`);
}

for (const size of [64, 128]) {
  const real = (await loadSubjectFolder(dog.dir, { size })).images;
  const ims = Array.from({ length: 128 }, (_, i) => real[i % real.length]);
  rate(`classify, ${size} px`, (x) => classifier.classify(x), ims);
  rate(`embed, ${size} px`, (x) => embedder.embed(x), ims);
  rate(`foreground colours, ${size} px`, (x) => pixel.embed(x), ims);
}

const real = (await loadSubjectFolder(dog.dir, { size: 128 })).images;
const t0 = performance.now();
await evaluateSubject({ name: "dog", classNoun: "dog", images: real }, {
  generate: (_p, seeds) => Promise.resolve(seeds.map((_, i) => real[i % real.length])),
  classifier,
  embedder,
  pixelEmbedder: pixel,
});
console.log(
  `evaluateSubject, 24 prompts × 4 + 8 PRES images (no generation): ${
    ((performance.now() - t0) / 1000).toFixed(1)
  } s`,
);
