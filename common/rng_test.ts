import assert from "assert";
import { fmix32, hashInts, Rng } from "./mod.ts";

// The values below were drawn from the three generators before they became one class (diffusion's
// xoshiro128** Rng, data's sfc32 Rng, tokenizer's mulberry32 at main 2b043ec): the streams behind
// the golden test, the world scenes and the identifiers must not move.
Deno.test("Rng xoshiro128** (the default) keeps diffusion's stream", () => {
  const x = new Rng(42);
  assert.deepEqual(
    [x.nextUint32(), x.uniform(), x.int(1000), x.normal(), x.normal(), x.fork(3).nextUint32()],
    [3704290710, 0.03882523794263615, 340, -1.085160812123952, -0.21664029222513817, 266578456],
  );
});

Deno.test("Rng sfc32 keeps the EmojiScenes world's stream", () => {
  const s = new Rng(42, { algorithm: "sfc32" });
  assert.deepEqual(
    [s.uniform(), s.uniform(2, 5), s.int(1000), s.boundedNormal(), s.chance(0.5)],
    [0.25562830339185894, 3.2765046677086502, 3, 0.31803883846447856, false],
  );
});

Deno.test("Rng mulberry32 keeps the tokenizer's and eval's stream", () => {
  const m = new Rng(42, { algorithm: "mulberry32" });
  assert.deepEqual([m.uniform(), m.uniform(), m.uniform()], [
    0.6011037519201636,
    0.44829055899754167,
    0.8524657934904099,
  ]);
});

Deno.test("Rng forks keep their core; pick, chance and normals are seeded", () => {
  const a = new Rng(5, { algorithm: "sfc32" });
  assert.equal(a.fork(1).algorithm, "sfc32");
  assert.equal(new Rng(9).pick(["a", "b", "c"]), new Rng(9).pick(["a", "b", "c"]));
  assert.deepEqual(new Rng(3).normals(4, 2), new Rng(3).normals(4, 2));
  assert.notEqual(hashInts(1, 2), hashInts(2, 1));
  assert.notEqual(fmix32(1), fmix32(2));
});

Deno.test("Rng rejects an unknown algorithm and a non-finite seed, naming them", () => {
  assert.throws(() => new Rng(1, { algorithm: "pcg" as never }), /options\.algorithm.*pcg/);
  assert.throws(() => new Rng(Number.NaN), /seed.*NaN/);
});
