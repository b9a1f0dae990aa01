import assert from "assert";
import { join } from "node:path";
import { readSceneCache, writeSceneCache } from "./scene_cache.ts";
import { createEmojiScenes } from "./emoji_scenes.ts";

Deno.test("writeSceneCache writes PNGs + manifest, resumes, and reads back the same scenes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const world = await createEmojiScenes();
    await writeSceneCache(dir, { count: 2, size: 16, seed: 5, world });
    const entries = await writeSceneCache(dir, { count: 3, size: 16, seed: 5, world });
    assert.deepEqual(entries.map((e) => e.index), [0, 1, 2]);
    const lines = (await Deno.readTextFile(join(dir, "manifest.jsonl"))).trim().split("\n");
    assert.equal(lines.length, 3);
    const read = [];
    for await (const s of readSceneCache(dir)) read.push(s);
    let i = 0;
    for await (const s of world.scenes({ seed: 5, count: 3, size: 16 })) {
      assert.equal(read[i].caption, s.caption);
      for (let k = 0; k < s.image.data.length; k++) {
        assert.ok(Math.abs(read[i].image.data[k] - s.image.data[k]) <= 1 / 127.5 + 1e-6);
      }
      i++;
    }
    await assert.rejects(
      writeSceneCache(dir, { count: 1, size: 32, seed: 5, world }),
      /holds another stream/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
