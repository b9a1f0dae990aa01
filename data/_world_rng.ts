// Private seeded randomness of the world: its seed hash and its generator (common/'s Rng on sfc32).
import { fmix32, Rng } from "./deps.ts";

export type { Rng };

/** Mixes integers into one 32-bit seed (murmur3-style finaliser per word). */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9 ^ parts.length;
  for (const p of parts) {
    let k = Math.imul((p >>> 0) ^ Math.floor(p / 4294967296), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  return fmix32(h);
}

/**
 * The generator behind every EmojiScenes world scene and built-in subject: common/'s one {@link Rng}
 * on its sfc32 core, the stream the shipped model and the eval nets were trained on (changing it
 * would change every scene; reports/2026-12-07-house-cleanup.md).
 */
export function worldRng(seed: number): Rng {
  return new Rng(seed, { algorithm: "sfc32" });
}
