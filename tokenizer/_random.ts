/**
 * A small seeded pseudo-random generator (mulberry32): the same seed gives the same sequence on
 * every platform. Not for cryptography.
 *
 * @module
 */

/** Seeded uniform generator. */
export class SeededRandom {
  #state: number;

  /**
   * @param seed any integer (it is reduced to 32 bits)
   */
  constructor(seed: number) {
    // Mix the seed (murmur3 fmix32) so that nearby seeds start far apart.
    let h = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    this.#state = (h ^ (h >>> 16)) >>> 0;
  }

  /** @returns a float in [0, 1) */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /**
   * @param n exclusive upper bound (a positive integer)
   * @returns an integer in [0, n)
   */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
