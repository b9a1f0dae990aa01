/**
 * The npm dependencies of data/, with full specifiers so that a URL import (no deno.json) works.
 * The emoji artwork packages are loaded lazily (see `_emoji_sets.ts`), so importing data/ costs
 * nothing until the EmojiScenes world is first used.
 *
 * @module
 */
import sharp from "npm:sharp@0.35.5";

export { sharp };
