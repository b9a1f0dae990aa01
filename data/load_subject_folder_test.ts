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
    await writeImage(
      join(dir, "b.png"),
      halves(64, 64, [255, 0, 0], [0, 255, 0]),
      64,
      64,
      3,
      "png",
    );
    const warnings: string[] = [];
    const one = await loadSubjectFolder(dir, { size: 4, onWarning: (m) => warnings.push(m) });
    assert.equal(one.images.length, 1);
    assert.match(warnings[0], /single image/);
    await writeImage(
      join(dir, "a.jpg"),
      halves(64, 64, [0, 0, 255], [0, 255, 0]),
      64,
      64,
      3,
      "jpeg",
    );
    await writeImage(
      join(dir, "c.webp"),
      halves(64, 64, [0, 0, 255], [0, 255, 0]),
      64,
      64,
      3,
      "webp",
    );
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

Deno.test("loadSubjectFolder refuses photos under 64 px on the short side, naming each file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeImage(
      join(dir, "a.png"),
      halves(64, 64, [255, 0, 0], [0, 255, 0]),
      64,
      64,
      3,
      "png",
    );
    await writeImage(join(dir, "b.png"), halves(1, 1, [255, 0, 0], [0, 255, 0]), 1, 1, 3, "png");
    await writeImage(
      join(dir, "c.jpg"),
      halves(200, 63, [0, 0, 255], [0, 255, 0]),
      200,
      63,
      3,
      "jpeg",
    );
    await writeImage(
      join(dir, "d.png"),
      halves(64, 300, [0, 0, 255], [0, 255, 0]),
      64,
      300,
      3,
      "png",
    );
    await assert.rejects(
      loadSubjectFolder(dir, { size: 32 }),
      (err: Error) => {
        assert.ok(err instanceof RangeError);
        assert.match(
          err.message,
          /^Cannot load subject folder '.*' as photos are smaller than 64 px on the short side: 'b\.png' \(1×1\), 'c\.jpg' \(200×63\) \(DreamBooth learns/,
        );
        assert.doesNotMatch(err.message, /a\.png|d\.png/);
        return true;
      },
    );
    // The floor is an option (a caller with its own rule may lower or raise it).
    const all = await loadSubjectFolder(dir, { size: 8, minSide: 1 });
    assert.equal(all.images.length, 4);
    await assert.rejects(
      loadSubjectFolder(dir, { size: 8, minSide: 65 }),
      /'a\.png' \(64×64\), 'b\.png'/,
    );
    await Deno.remove(join(dir, "b.png"));
    await Deno.remove(join(dir, "c.jpg"));
    assert.equal((await loadSubjectFolder(dir, { size: 16 })).images.length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
