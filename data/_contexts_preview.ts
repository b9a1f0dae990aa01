// Dev helper: every context at 256 px for three seeds → runs/data/contexts.png.
import { createEmojiScenes } from "./emoji_scenes.ts";
import { saveImageGrid } from "./save_image_grid.ts";
import type { RgbImage } from "./rgb_image.ts";
const world = await createEmojiScenes();
const images: RgbImage[] = [], labels: string[] = [];
for (const c of world.contexts) {
  for (const seed of [1, 2]) {
    const spec = world.sample(seed * 977 + c.name.length, { context: c.name, property: null });
    images.push(await world.render(spec, { size: Number(Deno.args[0] ?? 192) }));
    labels.push(spec.caption);
  }
}
await saveImageGrid("runs/data/contexts.png", images, { columns: 8, labels });
