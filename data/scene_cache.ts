import { join } from "node:path";
import { createEmojiScenes, type EmojiScenes } from "./emoji_scenes.ts";
import { EMOJI_SETS } from "./emoji_sets.ts";
import { loadImage } from "./load_image.ts";
import { savePng } from "./save_png.ts";
import type { RgbImage } from "./rgb_image.ts";
import { writeFileAtomic } from "./deps.ts";

/** One line of a scene cache's `manifest.jsonl`. */
export interface SceneCacheEntry {
  /** PNG file name in the cache folder. */
  file: string;
  /** Index in the stream. */
  index: number;
  /** Scene seed. */
  seed: number;
  caption: string;
  classNoun: string;
  context: string;
  property: string | null;
  drawingId: string;
}

/** Options of {@link writeSceneCache}. */
export interface WriteSceneCacheOptions {
  /** Stream seed (default 0). */
  seed?: number;
  /** Number of scenes (default 1000). */
  count?: number;
  /** Image side in pixels (default 64). */
  size?: number;
  /** The world (default: `createEmojiScenes()`). */
  world?: EmojiScenes;
  /** Called after each scene with (done, total) (default: none). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Renders a stream of EmojiScenes to a folder (e.g. under `runs/`): one PNG per scene and a
 * `manifest.jsonl` (one {@link SceneCacheEntry} per line), plus `cache.json` with the stream's
 * parameters and the artwork package versions. Resumable: scenes already in the manifest are
 * skipped, so running the same call again after an interruption completes the cache.
 *
 * @param dir Cache folder (created).
 * @param options See {@link WriteSceneCacheOptions}.
 * @returns The manifest entries, in index order.
 *
 * @example
 * ```ts
 * import { readSceneCache, writeSceneCache } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * await writeSceneCache(dir, { count: 2, size: 16 });
 * for await (const s of readSceneCache(dir)) console.log(s.caption, s.image.width);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeSceneCache(
  dir: string,
  options: WriteSceneCacheOptions = {},
): Promise<SceneCacheEntry[]> {
  const { seed = 0, count = 1000, size = 64, onProgress } = options;
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(
      `Cannot write scene cache as 'count' must be a non-negative integer: current value is ${count}`,
    );
  }
  await Deno.mkdir(dir, { recursive: true });
  const params = {
    seed,
    size,
    sets: EMOJI_SETS.map((s) => `${s.packageName}@${s.version}`),
  };
  const paramsPath = join(dir, "cache.json");
  try {
    const old = JSON.parse(await Deno.readTextFile(paramsPath));
    if (old.seed !== seed || old.size !== size || old.sets.join() !== params.sets.join()) {
      throw new Error(
        `Cannot write scene cache to '${dir}' as it holds another stream (seed ${old.seed}, size ${old.size}): use another folder`,
      );
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    await writeFileAtomic(
      paramsPath,
      new TextEncoder().encode(JSON.stringify(params, null, 2) + "\n"),
    );
  }
  const entries = await readManifest(dir);
  const have = new Set(entries.map((e) => e.index));
  const world = options.world ?? await createEmojiScenes();
  const manifest = await Deno.open(join(dir, "manifest.jsonl"), { append: true, create: true });
  try {
    for (let i = 0; i < count; i++) {
      if (have.has(i)) continue;
      for await (const s of world.scenes({ seed, start: i, count: 1, size })) {
        const file = `${String(i).padStart(7, "0")}.png`;
        await savePng(join(dir, file), s.image, { compressionLevel: 6 });
        const entry: SceneCacheEntry = {
          file,
          index: i,
          seed: s.seed,
          caption: s.caption,
          classNoun: s.classNoun,
          context: s.context,
          property: s.property,
          drawingId: s.drawingId,
        };
        await manifest.write(new TextEncoder().encode(JSON.stringify(entry) + "\n"));
        entries.push(entry);
      }
      onProgress?.(i + 1, count);
    }
  } finally {
    manifest.close();
  }
  return entries.filter((e) => e.index < count).sort((a, b) => a.index - b.index);
}

async function readManifest(dir: string): Promise<SceneCacheEntry[]> {
  let text = "";
  try {
    text = await Deno.readTextFile(join(dir, "manifest.jsonl"));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  const out: SceneCacheEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // A line cut by an interruption: that scene is rendered again.
    }
  }
  return out;
}

/**
 * Reads a scene cache written by {@link writeSceneCache}, in index order.
 *
 * @param dir The cache folder.
 * @returns An async generator of entries with their images (`[-1, 1]`).
 *
 * @example
 * ```ts
 * import { readSceneCache } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * for await (const _ of readSceneCache(dir)) throw new Error("empty cache yields nothing");
 * await Deno.remove(dir);
 * ```
 */
export async function* readSceneCache(
  dir: string,
): AsyncGenerator<SceneCacheEntry & { image: RgbImage }> {
  const entries = (await readManifest(dir)).sort((a, b) => a.index - b.index);
  for (const e of entries) yield { ...e, image: await loadImage(join(dir, e.file)) };
}
