/**
 * `deno run -A data/preview.ts [--seed 0] [--count 64] [--size 128] [--out runs/data/preview.png]
 * [--scale 1]`
 * writes a captioned grid of EmojiScenes to look at; `--contexts` instead draws every context twice.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createEmojiScenes } from "./emoji_scenes.ts";
import { saveImageGrid } from "./save_image_grid.ts";
import type { RgbImage } from "./rgb_image.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seed: { type: "string", default: "0" },
      count: { type: "string", default: "64" },
      size: { type: "string", default: "128" },
      out: { type: "string", default: "runs/data/preview.png" },
      contexts: { type: "boolean", default: false },
      scale: { type: "string", default: "1" },
    },
  });
  const world = await createEmojiScenes();
  const images: RgbImage[] = [];
  const labels: string[] = [];
  const size = Number(values.size);
  const t0 = performance.now();
  if (values.contexts) {
    for (const c of world.contexts) {
      for (const k of [1, 2]) {
        const spec = world.sample(Number(values.seed) * 7919 + k * 977 + c.name.length, {
          context: c.name,
          property: null,
        });
        images.push(await world.render(spec, { size }));
        labels.push(spec.caption);
      }
    }
  } else {
    const stream = world.scenes({ seed: Number(values.seed), count: Number(values.count), size });
    for await (const s of stream) {
      images.push(s.image);
      labels.push(s.caption);
    }
  }
  const dt = (performance.now() - t0) / 1000;
  await saveImageGrid(values.out!, images, { columns: 8, labels, scale: Number(values.scale) });
  console.log(`${images.length} scenes in ${dt.toFixed(2)} s → ${values.out}`);
}
