/**
 * A small seeded PRNG (splitmix32 seeding + xoshiro128**) used for everything random in
 * diffusion/, so that the same seed gives the same bits on every backend (tfjs's own random ops
 * depend on the backend).
 *
 * @module
 */

/**
 * Deterministic random numbers from a 32-bit seed: the same seed gives the same bits on every
 * backend and platform. trainer/'s one trainer uses it too, so that a training step's random
 * draws depend only on (seed, step).
 *
 * @example
 * ```ts
 * import { Rng } from "./rng.ts";
 * const a = new Rng(7), b = new Rng(7);
 * console.log(a.nextUint32() === b.nextUint32()); // true
 * ```
 */
export class Rng {
  #s = new Uint32Array(4);
  #spare: number | null = null;

  constructor(seed: number) {
    let x = (Math.trunc(seed) >>> 0) ^ 0x9e3779b9;
    for (let i = 0; i < 4; i++) {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.#s[0] | this.#s[1] | this.#s[2] | this.#s[3]) === 0) this.#s[0] = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform number in [0, 1). */
  uniform(): number {
    return (this.nextUint32() * 2 ** 21 + (this.nextUint32() >>> 11)) / 2 ** 53;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** A standard normal number (Box–Muller). */
  normal(): number {
    if (this.#spare !== null) {
      const v = this.#spare;
      this.#spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** `n` standard normal numbers. */
  normals(n: number, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * std;
    return out;
  }

  /** A new generator whose stream depends on this one's seed and on `stream`. */
  fork(stream: number): Rng {
    return new Rng((this.nextUint32() ^ Math.imul(stream + 1, 0x27d4eb2d)) >>> 0);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * A 32-bit hash of integers (FNV-1a style with extra mixing), for deriving per-step or per-item
 * seeds such as `new Rng(hashInts(seed, step))`.
 *
 * @param values Integers (truncated, taken modulo 2³²).
 * @returns An unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * import { hashInts } from "./rng.ts";
 * console.log(hashInts(1, 2) === hashInts(1, 2), hashInts(1, 2) !== hashInts(2, 1)); // true true
 * ```
 */
export function hashInts(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    h = Math.imul(h ^ (Math.trunc(v) >>> 0), 0x01000193) >>> 0;
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d) >>> 0;
    h ^= h >>> 12;
  }
  return h >>> 0;
}
