import assert from "assert";
import { join } from "node:path";
import { loadSubjectFolder } from "./load_subject_folder.ts";
import { halves, writeImage } from "./_test_fixtures.ts";

Deno.test("loadSubjectFolder reads images sorted, and errors clearly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      loadSubjectFolder(join(dir, "missing"), { size: 8 }),
      /Cannot load subject folder '.*missing': folder not found/,
    );
    await assert.rejects(loadSubjectFolder(dir, { size: 8 }), /holds no images/);
    await writeImage(join(dir, "b.png"), halves(8, 8, [255, 0, 0], [0, 255, 0]), 8, 8, 3, "png");
    const warnings: string[] = [];
    const one = await loadSubjectFolder(dir, { size: 4, onWarning: (m) => warnings.push(m) });
    assert.equal(one.images.length, 1);
    assert.match(warnings[0], /single image/);
    await writeImage(join(dir, "a.jpg"), halves(8, 8, [0, 0, 255], [0, 255, 0]), 8, 8, 3, "jpeg");
    await writeImage(join(dir, "c.webp"), halves(8, 8, [0, 0, 255], [0, 255, 0]), 8, 8, 3, "webp");
    await Deno.writeTextFile(join(dir, ".DS_Store"), "hidden files are skipped");
    const three = await loadSubjectFolder(dir, { size: 4, onWarning: () => assert.fail() });
    assert.deepEqual(three.paths.map((p) => p.split("/").pop()), ["a.jpg", "b.png", "c.webp"]);
    assert.ok(three.images.every((im) => im.width === 4 && im.height === 4));
    await Deno.writeTextFile(join(dir, "notes.txt"), "x");
    await Deno.writeTextFile(join(dir, "model.bin"), "x");
    await assert.rejects(
      loadSubjectFolder(dir, { size: 4 }),
      /holds files that are not JPEG\/PNG\/WebP images: 'model\.bin', 'notes\.txt'/,
    );
    await assert.rejects(
      loadSubjectFolder(dir, { size: 0 }),
      /'size' must be a positive integer: current value is 0/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
