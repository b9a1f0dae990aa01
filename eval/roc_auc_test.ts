import assert from "assert";
import { rocAuc } from "./roc_auc.ts";

Deno.test("rocAuc: perfect, reversed, chance and ties", () => {
  assert.equal(rocAuc([3, 4], [1, 2]), 1);
  assert.equal(rocAuc([1, 2], [3, 4]), 0);
  assert.equal(rocAuc([1, 1], [1, 1]), 0.5);
  assert.equal(rocAuc([0.9, 0.8], [0.1, 0.85]), 0.75);
});

Deno.test("rocAuc matches the pairwise definition on random scores", () => {
  let s = 1;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const p = Array.from({ length: 40 }, () => Math.round(r() * 10) / 10 + 0.1);
  const n = Array.from({ length: 30 }, () => Math.round(r() * 10) / 10);
  let wins = 0;
  for (const a of p) for (const b of n) wins += a > b ? 1 : a === b ? 0.5 : 0;
  assert.ok(Math.abs(rocAuc(p, n) - wins / (p.length * n.length)) < 1e-12);
});

Deno.test("rocAuc rejects empty inputs", () => {
  assert.throws(() => rocAuc([], [1]), /must be non-empty/);
});
