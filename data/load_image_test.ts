import assert from "assert";
import { join } from "node:path";
import { loadImage } from "./load_image.ts";
import { halves, hugePngHeader, writeImage } from "./_test_fixtures.ts";

const RED = [255, 0, 0], BLUE = [0, 0, 255];

/** Mean RGB in [-1, 1] over a rectangle. */
function mean(
  im: { data: Float32Array; width: number },
  x0: number,
  y0: number,
  x1: number,
  y1: number,
) {
  const m = [0, 0, 0];
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      for (let c = 0; c < 3; c++) m[c] += im.data[(y * im.width + x) * 3 + c];
      n++;
    }
  }
  return m.map((v) => v / n);
}

Deno.test("loadImage honours EXIF orientation (JPEG stored sideways)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "rotated.jpg");
    // Stored 16×8, left red, right blue; orientation 6 = display rotated 90° clockwise.
    await writeImage(path, halves(16, 8, RED, BLUE), 16, 8, 3, "jpeg", 6);
    const im = await loadImage(path);
    assert.equal(im.width, 8);
    assert.equal(im.height, 16);
    const top = mean(im, 0, 1, 8, 6), bottom = mean(im, 0, 10, 8, 15);
    assert.ok(top[0] > 0.8 && top[2] < -0.8, `top should be red: ${top}`);
    assert.ok(bottom[2] > 0.8 && bottom[0] < -0.8, `bottom should be blue: ${bottom}`);
    // Square crop from the centre.
    const sq = await loadImage(path, { size: 4 });
    assert.deepEqual([sq.width, sq.height, sq.data.length], [4, 4, 48]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadImage expands greyscale, flattens alpha onto white, reads WebP", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const grey = join(dir, "grey.png");
    await writeImage(grey, new Uint8Array(8 * 8).fill(51), 8, 8, 1, "png");
    const g = await loadImage(grey, { size: 8 });
    assert.equal(g.data.length, 8 * 8 * 3);
    for (const v of g.data) assert.ok(Math.abs(v - (51 / 127.5 - 1)) < 0.02);

    const alpha = join(dir, "alpha.png");
    // Left half transparent red, right half opaque blue.
    await writeImage(alpha, halves(8, 8, [255, 0, 0, 0], [0, 0, 255, 255], 4), 8, 8, 4, "png");
    const a = await loadImage(alpha);
    assert.deepEqual(mean(a, 0, 0, 4, 8), [1, 1, 1]);
    assert.deepEqual(mean(a, 4, 0, 8, 8), [-1, -1, 1]);

    const webp = join(dir, "x.webp");
    await writeImage(webp, halves(12, 6, RED, BLUE), 12, 6, 3, "webp");
    const w = await loadImage(webp, { size: 6 });
    assert.equal(w.width, 6);
    assert.ok(mean(w, 0, 0, 2, 6)[0] > 0.9 && mean(w, 4, 0, 6, 6)[2] > 0.9);

    const padded = await loadImage(webp, { size: 6, crop: "pad" });
    assert.deepEqual(mean(padded, 0, 0, 6, 1), [1, 1, 1]); // white band above
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadImage gives clear errors: missing file, non-image, huge image, bad options", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      loadImage(join(dir, "nope.png")),
      /Cannot load image '.*nope\.png': file not found/,
    );
    const txt = join(dir, "notes.txt");
    await Deno.writeTextFile(txt, "not an image");
    await assert.rejects(loadImage(txt), /Cannot load image '.*notes\.txt': not an image/);
    const huge = join(dir, "huge.png");
    await Deno.writeFile(huge, hugePngHeader(10000, 10000));
    await assert.rejects(
      loadImage(huge, { size: 64 }),
      /Cannot load image '.*huge\.png' as it has 10000×10000 = 100\.0 megapixels/,
    );
    await assert.rejects(
      loadImage(txt, { size: 0 }),
      /Cannot load image as 'size' must be a positive integer: current value is 0/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
