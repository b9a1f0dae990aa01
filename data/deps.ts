/**
 * The dependencies of data/: npm packages with full specifiers so that a URL import (no deno.json)
 * works, and the atomic write, the PNG writer and the one seeded generator from common/.
 * The emoji artwork packages are loaded lazily (see `_emoji_sets.ts`), so importing data/ costs
 * nothing until the EmojiScenes world is first used.
 *
 * @module
 */
import sharp from "npm:sharp@0.35.5";

export { sharp };
export { fmix32, Rng, writeFileAtomic, writePng } from "../common/mod.ts";
