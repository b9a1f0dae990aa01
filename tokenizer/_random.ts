/**
 * Private: the seeded generator of tokenizer/: common/'s one {@link Rng} on its mulberry32 core,
 * the stream that has always drawn the rare-token identifiers (a new core would change which
 * identifier a seed gives). Not for cryptography.
 *
 * @module
 */
import { fmix32, Rng } from "../common/mod.ts";

export type { Rng };

/**
 * The tokenizer's generator for `seed`: the seed is mixed (murmur3's finaliser) so that nearby
 * seeds start far apart.
 *
 * @param seed Any integer (reduced to 32 bits).
 * @returns A generator; `uniform()` and `int(n)` take one 32-bit draw each.
 *
 * @example
 * ```ts
 * import { tokenizerRng } from "./_random.ts";
 * console.log(tokenizerRng(1).int(10) === tokenizerRng(1).int(10)); // true
 * ```
 */
export function tokenizerRng(seed: number): Rng {
  return new Rng(fmix32((Math.trunc(seed) ^ 0x9e3779b9) >>> 0), { algorithm: "mulberry32" });
}
