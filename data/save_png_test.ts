import assert from "assert";
import { join } from "node:path";
import { loadImage } from "./load_image.ts";
import { savePng } from "./save_png.ts";
import { saveImageGrid } from "./save_image_grid.ts";

Deno.test("savePng round-trips through loadImage within one 8-bit step", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = new Float32Array(5 * 3 * 3).map((_, i) => Math.sin(i) * 0.99);
    const path = join(dir, "sub", "x.png");
    await savePng(path, { data, width: 5, height: 3 });
    const back = await loadImage(path);
    assert.deepEqual([back.width, back.height], [5, 3]);
    for (let i = 0; i < data.length; i++) assert.ok(Math.abs(back.data[i] - data[i]) <= 1 / 127.5);
    await assert.rejects(
      savePng(path, { data, width: 4, height: 3 }),
      /Cannot save PNG as 'image.data' must have width·height·3 = 36 values: current length is 45/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("saveImageGrid lays out cells with labels under them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const im = { data: new Float32Array(10 * 10 * 3).fill(-1), width: 10, height: 10 };
    const path = join(dir, "grid.png");
    await saveImageGrid(path, [im, im, im], {
      columns: 2,
      padding: 2,
      labels: ["a", "b", "c"],
      fontSize: 9,
    });
    const g = await loadImage(path);
    assert.equal(g.width, 2 * 10 + 3 * 2);
    assert.ok(g.height > 2 * 10 + 3 * 2); // room for the labels
    await assert.rejects(saveImageGrid(path, [im], { labels: [] }), /one label per image/);
    await saveImageGrid(path, [im, im], { columns: 2, padding: 0, scale: 3 });
    const big = await loadImage(path);
    assert.deepEqual([big.width, big.height], [60, 30]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
