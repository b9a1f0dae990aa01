/**
 * `deno run -A data/make_subjects.ts [--size 512]`: (re)generates the built-in subjects in
 * `data/subjects/<name>/`: for each held-out drawing, five "casually captured" images (the object
 * in different everyday contexts and poses, no colour edits) and a `subject.json` with the
 * drawing's provenance and licence. Deterministic: running it again gives the same bytes.
 *
 * @module
 */
import { declareParams, runCli } from "../params/mod.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createEmojiScenes } from "./emoji_scenes.ts";
import { EMOJI_SETS } from "./emoji_sets.ts";
import { builtInSubjects, DEFAULT_SUBJECT_NAME } from "./built_in_subjects.ts";
import { savePng } from "./save_png.ts";
import { hashSeed, worldRng } from "./_world_rng.ts";

/** Everyday contexts for the casual captures. */
const CASUAL_CONTEXTS = [
  "wooden floor",
  "white rug",
  "dirt road",
  "cobblestone street",
  "grass with sunflowers",
  "pink fabric",
  "snow",
  "beach",
];

const params = declareParams("make subjects", {
  size: { type: "integer", min: 8, max: 4096, default: 512, help: "image side in pixels" },
});

/**
 * Runs the command line.
 *
 * @param args Arguments without the script name.
 * @returns The exit code (0 done, 2 bad input, 1 error).
 *
 * @example
 * ```ts
 * import { main } from "./make_subjects.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCli(args, {
    params,
    usage: "deno run -A data/make_subjects.ts [--size N]",
    summary: "Renders the built-in subjects' photos into data/subjects/.",
  }, async (values) => {
    const size = values.size;
    const world = await createEmojiScenes({ includeHeldOut: true });
    const root = fileURLToPath(new URL("./subjects/", import.meta.url));
    let bytes = 0;
    for (const subject of builtInSubjects()) {
      const rng = worldRng(hashSeed(0x5b1ec7, ...[...subject.name].map((ch) => ch.charCodeAt(0))));
      const contexts = [...CASUAL_CONTEXTS];
      const dir = join(root, subject.name);
      await Deno.mkdir(dir, { recursive: true });
      const images = [];
      for (const [i, file] of subject.files.entries()) {
        const context = contexts.splice(rng.int(contexts.length), 1)[0];
        const seed = hashSeed(rng.int(2 ** 31), i);
        const spec = world.sample(seed, {
          classNoun: subject.classNoun,
          drawingId: subject.drawingId,
          context,
          property: null,
          layout: {
            scale: rng.uniform(0.5, 0.7),
            x: rng.uniform(0.2, 0.8),
            y: rng.uniform(0.3, 0.9),
            angle: rng.uniform(-10, 10),
            flip: rng.chance(0.5),
          },
        });
        const path = join(dir, file);
        await savePng(path, await world.render(spec, { size }));
        bytes += (await Deno.stat(path)).size;
        images.push({ file, context, seed, caption: spec.caption });
      }
      const set = EMOJI_SETS.find((s) => subject.drawingId.startsWith(s.prefix + ":"))!;
      const meta = {
        name: subject.name,
        classNoun: subject.classNoun,
        default: subject.name === DEFAULT_SUBJECT_NAME,
        drawingId: subject.drawingId,
        source: {
          package: set.packageName,
          version: set.version,
          set: set.name,
          author: set.author,
          license: set.license,
          url: set.url,
        },
        size,
        images,
        generatedBy: "deno run -A data/make_subjects.ts",
        note:
          "Synthetic 'casual captures' of an emoji drawing that the EmojiScenes pretraining world never shows. " +
          "The images are a derivative of the drawing and carry its licence.",
      };
      await Deno.writeTextFile(join(dir, "subject.json"), JSON.stringify(meta, null, 2) + "\n");
      console.log(`${subject.name}: ${subject.drawingId} (${set.license}) → ${dir}`);
    }
    console.log(`${(bytes / 1024).toFixed(0)} KiB of PNGs in all`);
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
