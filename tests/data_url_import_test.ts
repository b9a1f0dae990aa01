import assert from "assert";
import { explain, withServedCheckout } from "./_url_import.ts";

Deno.test("data/mod.ts works when imported by URL without this repository's deno.json", async () => {
  await withServedCheckout(async ({ base, scratch, run }) => {
    const r = await run(`
      import { createEmojiScenes, defaultSubject, loadImage, savePng, sceneCaption } from "${base}data/mod.ts";
      const path = ${JSON.stringify(scratch)} + "/x.png";
      await savePng(path, { data: new Float32Array(2 * 2 * 3), width: 2, height: 2 });
      const im = await loadImage(path);
      const world = await createEmojiScenes();
      const spec = world.sample(1);
      const scene = await world.render(spec, { size: 16 });
      console.log(JSON.stringify({
        caption: sceneCaption("dog", { context: "beach" }),
        width: im.width,
        scene: scene.width,
        subject: defaultSubject().dir,
      }));
    `);
    assert.ok(r.success, explain(r));
    assert.deepEqual(JSON.parse(r.lastLine), {
      caption: "a dog on the beach",
      width: 2,
      scene: 16,
      subject: `${base}data/subjects/dog/`,
    });
  });
});
