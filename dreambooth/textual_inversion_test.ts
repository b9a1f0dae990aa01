import assert from "assert";
import { initBackend } from "./deps.ts";
import { createPreset } from "../diffusion/mod.ts";
import { createTextualInversionJob } from "./textual_inversion.ts";
import { Rng } from "./deps.ts";

await initBackend({ quiet: true });

Deno.test("textual inversion: only the identifier's embedding rows change; the UNet and the rest stay bit for bit", async () => {
  using cascade = await createPreset("tiny", { seed: 0 });
  const rng = new Rng(2);
  const im = { data: rng.normals(32 * 32 * 3, 0.5), width: 32, height: 32 };
  // A fresh preset zero-initialises its output projections (text has no effect yet): give every
  // UNet weight a small random value so that the identifier's rows get a gradient.
  const random = await cascade.stages[0].unet.exportWeights();
  for (const t of random.values()) t.data = rng.normals(t.data.length, 0.05);
  cascade.stages[0].unet.loadWeights(random);
  const before = await cascade.textEncoder.exportWeights();
  const unetBefore = await cascade.stages[0].unet.exportWeights();
  const id = 12; // "sks" in the tiny vocabulary
  {
    using job = createTextualInversionJob(cascade, {
      identifierIds: [id],
      prompt: "a sks dog",
      instanceImages: [im],
      batchSize: 2,
      learningRate: 1e-2,
    });
    for (let i = 0; i < 3; i++) assert.ok(Number.isFinite((await job.trainStep()).loss));
  }
  const after = await cascade.textEncoder.exportWeights();
  for (const [name, t] of before) {
    const a = after.get(name)!.data as Float32Array, b = t.data as Float32Array;
    if (name !== "shared.weight") {
      assert.deepEqual(a, b, name);
      continue;
    }
    const d = t.shape[1];
    for (let row = 0; row < t.shape[0]; row++) {
      const same = a.subarray(row * d, (row + 1) * d).every((v, k) => v === b[row * d + k]);
      assert.equal(same, row !== id, `row ${row}`);
    }
  }
  for (const [name, t] of await cascade.stages[0].unet.exportWeights()) {
    assert.deepEqual(t.data, unetBefore.get(name)!.data, name);
  }
});
