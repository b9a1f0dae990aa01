import assert from "assert";
import { initBackend } from "./deps.ts";
import { createPreset } from "../diffusion/mod.ts";
import { classImageCacheKey, classImages, hashBaseModel } from "./class_images.ts";

await initBackend({ quiet: true });

Deno.test("classImageCacheKey: changes with each component, stable otherwise", async () => {
  const base = {
    modelHash: "abc",
    prompt: "a dog",
    sampler: { kind: "ancestral" as const, steps: 25, guidance: 3 },
    seed: 0,
    batchSize: 16,
  };
  const k = await classImageCacheKey(base);
  assert.equal(await classImageCacheKey({ ...base, sampler: { ...base.sampler } }), k);
  const variants = [
    { ...base, modelHash: "abd" },
    { ...base, prompt: "a cat" },
    { ...base, sampler: { ...base.sampler, kind: "ddim" as const } },
    { ...base, sampler: { ...base.sampler, steps: 24 } },
    { ...base, sampler: { ...base.sampler, guidance: 2 } },
    { ...base, seed: 1 },
    { ...base, batchSize: 8 },
  ];
  const keys = await Promise.all(variants.map(classImageCacheKey));
  assert.equal(new Set([k, ...keys]).size, variants.length + 1);
});

Deno.test("hashBaseModel: same weights same hash, other weights another", async () => {
  using a = await createPreset("tiny", { seed: 0 });
  using b = await createPreset("tiny", { seed: 0 });
  using c = await createPreset("tiny", { seed: 1 });
  assert.equal(await hashBaseModel(a), await hashBaseModel(b));
  assert.notEqual(await hashBaseModel(a), await hashBaseModel(c));
});

Deno.test("classImages: cached images are reused (no regeneration); a larger count adds only missing batches", async () => {
  using cascade = await createPreset("tiny", { seed: 0 });
  const cacheDir = await Deno.makeTempDir();
  try {
    const opts = { prompt: "a dog", steps: 2, batchSize: 2, cacheDir, log: () => {} };
    const first = await classImages(cascade, { ...opts, count: 3 });
    assert.equal(first.generated, 3);
    assert.equal(first.images.length, 3);
    const again = await classImages(cascade, { ...opts, count: 3 });
    assert.equal(again.generated, 0);
    assert.equal(again.key, first.key);
    assert.deepEqual(again.images[2].data, first.images[2].data);
    const more = await classImages(cascade, { ...opts, count: 6 });
    assert.equal(more.generated, 2); // batch 0 and 1 cached, batch 2 new
    assert.deepEqual(more.images[0].data, first.images[0].data);
    const other = await classImages(cascade, { ...opts, count: 1, seed: 5 });
    assert.notEqual(other.key, first.key);
    assert.equal(other.generated, 1);
    await assert.rejects(() => classImages(cascade, { ...opts, count: -1 }), /'count'/);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});
