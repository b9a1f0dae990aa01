// Private: eval/'s tiny seeded PRNG (mulberry32), shared by the bootstrap, the eval-net trainer and
// measure-prior (the same bits each had in its own copy, so seeded results are unchanged).

/** A generator of uniform numbers in [0, 1) seeded by a 32-bit integer. */
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
