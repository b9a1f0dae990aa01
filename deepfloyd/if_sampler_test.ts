import assert from "assert";
import { initBackend, tf } from "./deps.ts";
import { TESTDATA } from "./_test_util.ts";
import { loadIFStage, readJsonFile } from "./diffusers_folder.ts";
import { DDPMScheduler } from "./ddpm_scheduler.ts";
import { encodeIFPrompts, sampleIF } from "./if_sampler.ts";

await initBackend({ quiet: true });

Deno.test("IF cascade on the tiny folders: stage I then stage II, seeded, no leaks", async () => {
  using s1 = await loadIFStage(`${TESTDATA}if_tiny_i`, { loadTextEncoder: true });
  using s2 = await loadIFStage(`${TESTDATA}if_tiny_ii`);
  const before = tf.memory().numTensors;
  const pos = encodeIFPrompts(s1.textEncoder!, s1.tokenizer!, ["A photo of sks dog ", "a teapot"]);
  const neg = encodeIFPrompts(s1.textEncoder!, s1.tokenizer!, ["", ""]);
  assert.deepEqual(pos.shape, [2, 77, 16]);
  // Prompts are lower-cased and stripped, as diffusers does without clean_caption.
  const same = encodeIFPrompts(s1.textEncoder!, s1.tokenizer!, ["a photo of sks dog"]);
  const first = tf.tidy(() => tf.slice(pos, [0, 0, 0], [1, -1, -1]).dataSync());
  assert.ok(same.dataSync().every((v, k) => Math.abs(v - first[k]) < 1e-5));
  same.dispose();
  const fixedSmall = new DDPMScheduler(
    await readJsonFile(`${TESTDATA}if_tiny_i/scheduler/scheduler_config.json`),
    { variance_type: "fixed_small" },
  );
  const run = (scheduler: DDPMScheduler) =>
    sampleIF(s1.unet, scheduler, { promptEmbeds: pos, negativeEmbeds: neg, steps: 3, seed: 4 });
  const a = await run(s1.scheduler);
  const b = await run(s1.scheduler);
  assert.deepEqual(a.timesteps, [666, 333, 0]);
  assert.deepEqual(a.images.shape, [2, 8, 8, 3]);
  assert.deepEqual(a.images.dataSync(), b.images.dataSync(), "same seed, same bits");
  const c = await run(fixedSmall);
  assert.ok(c.images.dataSync().some((v, i) => v !== a.images.dataSync()[i]));
  let steps = 0;
  const hi = await sampleIF(s2.unet, s2.scheduler, {
    promptEmbeds: pos,
    negativeEmbeds: neg,
    guidanceScale: 4,
    steps: 2,
    lowRes: a.images,
    imageNoisingScheduler: s2.imageNoisingScheduler!,
    noiseLevel: 250,
    seed: 5,
    onStep: () => steps++,
  });
  assert.deepEqual(hi.images.shape, [2, 16, 16, 3]);
  assert.equal(steps, 2);
  assert.ok(hi.images.dataSync().every(Number.isFinite));
  tf.dispose([a.images, b.images, c.images, hi.images, pos, neg]);
  assert.equal(tf.memory().numTensors, before, "sampling leaked tensors");
  await assert.rejects(
    () => sampleIF(s1.unet, s1.scheduler, { promptEmbeds: pos, guidanceScale: 7 }),
    /'negativeEmbeds' is needed for guidanceScale 7 > 1/,
  );
});
