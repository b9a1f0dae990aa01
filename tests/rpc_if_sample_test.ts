/**
 * Issue 31, deliver 3 (RPC): the `sample` job samples a DeepFloyd IF model named by `model`
 * (a stage I folder under the data root) with `srModel` (stage II), and refuses IF-only params
 * with a cascade checkpoint.
 */
import assert from "assert";
import { join } from "node:path";
import { initBackend } from "../backend/mod.ts";
import { DataRoot, sampleJobKind, trainJobKind } from "../rpc/mod.ts";
import { run as runSampleJob } from "../rpc/methods/sample_worker.ts";

await initBackend({ quiet: true });

const tiny = new URL("../deepfloyd/testdata/", import.meta.url).pathname;

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyDir(join(from, e.name), join(to, e.name));
    else await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

Deno.test("rpc sample/train.start: model + srModel naming IF folders under the data root (or hf:) are accepted; sample gives stage II's size", async () => {
  const tmp = await Deno.realPath(await Deno.makeTempDir());
  try {
    await copyDir(`${tiny}if_tiny_i`, join(tmp, "if_i"));
    await copyDir(`${tiny}if_tiny_ii`, join(tmp, "if_ii"));
    const rel = join("jobs", "j1");
    await Deno.mkdir(join(tmp, rel), { recursive: true });
    const ctx = {
      id: "j1",
      signal: new AbortController().signal,
      dir: join(tmp, rel),
      relDir: rel,
      dataRoot: tmp,
      resume: false,
      data: null,
      progress: () => {},
    };
    const params = {
      prompt: "a photo of a dog",
      model: "if_i",
      srModel: "if_ii",
      steps: 2,
      srSteps: 2,
    };
    const kind = sampleJobKind();
    const root = await DataRoot.open(tmp);
    await kind.prepare!(params, { dataRoot: root });
    const r = await runSampleJob(params, ctx);
    assert.equal(r.file, `${rel}/sample.png`);
    assert.deepEqual([r.width, r.height], [16, 16]);
    // IF-only params with a cascade checkpoint, and a model outside any known format: refused.
    await Deno.writeTextFile(join(tmp, "x.safetensors"), "");
    await assert.rejects(
      async () =>
        await kind.prepare!({ prompt: "x", model: "x.safetensors", srSteps: 2 }, {
          dataRoot: root,
        }),
      /srSteps/,
    );
    await assert.rejects(
      async () => await kind.prepare!({ prompt: "x", model: "jobs" }, { dataRoot: root }),
      /DeepFloyd IF folder/,
    );
    // train.start: `model`/`srModel` may be hf: sources (not paths) or folders under the data root.
    const train = trainJobKind();
    await train.prepare!(
      { model: "hf:DeepFloyd/IF-I-M-v1.0", srModel: "if_ii", method: "lora" } as never,
      { dataRoot: root },
    );
    await assert.rejects(
      async () =>
        await train.prepare!({ model: "if_i", srModel: "nowhere" } as never, { dataRoot: root }),
      /srModel/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
