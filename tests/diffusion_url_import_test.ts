/**
 * diffusion/mod.ts imported by URL from a scratch folder with `--no-config`: no import map or
 * workspace, so every npm import must be a full `npm:` specifier and every local import relative.
 * Samples one image from the tiny preset and writes a PNG.
 */
import assert from "assert";
import { explain, withServedCheckout } from "./_url_import.ts";

Deno.test("diffusion/mod.ts imports by URL without deno.json and samples an image", async () => {
  await withServedCheckout(async ({ base, scratch, run }) => {
    const r = await run(`import { initBackend } from "${base}backend/mod.ts";
import * as m from "${base}diffusion/mod.ts";
await initBackend({ quiet: true });
using c = await m.createPreset("tiny", { seed: 1 });
const { images } = await c.sample({ prompt: "a red dog", seed: 2, steps: 2, stages: 1 });
await m.writePng("${scratch}/out.png", images[0]);
const t5 = await m.loadT5Tokenizer();
const e = t5.encodeFixed("a dog", 8);
console.log(images[0].width === 32 && e.ids[e.mask.indexOf(0)] === 0 && e.ids[e.mask.indexOf(0) - 1] === 1 ? "OK" : "bad " + images[0].width + " " + e.ids);
Deno.exit(0);
`);
    assert.ok(r.success && r.lastLine === "OK", explain(r));
    assert.ok((await Deno.stat(`${scratch}/out.png`)).size > 0);
  });
});
