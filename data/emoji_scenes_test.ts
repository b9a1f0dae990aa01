import assert from "assert";
import { createEmojiScenes, DEFAULT_OBJECT_SCALE, sceneSeedOf } from "./emoji_scenes.ts";
import { HELD_OUT_DRAWINGS } from "./held_out.ts";
import { SCENE_CONTEXTS } from "./scene_contexts.ts";
import { SCENE_PROPERTIES } from "./scene_properties.ts";
import { loadEmojiCatalog } from "./emoji_catalog.ts";
import { EMOJI_SETS } from "./emoji_sets.ts";

const DREAMBENCH_CLASSES = [
  "dog",
  "cat",
  "backpack",
  "teapot",
  "vase",
  "clock",
  "candle",
  "sneaker",
  "boot",
  "glasses",
  "teddy bear",
  "bowl",
  "can",
];

Deno.test("the world covers ≥100 classes (with the DreamBench ones), ≥12 contexts, several sets per class", async () => {
  const world = await createEmojiScenes();
  assert.ok(world.classes.length >= 100, `${world.classes.length} classes`);
  assert.ok(world.contexts.length >= 12, `${world.contexts.length} contexts`);
  for (const c of DREAMBENCH_CLASSES) assert.ok(world.classes.includes(c), `missing class ${c}`);
  const catalog = await loadEmojiCatalog();
  for (const noun of catalog.classes) {
    const sets = new Set(catalog.byClass.get(noun)!.map((d) => d.set));
    assert.ok(sets.size >= 3, `class ${noun} has drawings from ${sets.size} sets`);
  }
  const used = new Set(catalog.drawings.map((d) => d.set));
  assert.deepEqual([...used].sort(), EMOJI_SETS.map((s) => s.prefix).sort());
});

Deno.test("same seed gives the same bytes; different seeds differ; sizes share one scene", async () => {
  const world = await createEmojiScenes();
  const take = async (seed: number) => {
    const out = [];
    for await (const s of world.scenes({ seed, count: 3, sizes: [32, 64] })) out.push(s);
    return out;
  };
  const a = await take(7), b = await take(7), c = await take(8);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(a[i].images[0].data, b[i].images[0].data);
    assert.deepEqual(a[i].images[1].data, b[i].images[1].data);
    assert.equal(a[i].caption, b[i].caption);
    assert.equal(a[i].seed, sceneSeedOf(7, i));
    assert.equal(a[i].images[0].width, 32);
    assert.equal(a[i].images[1].width, 64);
  }
  assert.notDeepEqual(a[0].image.data, c[0].image.data);
  // A fresh world (fresh raster cache) renders the same bytes, and resuming a stream works.
  const again = await createEmojiScenes();
  const spec = again.sample(a[2].seed);
  assert.deepEqual((await again.render(spec, { size: 32 })).data, a[2].images[0].data);
  for await (const s of again.scenes({ seed: 7, start: 2, count: 1, size: 32 })) {
    assert.deepEqual(s.image.data, a[2].image.data);
  }
  // The 64 px image downscaled is close to the 32 px one: the same picture at two resolutions.
  const big = a[0].images[1].data, small = a[0].images[0].data;
  let err = 0;
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      for (let ch = 0; ch < 3; ch++) {
        let m = 0;
        for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
          m += big[((2 * y + dy) * 64 + 2 * x + dx) * 3 + ch] / 4;
        }
        err += Math.abs(m - small[(y * 32 + x) * 3 + ch]);
      }
    }
  }
  assert.ok(err / (32 * 32 * 3) < 0.12, `mean difference ${err / (32 * 32 * 3)}`);
});

Deno.test("held-out drawings are never sampled by the pretraining world", async () => {
  const world = await createEmojiScenes();
  const heldOut = new Set(Object.values(HELD_OUT_DRAWINGS).map((h) => h.drawingId));
  assert.ok(Object.keys(HELD_OUT_DRAWINGS).length >= 4);
  for (const d of world.drawings) assert.ok(!heldOut.has(d.id), `${d.id} is held out`);
  const catalog = await loadEmojiCatalog();
  for (const id of heldOut) assert.ok(catalog.byId.has(id), `held-out drawing ${id} exists`);
  const seen = new Set<string>();
  for (let i = 0; i < 20000; i++) {
    const spec = world.sample(sceneSeedOf(0, i));
    assert.ok(!heldOut.has(spec.drawingId), `scene ${i} uses held-out ${spec.drawingId}`);
    seen.add(spec.drawingId);
  }
  // The classes of the held-out drawings still have other drawings in the world.
  for (const { classNoun } of Object.values(HELD_OUT_DRAWINGS)) {
    assert.ok(world.classes.includes(classNoun));
  }
  assert.ok(
    seen.size > world.drawings.length * 0.9,
    `${seen.size} of ${world.drawings.length} drawings seen`,
  );
  const withHeldOut = await createEmojiScenes({ includeHeldOut: true });
  assert.ok(withHeldOut.drawings.some((d) => heldOut.has(d.id)));
});

Deno.test("captions follow the DreamBench grammar and match the scene", async () => {
  const world = await createEmojiScenes();
  const phrases = new Map(SCENE_CONTEXTS.map((c) => [c.name, c.phrase]));
  const props = SCENE_PROPERTIES.map((p) => p.name);
  let bare = 0, withProp = 0;
  for (let i = 0; i < 2000; i++) {
    const s = world.sample(sceneSeedOf(3, i));
    const phrase = phrases.get(s.context)!;
    const head = `${s.property === null ? "" : s.property + " "}${s.classNoun}`;
    const article = /^[aeiou]/.test(head) ? "an" : "a";
    const full = `${article} ${head} ${phrase}`, short = `${article} ${head}`;
    assert.ok(s.caption === full || s.caption === short, s.caption);
    if (s.caption === short) bare++;
    if (s.property !== null) withProp++, assert.ok(props.includes(s.property));
  }
  assert.ok(bare > 100 && bare < 400, `${bare} bare captions`);
  assert.ok(withProp > 450 && withProp < 750, `${withProp} with a property`);
});

Deno.test("the world can be restricted to some sets (e.g. without the ShareAlike one)", async () => {
  const world = await createEmojiScenes({ sets: ["noto", "twemoji", "fluent-emoji-flat"] });
  assert.ok(world.drawings.every((d) => ["noto", "twemoji", "fluent-emoji-flat"].includes(d.set)));
  assert.ok(world.classes.length >= 100, `${world.classes.length} classes`);
  await assert.rejects(createEmojiScenes({ sets: ["wingdings"] }), /'wingdings' is not one/);
});

Deno.test("objectScale sets the object's size range; the default is DEFAULT_OBJECT_SCALE; bad ranges are refused", async () => {
  const plain = await createEmojiScenes();
  assert.deepEqual(plain.objectScale, DEFAULT_OBJECT_SCALE);
  const big = await createEmojiScenes({ objectScale: [0.55, 0.75] });
  for (let i = 0; i < 200; i++) {
    const a = plain.sample(sceneSeedOf(5, i)), b = big.sample(sceneSeedOf(5, i));
    assert.ok(a.layout.scale >= 0.4 && a.layout.scale < 0.62, `${a.layout.scale}`);
    assert.ok(b.layout.scale >= 0.55 && b.layout.scale < 0.75, `${b.layout.scale}`);
    // Only the size changes: the same class, drawing, context and caption.
    assert.equal(b.drawingId, a.drawingId);
    assert.equal(b.caption, a.caption);
  }
  // A fixed size is allowed; the rendered object really is larger.
  const fixed = await createEmojiScenes({ objectScale: [0.7, 0.7] });
  assert.equal(fixed.sample(1).layout.scale, 0.7);
  for (const bad of [[0, 0.5], [0.6, 0.5], [0.5, 1.2], [0.5], [NaN, 0.5]]) {
    await assert.rejects(
      createEmojiScenes({ objectScale: bad as unknown as [number, number] }),
      /'objectScale' must be \[min, max\] with 0 < min ≤ max ≤ 1/,
    );
  }
});

Deno.test("renderWithMask: the same image as render, and the object's coverage (none on the background)", async () => {
  const world = await createEmojiScenes();
  for (let i = 0; i < 12; i++) {
    // Every placement kind: ground, surface, floating (the liquid covers part of the object).
    const ctx = SCENE_CONTEXTS[i % SCENE_CONTEXTS.length].name;
    const spec = world.sample(sceneSeedOf(5, i), { context: ctx, property: i % 3 ? null : "red" });
    const { image, mask } = await world.renderWithMask(spec, { size: 32 });
    assert.deepEqual(image.data, (await world.render(spec, { size: 32 })).data);
    assert.equal(mask.length, 32 * 32);
    assert.ok(mask.every((v) => v >= 0 && v <= 1));
    // The object covers a share of its box, scale² (a thin trumpet 0.23 of it, a lion 0.84).
    const area = mask.reduce((a, b) => a + b, 0) / mask.length;
    const s = spec.layout.scale;
    assert.ok(area > 0.15 * s * s && area < s * s, `${ctx}: area ${area}, scale ${s}`);
    // Outside the object's box nothing is covered: the corners are background.
    for (const p of [0, 31, 32 * 31, 32 * 32 - 1]) assert.equal(mask[p], 0);
  }
  // Streams yield the same masks, at every size.
  const streamed = [];
  for await (const s of world.scenes({ seed: 9, count: 2, sizes: [16, 32], masks: true })) {
    streamed.push(s);
  }
  const again = await world.renderWithMask(world.sample(sceneSeedOf(9, 1)), { size: 32 });
  assert.deepEqual(streamed[1].masks![1], again.mask);
  assert.equal(streamed[1].masks![0].length, 16 * 16);
  for await (const s of world.scenes({ seed: 9, count: 1 })) assert.equal(s.masks, undefined);
});
