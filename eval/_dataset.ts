// Private: renders EmojiScenes into uint8 chunks on disk (resumable) and loads them back.
import { join } from "node:path";
import {
  createEmojiScenes,
  type EmojiScenes,
  type RgbImage,
  SCENE_CONTEXTS,
  SCENE_PROPERTIES,
} from "./deps.ts";

/** Labels of one chunk of scenes. */
export interface ChunkLabels {
  size: number;
  count: number;
  streamSeed: number;
  start: number;
  classNoun: string[];
  context: string[];
  property: (string | null)[];
  drawingId: string[];
  seed: number[];
}

/** A loaded split: pixels as uint8 [N, S, S, 3] and labels. */
export interface Dataset {
  size: number;
  count: number;
  pixels: Uint8Array;
  classNoun: string[];
  context: string[];
  property: (string | null)[];
  drawingId: string[];
}

/** The world every eval net is trained on: all 155 classes, held-out drawings included. */
export function evalWorld(): Promise<EmojiScenes> {
  return createEmojiScenes({ includeHeldOut: true, propertyProbability: 0.5 });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Renders `count` scenes of stream `streamSeed` at `size` px into `dir/<name>-NNN.{bin,json}`
 * chunks of `chunk` scenes; chunks already on disk are skipped (resumable).
 */
export async function renderChunks(
  dir: string,
  options: {
    name: string;
    streamSeed: number;
    count: number;
    size: number;
    chunk?: number;
    log?: (msg: string) => void;
  },
): Promise<void> {
  const { name, streamSeed, count, size, chunk = 2000, log = console.log } = options;
  await Deno.mkdir(dir, { recursive: true });
  const world = await evalWorld();
  const chunks = Math.ceil(count / chunk);
  const t0 = performance.now();
  let done = 0;
  for (let k = 0; k < chunks; k++) {
    const base = join(dir, `${name}-${String(k).padStart(3, "0")}`);
    if (await exists(base + ".json")) continue;
    const start = k * chunk, n = Math.min(chunk, count - start);
    const pixels = new Uint8Array(n * size * size * 3);
    const labels: ChunkLabels = {
      size,
      count: n,
      streamSeed,
      start,
      classNoun: [],
      context: [],
      property: [],
      drawingId: [],
      seed: [],
    };
    let i = 0;
    for await (const s of world.scenes({ seed: streamSeed, start, count: n, size })) {
      const d = s.image.data, off = i * size * size * 3;
      for (let j = 0; j < d.length; j++) pixels[off + j] = Math.round((d[j] + 1) * 127.5);
      labels.classNoun.push(s.classNoun);
      labels.context.push(s.context);
      labels.property.push(s.property);
      labels.drawingId.push(s.drawingId);
      labels.seed.push(s.seed);
      i++;
      done++;
      if (i % 500 === 0) {
        const rate = done / ((performance.now() - t0) / 1000);
        const left = (count - start - i) / rate;
        log(
          `${name}: chunk ${k + 1}/${chunks}, ${start + i}/${count} scenes, ${
            rate.toFixed(0)
          } scenes/s, ETA ${(left / 60).toFixed(1)} min`,
        );
      }
    }
    await Deno.writeFile(base + ".bin.tmp", pixels);
    await Deno.rename(base + ".bin.tmp", base + ".bin");
    await Deno.writeTextFile(base + ".json.tmp", JSON.stringify(labels));
    await Deno.rename(base + ".json.tmp", base + ".json");
  }
}

/** Loads chunk `k` of `dir/<name>`, or null when it is not complete yet. */
export async function loadChunk(
  dir: string,
  name: string,
  k: number,
): Promise<{ pixels: Uint8Array; labels: ChunkLabels } | null> {
  const base = join(dir, `${name}-${String(k).padStart(3, "0")}`);
  if (!(await exists(base + ".json"))) return null;
  const labels = JSON.parse(await Deno.readTextFile(base + ".json")) as ChunkLabels;
  return { pixels: await Deno.readFile(base + ".bin"), labels };
}

/** Loads every complete chunk `dir/<name>-NNN` (in order). */
export async function loadChunks(dir: string, name: string): Promise<Dataset> {
  const parts: { pixels: Uint8Array; labels: ChunkLabels }[] = [];
  for (let k = 0;; k++) {
    const base = join(dir, `${name}-${String(k).padStart(3, "0")}`);
    if (!(await exists(base + ".json"))) break;
    const labels = JSON.parse(await Deno.readTextFile(base + ".json")) as ChunkLabels;
    parts.push({ pixels: await Deno.readFile(base + ".bin"), labels });
  }
  if (parts.length === 0) {
    throw new RangeError(`Cannot load scenes as '${dir}' holds no chunk named '${name}-000'`);
  }
  const size = parts[0].labels.size;
  const count = parts.reduce((a, p) => a + p.labels.count, 0);
  const pixels = new Uint8Array(count * size * size * 3);
  const out: Dataset = {
    size,
    count,
    pixels,
    classNoun: [],
    context: [],
    property: [],
    drawingId: [],
  };
  let off = 0;
  for (const p of parts) {
    pixels.set(p.pixels, off);
    off += p.pixels.length;
    out.classNoun.push(...p.labels.classNoun);
    out.context.push(...p.labels.context);
    out.property.push(...p.labels.property);
    out.drawingId.push(...p.labels.drawingId);
  }
  return out;
}

/** Context names, in label order. */
export const CONTEXT_LABELS: readonly string[] = SCENE_CONTEXTS.map((c) => c.name);
/** Property labels: "none" first, then `SCENE_PROPERTIES`. */
export const PROPERTY_LABELS: readonly string[] = ["none", ...SCENE_PROPERTIES.map((p) => p.name)];

/** The scenes of a {@link Dataset} as images in [−1, 1] (the uint8 pixels rescaled). */
export function datasetImages(ds: Dataset): RgbImage[] {
  const S = ds.size, n = S * S * 3;
  return Array.from({ length: ds.classNoun.length }, (_, i) => ({
    data: Float32Array.from(ds.pixels.subarray(i * n, (i + 1) * n), (v) => v / 127.5 - 1),
    width: S,
    height: S,
  }));
}
