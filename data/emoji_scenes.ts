import { Canvas } from "./_canvas.ts";
import { BACKGROUNDS } from "./_backgrounds.ts";
import { composite } from "./_composite.ts";
import { ladderSize, RasterCache } from "./_raster.ts";
import { hashSeed, worldRng } from "./_world_rng.ts";
import { type EmojiCatalog, type EmojiDrawing, loadEmojiCatalog } from "./emoji_catalog.ts";
import { HELD_OUT_DRAWINGS } from "./held_out.ts";
import { EMOJI_SETS } from "./emoji_sets.ts";
import type { RgbImage } from "./rgb_image.ts";
import { sceneCaption } from "./scene_caption.ts";
import { SCENE_CONTEXTS, type SceneContext } from "./scene_contexts.ts";
import { SCENE_PROPERTIES } from "./scene_properties.ts";

/** Where and how the object is placed; all resolution-independent. */
export interface SceneLayout {
  /** Longer side of the object as a fraction of the image side. */
  scale: number;
  /** Horizontal position of the centre in [0, 1] of the free range (0 left, 1 right). */
  x: number;
  /** Vertical position in [0, 1] of the free range (0 high, 1 low). */
  y: number;
  /** Rotation in degrees (small, clockwise). */
  angle: number;
  /** Mirrored left-right. */
  flip: boolean;
}

/** A complete description of one scene: rendering it at any size gives the same picture. */
export interface SceneSpec {
  /** The scene's seed (also seeds the background). */
  seed: number;
  /** Class noun of the object. */
  classNoun: string;
  /** Drawing id (`"twemoji:dog"`). */
  drawingId: string;
  /** Context name (`SCENE_CONTEXTS`). */
  context: string;
  /** Property adjective (`SCENE_PROPERTIES`), or null. */
  property: string | null;
  /** The caption (DreamBench grammar); may leave the context unsaid ("a red teapot"). */
  caption: string;
  /** Object placement. */
  layout: SceneLayout;
}

/** One streamed scene. */
export interface EmojiScene {
  /** The image at the first requested size. */
  image: RgbImage;
  /** The same scene at every requested size, in the order of `sizes`. */
  images: RgbImage[];
  /** With `masks: true`: the object's coverage `[size, size]` in [0, 1] at every size. */
  masks?: Float32Array[];
  /** Caption in the DreamBench prompt grammar. */
  caption: string;
  /** Class noun. */
  classNoun: string;
  /** Context name (drawn even when the caption does not say it). */
  context: string;
  /** Property adjective or null. */
  property: string | null;
  /** Drawing id. */
  drawingId: string;
  /** Scene seed: `world.render(world.sample(seed), { size })` renders it again at any size. */
  seed: number;
  /** Index in the stream. */
  index: number;
}

/** Options of {@link createEmojiScenes}. */
export interface EmojiScenesOptions {
  /** Include the held-out drawings of `HELD_OUT_DRAWINGS` (default false: pretraining never sees them). */
  includeHeldOut?: boolean;
  /** Probability that a scene has a property edit (default 0.3). */
  propertyProbability?: number;
  /** Probability that the caption leaves the context unsaid, "a teapot" (default 0.1). */
  bareCaptionProbability?: number;
  /** Restrict to these class nouns (default: every class). */
  classes?: string[];
  /**
   * Draw only from these emoji sets, by prefix (default: every set of `EMOJI_SETS`), e.g. leave out
   * `"openmoji"` to avoid its ShareAlike licence. Classes left without drawings are dropped.
   */
  sets?: string[];
  /** Memory budget of the emoji raster cache in bytes (default 256 MiB). */
  rasterCacheBytes?: number;
  /**
   * Range `[min, max]` of the object's longer side as a fraction of the image side, drawn
   * uniformly (default {@link DEFAULT_OBJECT_SCALE}, [0.4, 0.62]). A larger range gives the object
   * more pixels at a small stage (a 32² base draws a 0.7 object on 22 px instead of 13–20).
   */
  objectScale?: readonly [number, number];
}

/** Default range of {@link SceneLayout.scale}: the object's longer side over the image side. */
export const DEFAULT_OBJECT_SCALE: readonly [number, number] = Object.freeze([
  0.4,
  0.62,
]) as readonly [number, number];

/** Options of {@link EmojiScenes.scenes}. */
export interface SceneStreamOptions {
  /** Stream seed (default 0): scene i has seed `hashSeed(seed, i)`. */
  seed?: number;
  /** Number of scenes (default: endless). */
  count?: number;
  /** Index of the first scene (default 0), to resume a stream. */
  start?: number;
  /** Image side in pixels (default 64); ignored when `sizes` is given. */
  size?: number;
  /** Render each scene at several sizes (e.g. `[32, 128, 512]` for a cascade). */
  sizes?: number[];
  /** Also yield the object's coverage at each size (see {@link EmojiScenes.renderWithMask}). */
  masks?: boolean;
}

function checkSize(size: number, what: string): void {
  if (!Number.isInteger(size) || size < 8 || size > 4096) {
    throw new RangeError(
      `Cannot ${what} as 'size' must be an integer in 8–4096: current value is ${size}`,
    );
  }
}

/**
 * The EmojiScenes world: captioned scenes of emoji objects (several drawings per class, from
 * different artwork sets) on procedurally drawn DreamBench contexts, deterministic from a seed and
 * renderable at any resolution. Create with {@link createEmojiScenes}.
 *
 * @example
 * ```ts
 * import { createEmojiScenes } from "./mod.ts";
 * const world = await createEmojiScenes();
 * // The same scene for every stage of a cascade:
 * const spec = world.sample(42, { classNoun: "teapot", context: "beach" });
 * const [small, large] = [await world.render(spec, { size: 16 }), await world.render(spec, { size: 64 })];
 * console.log(spec.caption, small.width, large.width); // "a teapot on the beach" 16 64
 * ```
 */
export class EmojiScenes {
  /** Class nouns. */
  readonly classes: readonly string[];
  /** Contexts. */
  readonly contexts: readonly SceneContext[] = SCENE_CONTEXTS;
  /** Property adjectives. */
  readonly properties: readonly string[] = SCENE_PROPERTIES.map((p) => p.name);
  /** Drawings the sampler draws from (held-out drawings excluded unless asked). */
  readonly drawings: readonly EmojiDrawing[];
  readonly #catalog: EmojiCatalog;
  readonly #byClass: Map<string, EmojiDrawing[]>;
  readonly #rasters: RasterCache;
  readonly #propertyProbability: number;
  readonly #bareCaptionProbability: number;
  /** Range of the object's scale ({@link EmojiScenesOptions.objectScale}). */
  readonly objectScale: readonly [number, number];

  /** Use {@link createEmojiScenes}. */
  constructor(catalog: EmojiCatalog, options: EmojiScenesOptions = {}) {
    const {
      includeHeldOut = false,
      propertyProbability = 0.3,
      bareCaptionProbability = 0.1,
      classes = catalog.classes,
      sets = EMOJI_SETS.map((e) => e.prefix),
      rasterCacheBytes = 256 * 2 ** 20,
      objectScale = DEFAULT_OBJECT_SCALE,
    } = options;
    const [sMin, sMax] = Array.isArray(objectScale) ? objectScale : [NaN, NaN];
    if (
      !Array.isArray(objectScale) || objectScale.length !== 2 || !(sMin > 0) || !(sMax <= 1) ||
      !(sMin <= sMax)
    ) {
      throw new RangeError(
        `Cannot create EmojiScenes as 'objectScale' must be [min, max] with 0 < min ≤ max ≤ 1: current value is ${
          JSON.stringify(objectScale)
        }`,
      );
    }
    for (
      const [name, p] of [["propertyProbability", propertyProbability], [
        "bareCaptionProbability",
        bareCaptionProbability,
      ]] as const
    ) {
      if (!(p >= 0 && p <= 1)) {
        throw new RangeError(
          `Cannot create EmojiScenes as '${name}' must be in [0, 1]: current value is ${p}`,
        );
      }
    }
    const heldOut = new Set(Object.values(HELD_OUT_DRAWINGS).map((h) => h.drawingId));
    for (const prefix of sets) {
      if (!EMOJI_SETS.some((e) => e.prefix === prefix)) {
        throw new RangeError(
          `Cannot create EmojiScenes as 'sets' must hold prefixes of EMOJI_SETS: '${prefix}' is not one`,
        );
      }
    }
    const allowed = new Set(sets);
    this.#catalog = catalog;
    this.#byClass = new Map();
    for (const noun of classes) {
      const all = catalog.byClass.get(noun);
      if (all === undefined) {
        throw new RangeError(
          `Cannot create EmojiScenes as class '${noun}' is not in EMOJI_CLASSES`,
        );
      }
      const list = all.filter((d) => allowed.has(d.set) && (includeHeldOut || !heldOut.has(d.id)));
      if (list.length > 0) this.#byClass.set(noun, list);
    }
    this.classes = [...this.#byClass.keys()];
    this.drawings = [...this.#byClass.values()].flat();
    this.#rasters = new RasterCache(rasterCacheBytes);
    this.#propertyProbability = propertyProbability;
    this.#bareCaptionProbability = bareCaptionProbability;
    this.objectScale = Object.freeze([sMin, sMax]) as readonly [number, number];
  }

  /**
   * Draws the description of one scene from its seed (cheap, synchronous, no rendering).
   *
   * @param seed Any integer.
   * @param overrides Fix some choices (class, drawing, context, property, layout); the rest is
   *   drawn from the seed as usual.
   * @returns The scene description.
   */
  sample(seed: number, overrides: Partial<Omit<SceneSpec, "seed" | "caption">> = {}): SceneSpec {
    if (!Number.isFinite(seed)) {
      throw new RangeError(
        `Cannot sample scene as 'seed' must be a finite number: current value is ${seed}`,
      );
    }
    const r = worldRng(hashSeed(seed, 0x5ce7e));
    const classNoun = r.pick(this.classes);
    const drawing = r.pick(this.#byClass.get(classNoun)!);
    const context = r.pick(SCENE_CONTEXTS).name;
    const property = r.chance(this.#propertyProbability) ? r.pick(this.properties) : null;
    const bare = r.chance(this.#bareCaptionProbability);
    const layout: SceneLayout = {
      scale: r.uniform(this.objectScale[0], this.objectScale[1]),
      x: r.uniform(),
      y: r.uniform(),
      angle: Math.max(-15, Math.min(15, r.boundedNormal() * 7)),
      flip: r.chance(0.5),
    };
    let drawingId = drawing.id;
    if (overrides.drawingId !== undefined) {
      const d = this.#catalog.byId.get(overrides.drawingId);
      if (d === undefined) {
        throw new RangeError(
          `Cannot sample scene as drawing '${overrides.drawingId}' does not exist`,
        );
      }
      drawingId = d.id;
    } else if (overrides.classNoun !== undefined) {
      const pool = this.#byClass.get(overrides.classNoun);
      if (pool === undefined) {
        throw new RangeError(
          `Cannot sample scene as class '${overrides.classNoun}' is not in this world`,
        );
      }
      drawingId = pool[Math.floor(r.uniform() * pool.length)].id;
    }
    const spec = {
      classNoun: overrides.classNoun ?? this.#catalog.byId.get(drawingId)!.classNoun,
      drawingId,
      context: overrides.context ?? context,
      property: overrides.property === undefined ? property : overrides.property,
      layout: { ...layout, ...overrides.layout },
    };
    const caption = sceneCaption(spec.classNoun, {
      context: bare ? null : spec.context,
      property: spec.property,
    });
    return { seed, ...spec, caption };
  }

  /**
   * Renders a scene at `size`×`size`. The same spec gives the same bytes at a given size, and the
   * same picture (background, pose, colours) at every size.
   *
   * @param spec From {@link EmojiScenes.sample}.
   * @param options `size`: side in pixels (default 64).
   * @returns The image, `[size, size, 3]` in [-1, 1].
   */
  async render(spec: SceneSpec, options: { size?: number } = {}): Promise<RgbImage> {
    return (await this.#render(spec, options.size ?? 64, false)).image;
  }

  /**
   * Renders a scene as {@link EmojiScenes.render} does (the same bytes) and the object's coverage:
   * per pixel, how much of it is the object (its alpha as composited, less what a floating
   * context's liquid covers; shadows and mirror reflections are background). For losses that
   * weight the object's pixels.
   *
   * @param spec From {@link EmojiScenes.sample}.
   * @param options `size`: side in pixels (default 64).
   * @returns The image and the mask, `[size, size]` row-major in [0, 1].
   *
   * @example
   * ```ts
   * import { createEmojiScenes } from "./mod.ts";
   * const world = await createEmojiScenes();
   * const { mask } = await world.renderWithMask(world.sample(7), { size: 32 });
   * console.log(mask.length, Math.max(...mask) > 0.9); // 1024 true
   * ```
   */
  async renderWithMask(
    spec: SceneSpec,
    options: { size?: number } = {},
  ): Promise<{ image: RgbImage; mask: Float32Array }> {
    const r = await this.#render(spec, options.size ?? 64, true);
    return { image: r.image, mask: r.mask! };
  }

  async #render(
    spec: SceneSpec,
    size: number,
    withMask: boolean,
  ): Promise<{ image: RgbImage; mask: Float32Array | null }> {
    checkSize(size, "render scene");
    const ctx = SCENE_CONTEXTS.find((c) => c.name === spec.context);
    const drawBackground = BACKGROUNDS[spec.context];
    if (ctx === undefined || drawBackground === undefined) {
      throw new RangeError(`Cannot render scene as context '${spec.context}' does not exist`);
    }
    const drawing = this.#catalog.byId.get(spec.drawingId);
    if (drawing === undefined) {
      throw new RangeError(`Cannot render scene as drawing '${spec.drawingId}' does not exist`);
    }
    // Background, supersampled so that small sizes are anti-aliased (about 128–256 px inside).
    const ss = Math.max(1, Math.min(4, Math.ceil(192 / size)));
    const big = new Canvas(size * ss, size * ss);
    const bgRng = worldRng(hashSeed(spec.seed, 0xb6));
    const { horizon } = drawBackground(big, bgRng, hashSeed(spec.seed, 0xb7) % 100000);
    const canvas = big.downsample(ss);
    const background = ctx.placement === "float" ? canvas.data.slice() : null;

    // Object geometry in normalised units.
    const { scale, x, y, angle, flip } = spec.layout;
    const objPx = scale * size;
    const raster = await this.#rasters.get(drawing, ladderSize(objPx * 1.15));
    const long = Math.max(raster.w, raster.h);
    const k = objPx / long;
    const ow = raster.w * k / size, oh = raster.h * k / size;
    const cu = ow / 2 + 0.03 + x * Math.max(0, 1 - ow - 0.06);
    let bottom: number;
    if (ctx.placement === "float") {
      const lo = Math.max(horizon + oh * 0.6, oh + 0.05);
      bottom = lo + y * Math.max(0, 0.95 - lo);
    } else {
      const lo = Math.max(horizon + oh * 0.35, oh + 0.03);
      bottom = Math.min(0.98, lo + y * Math.max(0, 0.97 - lo));
    }
    const cv = bottom - oh / 2;
    const prop = SCENE_PROPERTIES.find((p) => p.name === spec.property) ?? null;
    const place = {
      cx: cu * size,
      cy: cv * size,
      scale: k,
      angle: angle * Math.PI / 180,
      flipX: flip,
      flipY: false,
      opacity: 1,
      tint: prop?.tint ?? null,
      shiny: prop?.name === "shiny",
      wet: prop?.name === "wet",
    };
    if (spec.context === "mirror") {
      composite(canvas, raster, {
        ...place,
        cy: (bottom + oh / 2) * size,
        flipY: true,
        angle: -place.angle,
        opacity: 0.45,
      });
    } else if (ctx.placement !== "float") {
      canvas.ellipse(
        cu,
        bottom - oh * 0.02,
        ow * 0.45,
        Math.max(oh * 0.05, 1.5 / size),
        [0, 0, 0],
        0.25,
      );
    }
    composite(canvas, raster, place);
    let mask: Float32Array | null = null;
    if (withMask) {
      // The object's coverage: a white copy of the raster (premultiplied: rgb = alpha) on black.
      const white = new Float32Array(raster.rgba.length);
      for (let i = 3; i < white.length; i += 4) {
        white[i - 3] =
          white[i - 2] =
          white[i - 1] =
          white[i] =
            raster.rgba[i];
      }
      const m = new Canvas(size, size);
      composite(m, { rgba: white, w: raster.w, h: raster.h }, {
        ...place,
        tint: null,
        shiny: false,
        wet: false,
      });
      mask = new Float32Array(size * size);
      for (let i = 0; i < mask.length; i++) mask[i] = Math.min(1, Math.max(0, m.data[i * 3]));
    }
    if (background !== null) {
      // Floating: the liquid covers the lowest part of the object, with a wavy waterline.
      const d = canvas.data, top = bottom - oh * 0.22;
      const y0 = Math.max(0, Math.floor((top - 0.03) * size));
      for (let py = y0; py < size; py++) {
        for (let px = 0; px < size; px++) {
          const u = (px + 0.5) / size, v = (py + 0.5) / size;
          const line = top + 0.012 * Math.sin(u * 40 + spec.seed % 7);
          const t = Math.min(1, Math.max(0, (v - line) * size / 1.5)) * 0.8;
          if (t <= 0) continue;
          const i = (py * size + px) * 3;
          if (mask !== null) mask[py * size + px] *= 1 - t;
          d[i] += (background[i] - d[i]) * t;
          d[i + 1] += (background[i + 1] - d[i + 1]) * t;
          d[i + 2] += (background[i + 2] - d[i + 2]) * t;
        }
      }
    }
    const out = new Float32Array(size * size * 3);
    const d = canvas.data;
    for (let i = 0; i < out.length; i++) {
      const v = d[i] * 2 - 1;
      out[i] = v < -1 ? -1 : v > 1 ? 1 : v;
    }
    return { image: { data: out, width: size, height: size }, mask };
  }

  /**
   * Streams captioned scenes: scene i of a stream has seed `hashSeed(seed, i)`, so a stream is
   * reproducible and resumable (`start`).
   *
   * @param options See {@link SceneStreamOptions}.
   * @returns An async generator of {@link EmojiScene}.
   */
  async *scenes(options: SceneStreamOptions = {}): AsyncGenerator<EmojiScene> {
    const { seed = 0, count = Infinity, start = 0, size = 64 } = options;
    const sizes = options.sizes ?? [size];
    if (sizes.length === 0) throw new RangeError("Cannot stream scenes as 'sizes' is empty");
    for (const s of sizes) checkSize(s, "stream scenes");
    if (!(count >= 0)) {
      throw new RangeError(
        `Cannot stream scenes as 'count' must be ≥ 0: current value is ${count}`,
      );
    }
    for (let i = start; i < start + count; i++) {
      const sceneSeed = sceneSeedOf(seed, i);
      const spec = this.sample(sceneSeed);
      const images: RgbImage[] = [];
      const masks: Float32Array[] = [];
      for (const s of sizes) {
        const r = await this.#render(spec, s, options.masks === true);
        images.push(r.image);
        if (r.mask) masks.push(r.mask);
      }
      yield {
        image: images[0],
        images,
        ...(options.masks === true ? { masks } : {}),
        caption: spec.caption,
        classNoun: spec.classNoun,
        context: spec.context,
        property: spec.property,
        drawingId: spec.drawingId,
        seed: sceneSeed,
        index: i,
      };
    }
  }
}

/**
 * Seed of scene `index` of the stream with seed `seed`.
 *
 * @param seed The stream seed.
 * @param index The scene index.
 * @returns A 32-bit scene seed.
 *
 * @example
 * ```ts
 * import { sceneSeedOf } from "./mod.ts";
 * console.log(sceneSeedOf(0, 1) === sceneSeedOf(0, 1)); // true
 * ```
 */
export function sceneSeedOf(seed: number, index: number): number {
  return hashSeed(seed, index, 0x57e4);
}

/**
 * Loads the emoji artwork (once per process) and creates the EmojiScenes world.
 *
 * @param options See {@link EmojiScenesOptions}.
 * @returns The world.
 *
 * @example
 * ```ts
 * import { createEmojiScenes } from "./mod.ts";
 * const world = await createEmojiScenes();
 * for await (const scene of world.scenes({ seed: 1, count: 2, size: 32 })) {
 *   console.log(scene.caption, scene.image.width); // e.g. "a red teapot on the beach" 32
 * }
 * ```
 */
export async function createEmojiScenes(options: EmojiScenesOptions = {}): Promise<EmojiScenes> {
  return new EmojiScenes(await loadEmojiCatalog(), options);
}
