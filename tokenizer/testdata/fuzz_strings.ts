/**
 * Seeded random-Unicode strings for fuzzing the tokenizer: code points drawn from weighted pools
 * (ASCII, whitespace, control characters, Latin with combining marks, compatibility forms that
 * NFKC rewrites, CJK/Kana/Hangul, right-to-left and Indic scripts, emoji, any BMP character, any
 * code point including lone surrogates). Never contains "\n", so each string is one line.
 *
 * @module
 */
import { type Rng, tokenizerRng } from "../_random.ts";

type Pool = [weight: number, ranges: Array<[number, number]>];

const POOLS: Pool[] = [
  [30, [[0x20, 0x7e]]],
  [8, [[0x20, 0x20], [0x09, 0x09], [0x3000, 0x3000], [0xa0, 0xa0], [0x2000, 0x200b], [0x0d, 0x0d]]],
  [4, [[0x00, 0x09], [0x0b, 0x1f], [0x7f, 0x9f]]],
  [10, [[0xc0, 0x24f], [0x300, 0x36f], [0x1e00, 0x1eff]]],
  [10, [
    [0xff00, 0xffef],
    [0x2150, 0x218f],
    [0x2460, 0x24ff],
    [0xfb00, 0xfb4f],
    [0x3300, 0x33ff],
    [
      0x1d400,
      0x1d7ff,
    ],
    [0xfe30, 0xfe4f],
    [0x2070, 0x209f],
  ]],
  [10, [[0x3040, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0x1100, 0x11ff], [0x3130, 0x318f]]],
  [8, [[0x590, 0x6ff], [0xfb50, 0xfdff], [0xfe70, 0xfeff], [0x900, 0x97f], [0xe00, 0xe7f]]],
  [8, [[0x1f300, 0x1f6ff], [0x1f900, 0x1f9ff], [0x1f1e6, 0x1f1ff], [0xfe0f, 0xfe0f], [
    0x200d,
    0x200d,
  ], [0x1f3fb, 0x1f3ff]]],
  [6, [[0x80, 0xd7ff], [0xe000, 0xfffd]]],
  [6, [[0x0, 0x10ffff]]],
];
const TOTAL = POOLS.reduce((a, p) => a + p[0], 0);

function pick(rng: Rng): number {
  let w = rng.uniform() * TOTAL;
  let pool = POOLS[POOLS.length - 1];
  for (const p of POOLS) {
    if (w < p[0]) {
      pool = p;
      break;
    }
    w -= p[0];
  }
  const [lo, hi] = pool[1][rng.int(pool[1].length)];
  return lo + rng.int(hi - lo + 1);
}

/**
 * Makes `count` random strings of 0–48 code points.
 *
 * @param count how many
 * @param seed PRNG seed
 * @returns the strings (lone surrogates included; never "\n")
 */
export function fuzzStrings(count: number, seed: number): string[] {
  const rng = tokenizerRng(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = rng.int(49);
    let s = "";
    for (let k = 0; k < len; k++) {
      let cp = pick(rng);
      if (cp === 0x0a) cp = 0x20;
      // Lone surrogates are allowed on purpose; String.fromCharCode keeps them as-is.
      s += cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
    }
    out.push(s);
  }
  return out;
}
