import assert from "assert";
import { TINY_WORDS } from "../diffusion/mod.ts";
import { loadDefaultVocabulary } from "../tokenizer/mod.ts";
import { IdentifierError, resolveIdentifier } from "./dreambooth_identifier.ts";

const words = { kind: "words" as const, words: [...TINY_WORDS] };

Deno.test("resolveIdentifier: word tokenizer (tiny) — default sks, given words must be in the vocabulary", async () => {
  const v = await resolveIdentifier(words);
  assert.equal(v.text, "sks");
  assert.equal(v.source, "drawn");
  assert.equal((await resolveIdentifier(words, { identifier: "red" })).source, "given");
  await assert.rejects(
    () => resolveIdentifier(words, { identifier: "zwx" }),
    (e) => e instanceof IdentifierError && /"zwx" is not in its vocabulary/.test(e.message),
  );
  await assert.rejects(() => resolveIdentifier(words, { identifier: "  " }), IdentifierError);
});

Deno.test("resolveIdentifier: T5 — drawn by the paper's rule (seeded), round-trips; a given one is checked", async () => {
  const t5 = { kind: "t5" as const };
  const sp = await loadDefaultVocabulary();
  const a = await resolveIdentifier(t5, { seed: 0 });
  const b = await resolveIdentifier(t5, { seed: 0 });
  assert.deepEqual(a, b);
  assert.equal(a.source, "drawn");
  assert.ok(a.ids.every((id) => id >= 5000 && id <= 10000), `${a.ids}`);
  assert.equal(sp.decode(sp.encode(a.text)), a.text);
  // The drawn identifier given back explicitly round-trips.
  const given = await resolveIdentifier(t5, { identifier: a.text });
  assert.deepEqual(given.ids, a.ids);
  assert.equal(given.source, "given");
  // Full-width letters are NFKC-normalised by T5: they decode to other text.
  await assert.rejects(
    () => resolveIdentifier(t5, { identifier: "ｓｋｓ" }),
    (e) => e instanceof IdentifierError && /does not round-trip/.test(e.message),
  );
});
