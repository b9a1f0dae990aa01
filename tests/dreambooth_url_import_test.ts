import assert from "assert";
import { explain, withServedCheckout } from "./_url_import.ts";

Deno.test("dreambooth/mod.ts works when imported by URL without this repository's deno.json", async () => {
  await withServedCheckout(async ({ base, run }) => {
    const r = await run(`
      import { createDreamBoothConfig, dreamboothPrompts } from "${base}dreambooth/mod.ts";
      const c = createDreamBoothConfig({ identifier: "sks", classNoun: "dog", priorLossWeight: 0.5 });
      console.log(JSON.stringify({ prompt: c.instancePrompt, lambda: c.priorLossWeight, n: dreamboothPrompts("sks", "dog").length }));
    `);
    assert.ok(r.success, explain(r));
    assert.deepEqual(JSON.parse(r.lastLine), { prompt: "a sks dog", lambda: 0.5, n: 8 });
  });
});
