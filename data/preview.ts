/**
 * `deno run -A data/preview.ts [--seed 0] [--count 64] [--size 128] [--out runs/data/preview.png]
 * [--scale 1]`
 * writes a captioned grid of EmojiScenes to look at; `--contexts` instead draws every context twice.
 *
 * @module
 */
import { declareParams, runCli } from "../params/mod.ts";
import { createEmojiScenes } from "./emoji_scenes.ts";
import { saveImageGrid } from "./save_image_grid.ts";
import type { RgbImage } from "./rgb_image.ts";

const params = declareParams("preview", {
  seed: { type: "integer", min: 0, max: 2 ** 31 - 1, default: 0, help: "scene stream seed" },
  count: { type: "integer", min: 1, max: 100_000, default: 64, help: "scenes" },
  size: { type: "integer", min: 8, max: 4096, default: 128, help: "image side in pixels" },
  out: {
    type: "string",
    minLength: 1,
    default: "runs/data/preview.png",
    metavar: "FILE",
    help: "output PNG",
  },
  contexts: { type: "boolean", default: false, help: "draw every context twice instead" },
  scale: { type: "number", exclusiveMin: 0, max: 64, default: 1, help: "grid scale" },
});

/**
 * Runs the command line.
 *
 * @param args Arguments without the script name.
 * @returns The exit code (0 done, 2 bad input, 1 error).
 *
 * @example
 * ```ts
 * import { main } from "./preview.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCli(args, {
    params,
    usage: "deno run -A data/preview.ts [options]",
    summary: "Writes a captioned grid of EmojiScenes to look at.",
  }, async (values) => {
    const world = await createEmojiScenes();
    const images: RgbImage[] = [];
    const labels: string[] = [];
    const size = values.size;
    const t0 = performance.now();
    if (values.contexts) {
      for (const c of world.contexts) {
        for (const k of [1, 2]) {
          const spec = world.sample(values.seed * 7919 + k * 977 + c.name.length, {
            context: c.name,
            property: null,
          });
          images.push(await world.render(spec, { size }));
          labels.push(spec.caption);
        }
      }
    } else {
      const stream = world.scenes({ seed: values.seed, count: values.count, size });
      for await (const s of stream) {
        images.push(s.image);
        labels.push(s.caption);
      }
    }
    const dt = (performance.now() - t0) / 1000;
    await saveImageGrid(values.out, images, { columns: 8, labels, scale: values.scale });
    console.log(`${images.length} scenes in ${dt.toFixed(2)} s → ${values.out}`);
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
