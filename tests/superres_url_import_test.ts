import assert from "assert";
import { explain, withServedCheckout } from "./_url_import.ts";

Deno.test("superres/mod.ts works when imported by URL without this repository's deno.json", async () => {
  await withServedCheckout(async ({ base, scratch, run }) => {
    const r = await run(`
      import { createSrFineTuneConfig, fineTuneSuperRes, srPrompt } from "${base}superres/mod.ts";
      import { initBackend } from "${base}backend/mod.ts";
      await initBackend({ quiet: true });
      const im = { data: new Float32Array(128 * 128 * 3), width: 128, height: 128 };
      const r = await fineTuneSuperRes("preset:tiny", {
        images: [im], steps: 1, batchSize: 1, cropSize: { "1": 32 }, sampleSteps: 0,
        runDir: ${JSON.stringify(scratch)} + "/run", log: () => {},
      });
      console.log(JSON.stringify({ done: r.done, prompt: srPrompt(createSrFineTuneConfig()) }));
    `);
    assert.ok(r.success, explain(r));
    assert.deepEqual(JSON.parse(r.lastLine), { done: true, prompt: "a sks dog" });
  });
});
