/**
 * The project's one seeded random-number generator, {@link Rng}: the same seed gives the same bits
 * on every backend and platform (tfjs's own random ops depend on the backend). Not for
 * cryptography.
 *
 * One class, one way to derive floats, integers, normals, picks and forks from 32-bit outputs; the
 * 32-bit core is chosen by name. `"xoshiro128**"` (splitmix32 seeding) is the default and what new
 * code uses. `"sfc32"` and `"mulberry32"` are kept only because frozen streams depend on them: sfc32
 * draws every EmojiScenes world scene (the data behind the shipped model and the eval nets), and
 * mulberry32 draws the rare-token identifiers, the eval nets' augmentation, the prior measurement's
 * samples, the bootstrap intervals and DeepFloyd's timesteps. Switching them would change those
 * numbers (reports/2026-12-07-house-cleanup.md, "Random-number generators").
 *
 * @module
 */

/** The 32-bit cores {@link Rng} can run. */
export type RngAlgorithm = "xoshiro128**" | "sfc32" | "mulberry32";

/** Options of {@link Rng}. */
export interface RngOptions {
  /**
   * The 32-bit core (default `"xoshiro128**"`). Its floats take 53 bits from two outputs; the
   * frozen cores (`"sfc32"`, `"mulberry32"`) take 32 bits from one, as their streams always did.
   */
  algorithm?: RngAlgorithm;
}

const ALGORITHMS: readonly RngAlgorithm[] = ["xoshiro128**", "sfc32", "mulberry32"];

/**
 * murmur3's 32-bit finaliser: spreads every input bit over the output.
 *
 * @param h A 32-bit integer.
 * @returns An unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * import { fmix32 } from "./rng.ts";
 * console.log(fmix32(1) !== fmix32(2)); // true
 * ```
 */
export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** xoshiro128** seeded by splitmix32. */
function xoshiro128ss(seed: number): () => number {
  const s = new Uint32Array(4);
  let x = (Math.trunc(seed) >>> 0) ^ 0x9e3779b9;
  for (let i = 0; i < 4; i++) s[i] = fmix32(x = (x + 0x9e3779b9) >>> 0);
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return () => {
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
}

/** sfc32 from fixed words and the seed as its counter, 12 outputs discarded. */
function sfc32(seed: number): () => number {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** mulberry32, seeded with the 32 bits of `seed` as they are. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const CORES: Record<RngAlgorithm, (seed: number) => () => number> = {
  "xoshiro128**": xoshiro128ss,
  sfc32,
  mulberry32,
};

/**
 * Deterministic random numbers from a 32-bit seed. trainer/'s one trainer draws a step's noise and
 * timesteps from it (so that they depend only on (seed, step)), the samplers their noise, data/ its
 * world scenes, tokenizer/ its identifiers, eval/ its resamples.
 *
 * @example
 * ```ts
 * import { Rng } from "./rng.ts";
 * const a = new Rng(7), b = new Rng(7);
 * console.log(a.nextUint32() === b.nextUint32(), a.int(10) < 10); // true true
 * const scenes = new Rng(7, { algorithm: "sfc32" });
 * console.log(scenes.uniform(2, 3) >= 2); // true
 * ```
 */
export class Rng {
  readonly algorithm: RngAlgorithm;
  #next: () => number;
  #wide: boolean;
  #spare: number | null = null;

  /**
   * @param seed Any number (truncated, taken modulo 2³²).
   * @param options The core ({@link RngOptions}).
   */
  constructor(seed: number, options: RngOptions = {}) {
    const { algorithm = "xoshiro128**" } = options;
    if (!ALGORITHMS.includes(algorithm)) {
      throw new RangeError(
        `Rng: options.algorithm must be one of ${ALGORITHMS.join(", ")}, got ${algorithm}`,
      );
    }
    if (!Number.isFinite(seed)) {
      throw new RangeError(`Rng: seed must be a finite number, got ${seed}`);
    }
    this.algorithm = algorithm;
    this.#next = CORES[algorithm](seed);
    this.#wide = algorithm === "xoshiro128**";
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    return this.#next();
  }

  /**
   * A uniform number in [lo, hi) (default [0, 1)).
   *
   * @param lo Lower bound.
   * @param hi Upper bound.
   */
  uniform(lo = 0, hi = 1): number {
    const u = this.#wide
      ? (this.#next() * 2 ** 21 + (this.#next() >>> 11)) / 2 ** 53
      : this.#next() / 4294967296;
    return lo === 0 && hi === 1 ? u : lo + (hi - lo) * u;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** One element of `items`, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.uniform() < p;
  }

  /** A standard normal number (Box–Muller; the second of each pair is kept for the next call). */
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

  /** A bounded bell (the sum of four uniforms, centred and scaled): mean 0, sd 1, |x| < 3.47. */
  boundedNormal(): number {
    return (this.uniform() + this.uniform() + this.uniform() + this.uniform() - 2) * 1.7320508;
  }

  /** `n` normal numbers with standard deviation `std`. */
  normals(n: number, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * std;
    return out;
  }

  /** A new generator (same core) whose stream depends on this one's state and on `stream`. */
  fork(stream: number): Rng {
    return new Rng((this.nextUint32() ^ Math.imul(stream + 1, 0x27d4eb2d)) >>> 0, {
      algorithm: this.algorithm,
    });
  }
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
