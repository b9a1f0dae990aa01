import assert from "assert";
import { explain, withServedCheckout } from "./_url_import.ts";

Deno.test("training/mod.ts and trainer/mod.ts work when imported by URL without this repository's deno.json", async () => {
  await withServedCheckout(async ({ base, scratch, run }) => {
    const r = await run(`
      import { createPretrainConfig } from "${base}training/mod.ts";
      import { lossCurveSvg, runTraining } from "${base}trainer/mod.ts";
      const config = createPretrainConfig({
        cascade: { tokenizer: { kind: "words", words: ["dog"] }, stages: [{ imageSize: 8 }] },
        stage: "base",
      });
      let step = 0;
      const job = {
        get step() { return step; },
        trainStep: () => Promise.resolve({ loss: 1 / ++step, gradNorm: 1, step }),
        checkpoint: () => Promise.resolve({ tensors: new Map(), state: { step } }),
        restore: () => Promise.resolve(),
      };
      const s = await runTraining(job, { runDir: ${
      JSON.stringify(scratch)
    } + "/run", totalSteps: 3, config: {}, log: () => {} });
      console.log(JSON.stringify({ batch: config.batchSize, step: s.step, svg: lossCurveSvg([]).startsWith("<svg") }));
    `);
    assert.ok(r.success, explain(r));
    assert.deepEqual(JSON.parse(r.lastLine), { batch: 16, step: 3, svg: true });
  });
});
