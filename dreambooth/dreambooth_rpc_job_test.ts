import assert from "assert";
import { join } from "node:path";
import { run } from "./dreambooth_rpc_job.ts";

Deno.test("train.start job: λ, method fields and the batch reach the run (issue 33: settable over RPC)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await run({
      preset: "tiny",
      steps: 1,
      numClassImages: 1,
      classSteps: 1,
      priorLossWeight: 0.25,
      instanceBatch: 1,
      finalSamples: false,
      superRes: false,
      sampleEverySteps: 0,
    }, {
      dir,
      signal: new AbortController().signal,
      resume: false,
      progress: () => {},
    }, { log: () => {}, warn: () => {}, cacheDir: join(dir, "cache") });
    const info = JSON.parse(await Deno.readTextFile(join(dir, "dreambooth.json")));
    assert.equal(info.config.priorLossWeight, 0.25);
    assert.equal(info.config.instanceBatch, 1);
    assert.equal(info.method, "dreambooth");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
