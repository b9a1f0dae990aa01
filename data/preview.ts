/**
 * `deno run -A data/preview.ts [--seed 0] [--count 64] [--size 128] [--out runs/data/preview.png]`:
 * writes a captioned grid of EmojiScenes to look at.
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
    },
  });
  const world = await createEmojiScenes();
  const images: RgbImage[] = [];
  const labels: string[] = [];
  const t0 = performance.now();
  for await (
    const s of world.scenes({
      seed: Number(values.seed),
      count: Number(values.count),
      size: Number(values.size),
    })
  ) {
    images.push(s.image);
    labels.push(s.caption);
  }
  const dt = (performance.now() - t0) / 1000;
  await saveImageGrid(values.out!, images, { columns: 8, labels });
  console.log(`${images.length} scenes in ${dt.toFixed(2)} s → ${values.out}`);
}
