/**
 * Private: the seeded generator of tokenizer/ (mulberry32): the same seed gives the same sequence
 * on every platform. Not for cryptography. {@link mulberry32} is exported from mod.ts for eval/,
 * which draws from the same generator (one implementation, not two).
 *
 * @module
 */

/**
 * mulberry32: a function returning floats in [0, 1), seeded with the 32 bits of `seed` as they are.
 *
 * @param seed The state (reduced to 32 bits).
 * @returns The generator.
 *
 * @example
 * ```ts
 * import { mulberry32 } from "./_random.ts";
 * const next = mulberry32(1);
 * console.log(next() === mulberry32(1)()); // true
 * ```
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded uniform generator: {@link mulberry32} from a mixed seed. */
export class SeededRandom {
  #next: () => number;

  /**
   * @param seed any integer (it is reduced to 32 bits)
   */
  constructor(seed: number) {
    // Mix the seed (murmur3 fmix32) so that nearby seeds start far apart.
    let h = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    this.#next = mulberry32((h ^ (h >>> 16)) >>> 0);
  }

  /** @returns a float in [0, 1) */
  next(): number {
    return this.#next();
  }

  /**
   * @param n exclusive upper bound (a positive integer)
   * @returns an integer in [0, n)
   */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
