import assert from "assert";
import { drawIdentifier, identifierCandidates, isIdentifierPiece } from "./identifier.ts";
import { loadDefaultVocabulary } from "./default_vocabulary.ts";

const sp = await loadDefaultVocabulary();

Deno.test("every member of the T5 pool (ids 5000-10000) obeys the rare-token rule", () => {
  const pool = identifierCandidates(sp);
  assert.equal(pool.length, 1180);
  const inPool = new Set(pool);
  for (let id = 5000; id <= 10000; id++) {
    const piece = sp.idToPiece(id);
    const body = piece.replace(/^\u2581/, "");
    const chars = [...body].length;
    const ok = sp.pieceType(id) === "normal" && chars >= 1 && chars <= 3 &&
      !/[\s\u2581]/u.test(body);
    assert.equal(inPool.has(id), ok, `id ${id} ${JSON.stringify(piece)}`);
  }
  assert.deepEqual(pool, [...pool].sort((a, b) => a - b));
  assert.ok(isIdentifierPiece("▁sks") && isIdentifierPiece("xyz") && !isIdentifierPiece("▁"));
  assert.ok(!isIdentifierPiece("abcd") && !isIdentifierPiece("a b") && !isIdentifierPiece("a▁b"));
  assert.deepEqual(
    identifierCandidates(sp, { range: [5000, 5000] }),
    [5000].filter(() => isIdentifierPiece(sp.idToPiece(5000))),
  );
});

Deno.test("drawIdentifier: seed 0 gives the same identifier every run, and it re-encodes exactly", () => {
  const a = drawIdentifier(sp, { seed: 0 });
  assert.deepEqual(a, drawIdentifier(sp, { seed: 0 }));
  assert.equal(a.text, "Bun Bob");
  assert.deepEqual(a.ids, [6100, 5762]);
  assert.deepEqual(a.pieces, ["▁Bun", "▁Bob"]);
  assert.equal(a.k, 2);
  assert.equal(a.poolSize, 1180);
  const seen = new Set<number>();
  for (let seed = 0; seed < 30; seed++) {
    const v = drawIdentifier(sp, { seed });
    seen.add(v.k);
    assert.deepEqual(sp.encode(v.text), v.ids);
    assert.equal(new Set(v.ids).size, v.k);
    for (const id of v.ids) {
      assert.ok(id >= 5000 && id <= 10000 && isIdentifierPiece(sp.idToPiece(id)));
    }
  }
  assert.deepEqual([...seen].sort(), [1, 2, 3]);
  for (const k of [1, 2, 3]) assert.equal(drawIdentifier(sp, { k, seed: 5 }).k, k);
});

Deno.test("drawIdentifier and identifierCandidates validate their options", () => {
  assert.throws(() => drawIdentifier(sp, { k: 7 }), {
    name: "RangeError",
    message: "Cannot draw identifier as 'k' must be 1, 2 or 3: current value is 7",
  });
  assert.throws(() => drawIdentifier(sp, { seed: 0.5 }), RangeError);
  assert.throws(() => identifierCandidates(sp, { range: [10, 5] }), RangeError);
  assert.throws(() => identifierCandidates(sp, { range: [0, 32000] }), RangeError);
  assert.throws(() => drawIdentifier(sp, { k: 2, range: [0, 0] }), /fewer than 'k'/);
  assert.throws(() => drawIdentifier(null as unknown as typeof sp), TypeError);
});
