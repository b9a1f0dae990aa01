/**
 * `deno task bench tokenizer`: encode throughput (lines/s) on botchan.txt with the T5 vocabulary,
 * ours (tokenizer/) against the emscripten build of the reference library
 * (`@sctg/sentencepiece-js`, dev-only), measured in the same run, alternating rounds, median of
 * each. Also checks that both produce the same ids on every line.
 *
 * Corpus: ../shared/data/spm/botchan.txt (or $SPM_DATA_DIR/botchan.txt).
 *
 * @module
 */
import { SentencePieceProcessor as Reference } from "@sctg/sentencepiece-js";
import { loadDefaultVocabulary } from "../tokenizer/mod.ts";

function encodeBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

const dataDir = Deno.env.get("SPM_DATA_DIR") ??
  new URL("../../shared/data/spm", import.meta.url).pathname;
const corpus = `${dataDir}/botchan.txt`;
const lines = Deno.readTextFileSync(corpus).split("\n");
if (lines.at(-1) === "") lines.pop();
const bytes = lines.reduce((a, l) => a + l.length, 0);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 7);

let t = performance.now();
const ours = await loadDefaultVocabulary();
const oursLoadMs = performance.now() - t;

t = performance.now();
const ref = new Reference();
const modelBytes = Deno.readFileSync(
  new URL("../tokenizer/assets/t5_spiece.model", import.meta.url),
);
await ref.loadFromB64StringModel(encodeBase64(modelBytes));
const refLoadMs = performance.now() - t;

let agree = 0;
for (const line of lines) {
  const a = ours.encode(line);
  const b = Array.from(ref.encodeIds(line) as ArrayLike<number>);
  if (a.length === b.length && a.every((x, i) => x === b[i])) agree++;
}

function pass(encode: (s: string) => unknown): number {
  const t0 = performance.now();
  for (const line of lines) encode(line);
  return lines.length / ((performance.now() - t0) / 1000);
}
const oursEncode = (s: string) => ours.encode(s);
const refEncode = (s: string) => ref.encodeIds(s);
pass(oursEncode);
pass(refEncode);
const oursRates: number[] = [];
const refRates: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  oursRates.push(pass(oursEncode));
  refRates.push(pass(refEncode));
}
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const o = median(oursRates);
const s = median(refRates);
const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
console.log(
  `corpus: ${corpus} (${lines.length} lines, ${fmt(bytes)} chars); model: T5 spiece (32000 pieces)`,
);
console.log(`same ids as @sctg/sentencepiece-js on ${agree}/${lines.length} lines`);
console.log(
  `load: ours ${oursLoadMs.toFixed(0)} ms, @sctg/sentencepiece-js ${refLoadMs.toFixed(0)} ms`,
);
console.log(
  `encode, median of ${ROUNDS} alternating rounds: ours ${fmt(o)} lines/s, ` +
    `@sctg/sentencepiece-js (emscripten C++) ${fmt(s)} lines/s, ratio ${(o / s).toFixed(2)}x`,
);
