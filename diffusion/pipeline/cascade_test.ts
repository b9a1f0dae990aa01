import assert from "assert";
import { initBackend, tf } from "../deps.ts";
import { createPreset } from "./presets.ts";
import { Cascade } from "./cascade.ts";

await initBackend({ quiet: true });

/** Fresh UNets output zeros (zero-initialised output layers): give those layers weights. */
function perturb(cascade: Cascade): void {
  for (const s of cascade.stages) {
    for (const [name, v] of s.unet.params.vars) {
      if (/(out|conv2|out\.conv)\.weight$/.test(name)) {
        tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.05, "float32", 1)));
      }
    }
  }
}

Deno.test("Cascade: tiny preset samples through both stages, same seed → same bits, no leaks", async () => {
  using cascade = await createPreset("tiny", { seed: 1 });
  perturb(cascade);
  const before = tf.memory().numTensors;
  const progress: string[] = [];
  const a = await cascade.sample({
    prompt: ["a red dog", "a blue cat"],
    seed: 5,
    steps: [3, 2],
    guidance: [2, 1],
    onProgress: (p) => progress.push(`${p.stage}:${p.step}/${p.steps}`),
  });
  assert.deepEqual(progress, ["0:1/3", "0:2/3", "0:3/3", "1:1/2", "1:2/2"]);
  assert.equal(a.images.length, 2);
  assert.deepEqual([a.images[0].width, a.images[0].height, a.images[0].data.length], [
    128,
    128,
    128 * 128 * 3,
  ]);
  assert.deepEqual(a.timeGrids.map((g) => g.length), [4, 3]);
  const b = await cascade.sample({
    prompt: ["a red dog", "a blue cat"],
    seed: 5,
    steps: [3, 2],
    guidance: [2, 1],
  });
  assert.deepEqual(a.images[0].data, b.images[0].data);
  assert.deepEqual(a.images[1].data, b.images[1].data);
  const c = await cascade.sample({ prompt: "a red dog", seed: 6, steps: 2, stages: 1 });
  assert.equal(c.images[0].width, 32);
  const d = await cascade.sample({ prompt: "a red dog", seed: 7, steps: 2, stages: 1 });
  assert.notDeepEqual(c.images[0].data, d.images[0].data);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("Cascade: invalid options and stage lists fail naming the value", async () => {
  using cascade = await createPreset("tiny");
  await assert.rejects(
    () => cascade.sample({ prompt: "a dog", steps: 0 }),
    /'steps' must be a positive integer: current value is 0/,
  );
  await assert.rejects(
    () => cascade.sample({ prompt: "a dog", stages: 3 }),
    /'stages' must be an integer in \[1, 2\]: current value is 3/,
  );
  await assert.rejects(
    () => cascade.sample({ prompt: [] }),
    /'prompt' must be a string or a non-empty array/,
  );
  assert.throws(
    () =>
      new Cascade({
        textEncoder: cascade.textEncoder,
        tokenizer: cascade.tokenizer,
        stages: [cascade.stages[1]],
      }),
    /stage 0 must be a base UNet/,
  );
});

Deno.test("Cascade: augLevel override reaches the SR stage; startStage + lowRes runs only the SR stages", async () => {
  using cascade = await createPreset("tiny", { seed: 1 });
  perturb(cascade);
  const low = tf.randomUniform([1, 32, 32, 3], -1, 1, "float32", 3) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const progress: number[] = [];
  const opts = {
    prompt: "a dog",
    seed: 2,
    steps: 2,
    startStage: 1,
    lowRes: low,
    onProgress: (p: { stage: number }) => progress.push(p.stage),
  };
  const a = await cascade.sample({ ...opts, augLevel: 1e-5 });
  const b = await cascade.sample({ ...opts, augLevel: [0, 1e-5] });
  const c = await cascade.sample({ ...opts, augLevel: 0.5 });
  assert.deepEqual(new Set(progress), new Set([1]));
  assert.deepEqual(a.images[0].data, b.images[0].data);
  assert.notDeepEqual(a.images[0].data, c.images[0].data);
  assert.equal(a.images[0].width, 128);
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(() => cascade.sample({ ...opts, augLevel: 2 }), /augLevel \(stage 1\)/);
  await assert.rejects(
    () => cascade.sample({ prompt: "a dog", startStage: 1 }),
    /'lowRes' must be/,
  );
  await assert.rejects(() => cascade.sample({ prompt: "a dog", startStage: 2 }), /'startStage'/);
  low.dispose();
});

Deno.test("Cascade.setAugLevel sets an SR stage's sampling t_aug and validates", async () => {
  using cascade = await createPreset("tiny");
  cascade.setAugLevel(1, 1e-3);
  assert.equal(cascade.stages[1].augLevel, 1e-3);
  assert.throws(() => cascade.setAugLevel(0, 0.1), /'stage' must be an SR stage/);
  assert.throws(() => cascade.setAugLevel(1, 2), /augLevel/);
});
