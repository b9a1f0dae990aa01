import assert from "assert";
import { bootstrapCi } from "./bootstrap_ci.ts";

Deno.test("bootstrapCi is deterministic for a seed and differs across seeds", () => {
  const v = Array.from({ length: 50 }, (_, i) => Math.sin(i) * 0.5 + 0.5);
  assert.deepEqual(bootstrapCi(v, { seed: 3 }), bootstrapCi(v, { seed: 3 }));
  assert.notDeepEqual(bootstrapCi(v, { seed: 3 }), bootstrapCi(v, { seed: 4 }));
});

Deno.test("bootstrapCi brackets the mean and shrinks with more data", () => {
  const small = Array.from({ length: 10 }, (_, i) => i % 2);
  const large = Array.from({ length: 1000 }, (_, i) => i % 2);
  const a = bootstrapCi(small, { seed: 1 }), b = bootstrapCi(large, { seed: 1 });
  assert.equal(a.estimate, 0.5);
  assert.ok(a.low <= 0.5 && a.high >= 0.5);
  assert.ok(b.high - b.low < (a.high - a.low) / 3);
  assert.equal(b.level, 0.95);
  assert.equal(b.n, 1000);
});

Deno.test("bootstrapCi of constant values is the point", () => {
  const c = bootstrapCi([0.7, 0.7, 0.7], { seed: 0 });
  assert.ok(Math.abs(c.low - 0.7) < 1e-12 && Math.abs(c.high - 0.7) < 1e-12);
});

Deno.test("bootstrapCi takes a custom statistic over indices", () => {
  const c = bootstrapCi([5, 6, 7], { statistic: (idx) => idx.length, resamples: 10 });
  assert.equal(c.estimate, 3);
  assert.equal(c.low, 3);
});

Deno.test("bootstrapCi validates its inputs", () => {
  assert.throws(() => bootstrapCi([]), /'values' must be a non-empty array/);
  assert.throws(() => bootstrapCi([1], { resamples: 0 }), /'resamples'/);
  assert.throws(() => bootstrapCi([1], { level: 1 }), /'level'/);
});
