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
    this.#state = (Math.trunc(seed) ^ 0x6d2b79f5) >>> 0;
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
