import { EMOJI_CLASSES } from "./emoji_classes.ts";
import { EMOJI_SETS } from "./emoji_sets.ts";
import { loadIconSet } from "./_emoji_sets.ts";

/** One drawing of the world: an emoji from one set, depicting one class. */
export interface EmojiDrawing {
  /** `"<set prefix>:<emoji name>"`, e.g. `"noto:dog"`. */
  id: string;
  /** Class noun (`"dog"`). */
  classNoun: string;
  /** Set prefix (`"noto"`), see `EMOJI_SETS`. */
  set: string;
  /** Emoji name within the set (`"dog-face"`). */
  emojiName: string;
  /** A standalone SVG document of the drawing (viewBox of the artwork, no size). */
  svg: string;
  /** Width / height of the artwork's viewBox. */
  aspect: number;
}

/** Every drawing of every class, in a fixed order (class table order, then set order). */
export interface EmojiCatalog {
  /** The class nouns, in `EMOJI_CLASSES` order. */
  classes: string[];
  /** All drawings. */
  drawings: EmojiDrawing[];
  /** Drawings of each class noun. */
  byClass: Map<string, EmojiDrawing[]>;
  /** Drawing by id. */
  byId: Map<string, EmojiDrawing>;
}

let cached: Promise<EmojiCatalog> | undefined;

/**
 * Loads the drawings of every class of `EMOJI_CLASSES` from the emoji sets of `EMOJI_SETS` (npm
 * packages, parsed once per process, about 0.5 s). A drawing that is byte-identical to another of
 * the same class (an alias) is kept once.
 *
 * @returns The catalog (shared; do not mutate).
 *
 * @example
 * ```ts
 * import { loadEmojiCatalog } from "./mod.ts";
 * const catalog = await loadEmojiCatalog();
 * console.log(catalog.byClass.get("teapot")!.length > 2); // true
 * ```
 */
export function loadEmojiCatalog(): Promise<EmojiCatalog> {
  cached ??= build();
  return cached;
}

async function build(): Promise<EmojiCatalog> {
  const sets = await Promise.all(EMOJI_SETS.map((s) => loadIconSet(s.prefix)));
  const drawings: EmojiDrawing[] = [];
  const byClass = new Map<string, EmojiDrawing[]>();
  const byId = new Map<string, EmojiDrawing>();
  for (const [noun, names] of EMOJI_CLASSES) {
    const list: EmojiDrawing[] = [];
    const seen = new Set<string>();
    for (const set of sets) {
      for (const name of names) {
        let icon = set.icons[name];
        let hFlip = false;
        let alias = set.aliases?.[name];
        while (icon === undefined && alias !== undefined) {
          hFlip = hFlip !== Boolean(alias.hFlip);
          icon = set.icons[alias.parent];
          alias = set.aliases?.[alias.parent];
        }
        if (icon === undefined || seen.has(icon.body)) continue;
        seen.add(icon.body);
        const w = icon.width ?? set.width ?? 16, h = icon.height ?? set.height ?? 16;
        const l = icon.left ?? 0, t = icon.top ?? 0;
        const flip = hFlip !== Boolean(icon.hFlip);
        const body = flip
          ? `<g transform="translate(${2 * l + w} 0) scale(-1 1)">${icon.body}</g>`
          : icon.body;
        const svg =
          `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${l} ${t} ${w} ${h}">${body}</svg>`;
        const d: EmojiDrawing = {
          id: `${set.prefix}:${name}`,
          classNoun: noun,
          set: set.prefix,
          emojiName: name,
          svg,
          aspect: w / h,
        };
        list.push(d);
        drawings.push(d);
        byId.set(d.id, d);
      }
    }
    byClass.set(noun, list);
  }
  return { classes: EMOJI_CLASSES.map(([n]) => n), drawings, byClass, byId };
}
