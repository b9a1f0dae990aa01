/**
 * EmojiScenes throughput: scenes/s at 32, 128 and 512 px (streamed, captions included), first pass
 * (cold emoji raster cache) and second pass (warm), plus a baseline that composites each object
 * with a sharp pipeline (rotate + resize the SVG, composite, raw output) instead of data/'s typed
 * array compositor. `deno task bench data`.
 *
 * @module
 */
import sharp from "sharp";
import { createEmojiScenes, loadEmojiCatalog } from "../data/mod.ts";
import { Buffer } from "node:buffer";

const world = await createEmojiScenes();
console.log(
  `${world.classes.length} classes, ${world.drawings.length} drawings, ${world.contexts.length} contexts`,
);

async function rate(size: number, count: number, seed: number): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  for await (const _ of world.scenes({ seed, count, size })) n++;
  return n / ((performance.now() - t0) / 1000);
}

for (const [size, count] of [[32, 400], [128, 200], [512, 30]] as const) {
  const cold = await rate(size, count, 1);
  const warm = await rate(size, count, 1);
  console.log(
    `${String(size).padStart(4)} px: ${cold.toFixed(0).padStart(5)} scenes/s first pass, ${
      warm.toFixed(0).padStart(5)
    } scenes/s with warm raster cache (${count} scenes)`,
  );
}

// Baseline: the object composited by sharp per scene.
const catalog = await loadEmojiCatalog();
for (const size of [32, 128]) {
  const count = 100;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const spec = world.sample(i);
    const bg = await world.render({ ...spec, layout: { ...spec.layout, scale: 0.01 } }, { size });
    const px = new Uint8Array(bg.data.length);
    for (let k = 0; k < px.length; k++) px[k] = (bg.data[k] + 1) * 127.5;
    const d = catalog.byId.get(spec.drawingId)!;
    const obj = Math.round(size * spec.layout.scale);
    const svg = d.svg.replace("<svg ", `<svg width="${obj}" height="${obj}" `);
    const sprite = await sharp(Buffer.from(svg)).rotate(spec.layout.angle, {
      background: { r: 0, g: 0, b: 0, alpha: 0 },
    }).png().toBuffer();
    await sharp(px, { raw: { width: size, height: size, channels: 3 } })
      .composite([{ input: sprite, gravity: "south" }]).raw().toBuffer();
  }
  const r = count / ((performance.now() - t0) / 1000);
  console.log(
    `${String(size).padStart(4)} px: ${
      r.toFixed(0).padStart(5)
    } scenes/s with a sharp composite per scene (baseline)`,
  );
}
