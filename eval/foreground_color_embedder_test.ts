import assert from "assert";
import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
import { similarityMatrix } from "./image_embedder.ts";
import { squareImage } from "./_test_fixtures.ts";

Deno.test("ForegroundColorEmbedder finds the square and ignores the background", () => {
  const m = new ForegroundColorEmbedder();
  const mask = m.foregroundMask(squareImage(32, [-1, -1, 1], [1, 0, -1], 16));
  assert.equal(mask.reduce((a, b) => a + b, 0), 16 * 16);
  // The same red square on two different backgrounds: identical foreground colours.
  const a = squareImage(32, [-1, -1, 1], [1, -1, -1], 12);
  const b = squareImage(64, [-1, 1, -1], [1, -1, -1], 32);
  const c = squareImage(32, [-1, -1, 1], [-1, 1, 1], 12);
  const e = m.embed([a, b, c]);
  const s = similarityMatrix(e, e, m.dim);
  assert.ok(Math.abs(s[1] - 1) < 1e-6, `same object on other backgrounds: ${s[1]}`);
  assert.ok(s[2] < 0.01, `other colour: ${s[2]}`);
});

Deno.test("ForegroundColorEmbedder gives the zero vector without foreground", () => {
  const m = new ForegroundColorEmbedder({ bins: 4 });
  const flat = { data: new Float32Array(16 * 16 * 3).fill(0.2), width: 16, height: 16 };
  assert.ok(m.embed([flat]).every((x) => x === 0));
  assert.equal(m.dim, 64);
});

Deno.test("ForegroundColorEmbedder validates options and images", () => {
  assert.throws(() => new ForegroundColorEmbedder({ bins: 1 }), /'bins'/);
  assert.throws(() => new ForegroundColorEmbedder({ size: 8, border: 4 }), /'border'/);
  assert.throws(() => new ForegroundColorEmbedder({ threshold: 0 }), /'threshold'/);
  const bad = { data: new Float32Array(5), width: 2, height: 2 };
  assert.throws(() => new ForegroundColorEmbedder().embed([bad]), /images\[0\]/);
});
