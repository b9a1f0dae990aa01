import assert from "assert";
import { diversity } from "./diversity.ts";
import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
import { squareImage } from "./_test_fixtures.ts";

const embedder = new ForegroundColorEmbedder();
const red = squareImage(32, [-1, -1, 1], [1, -1, -1], 12);
const cyan = squareImage(32, [-1, -1, 1], [-1, 1, 1], 12);
const yellow = squareImage(32, [-1, -1, 1], [1, 1, -1], 12);

Deno.test("diversity: identical images give 0, disjoint colours give 1", () => {
  const same = diversity([red, red, red, red], { embedder });
  assert.equal(same.estimate, 0);
  assert.equal(same.high, 0);
  const all = diversity([red, cyan, yellow], { embedder });
  assert.ok(Math.abs(all.estimate - 1) < 1e-6);
  // Two of three alike: pairs (r,r) 0, (r,c) 1, (r,c) 1 → 2/3.
  assert.ok(Math.abs(diversity([red, red, cyan], { embedder }).estimate - 2 / 3) < 1e-6);
});

Deno.test("diversity is deterministic for a seed and validates its inputs", () => {
  const a = diversity([red, cyan, red, yellow, cyan], { embedder, seed: 5 });
  assert.deepEqual(a, diversity([red, cyan, red, yellow, cyan], { embedder, seed: 5 }));
  assert.throws(() => diversity([red], { embedder }), /at least 2 images/);
});
