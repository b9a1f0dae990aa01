import assert from "assert";
import { Normalizer } from "./normalizer.ts";
import { parseModelProto } from "./model_proto.ts";

const t5 = parseModelProto(Deno.readFileSync(new URL("./assets/t5_spiece.model", import.meta.url)));
const nfkc = t5.normalizerSpec;
const identity = { ...nfkc, name: "identity", precompiledCharsmap: new Uint8Array(0) };

Deno.test("Normalizer applies the nmt_nfkc charsmap and SentencePiece whitespace rules", () => {
  const n = new Normalizer(nfkc);
  assert.equal(n.normalize("  Ｈｅｌｌｏ   ﬁne  "), "▁Hello▁fine");
  assert.equal(n.normalize("Café ①②"), "▁Café▁12");
  assert.equal(n.normalize("a\u3000\u00a0b"), "▁a▁b"); // ideographic and no-break spaces
  assert.equal(n.normalize("x\ty"), "▁x▁y");
  assert.equal(n.normalize(""), "");
  assert.equal(n.normalize("    "), "");
  assert.equal(n.normalize("ｶﾞ"), "▁ガ"); // half-width kana composed
});

Deno.test("Normalizer honours the spec's flags and suffix mode", () => {
  assert.equal(new Normalizer(identity).normalize("  Ｈｉ  there "), "▁Ｈｉ▁there");
  const keep = new Normalizer({ ...identity, removeExtraWhitespaces: false });
  assert.equal(keep.normalize(" a  b "), "▁▁a▁▁b▁");
  const noEscape = new Normalizer({ ...identity, escapeWhitespaces: false });
  assert.equal(noEscape.normalize("a  b"), " a b");
  const noPrefix = new Normalizer({ ...identity, addDummyPrefix: false });
  assert.equal(noPrefix.normalize("a b"), "a▁b");
  const suffix = new Normalizer(identity, { treatWhitespaceAsSuffix: true });
  assert.equal(suffix.normalize("a b"), "a▁b▁");
});

Deno.test("Normalizer replaces each malformed UTF-8 byte with U+FFFD and keeps user symbols", () => {
  const n = new Normalizer(nfkc);
  const len = n.normalizeBytes(new Uint8Array([0x61, 0xff, 0xc3, 0x62]), 4);
  assert.equal(new TextDecoder().decode(n.output.subarray(0, len)), "▁a\ufffd\ufffdb");
  const withUser = new Normalizer(nfkc, { userDefinedSymbols: ["Ｈｉ"] });
  assert.equal(withUser.normalize("Ｈｉ Ｈｏ"), "▁Ｈｉ▁Ho");
  assert.throws(() => n.normalize(42 as unknown as string), TypeError);
});
