import assert from "assert";
import { encodeFixedLength } from "./fixed_length.ts";
import { loadDefaultVocabulary } from "./default_vocabulary.ts";

const sp = await loadDefaultVocabulary();

Deno.test("encodeFixedLength appends EOS, pads with the pad id and masks real tokens", () => {
  const { ids, mask, truncated } = encodeFixedLength(sp, "a dog on the beach", { length: 10 });
  assert.deepEqual(Array.from(ids), [3, 9, 1782, 30, 8, 2608, 1, 0, 0, 0]);
  assert.deepEqual(Array.from(mask), [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
  assert.equal(truncated, false);
  assert.ok(ids instanceof Int32Array && mask instanceof Uint8Array);
  assert.equal(encodeFixedLength(sp, "x").ids.length, 64);
  assert.deepEqual(Array.from(encodeFixedLength(sp, "", { length: 3 }).ids), [1, 0, 0]);
  assert.deepEqual(Array.from(encodeFixedLength(sp, "a dog", { length: 6, padId: 7 }).ids), [
    3,
    9,
    1782,
    1,
    7,
    7,
  ]);
});

Deno.test("encodeFixedLength truncates so that EOS stays last", () => {
  const { ids, mask, truncated } = encodeFixedLength(sp, "a dog on the beach", { length: 4 });
  assert.deepEqual(Array.from(ids), [3, 9, 1782, 1]);
  assert.deepEqual(Array.from(mask), [1, 1, 1, 1]);
  assert.equal(truncated, true);
  assert.deepEqual(Array.from(encodeFixedLength(sp, "a dog", { length: 1 }).ids), [1]);
  // Exactly fitting text is not truncated.
  assert.equal(encodeFixedLength(sp, "a dog", { length: 4 }).truncated, false);
});

Deno.test("encodeFixedLength validates its arguments", () => {
  assert.throws(() => encodeFixedLength(sp, "a", { length: 0 }), {
    name: "RangeError",
    message:
      "Cannot encode to fixed length as 'length' must be a positive integer: current value is 0",
  });
  assert.throws(() => encodeFixedLength(sp, "a", { length: 2.5 }), RangeError);
  assert.throws(() => encodeFixedLength(sp, "a", { padId: -1 }), /has no <pad>; pass \{ padId \}/);
  assert.throws(() => encodeFixedLength(sp, 5 as unknown as string), TypeError);
  assert.throws(() => encodeFixedLength({} as typeof sp, "a"), TypeError);
});
