/**
 * Issue 32 item 5: one identifier rule for every entry point. A tiny DreamBooth run writes its
 * identifier and class noun into the model's metadata; `deno task sample` fills `{identifier}` and
 * `{class}` from it, `deno task eval` scores prompts with it and `deno task train-sr` trains on it,
 * unless told otherwise.
 */
import assert from "assert";
import { join } from "node:path";
import { initBackend } from "../backend/mod.ts";
import { readModelSubject } from "../diffusion/mod.ts";
import { main as sampleMain } from "../diffusion/cli.ts";
import { trainDreamBooth } from "../dreambooth/mod.ts";
import { runEval } from "../eval/mod.ts";
import { fineTuneSuperRes } from "../superres/mod.ts";
import { run as runSampleJob } from "../rpc/methods/sample_worker.ts";

await initBackend({ quiet: true });

async function captured(f: () => Promise<number>): Promise<{ code: number; text: string }> {
  const error = console.error, log = console.log;
  let text = "";
  console.error = console.log = (...a: unknown[]) => text += a.join(" ") + "\n";
  try {
    return { code: await f(), text };
  } finally {
    console.error = error;
    console.log = log;
  }
}

Deno.test("train tiny → sample, eval and train-sr pick up the model's identifier and class noun", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const out = join(tmp, "model");
    // Not the defaults ("sks", the dog's "dog"), so that picking them up shows.
    const lines: string[] = [];
    await trainDreamBooth({
      model: "preset:tiny",
      out,
      cacheDir: join(tmp, "cache"),
      identifier: "red",
      classNoun: "cat",
      steps: 1,
      numClassImages: 1,
      classSteps: 1,
      instanceBatch: 1,
      sampleEverySteps: 0,
      finalSamples: false,
      superRes: false,
      log: (l) => lines.push(l),
      warn: () => {},
    });
    assert.deepEqual(await readModelSubject(out), {
      identifier: "red",
      classNoun: "cat",
      instancePrompt: "a red cat",
    });

    // sample: the placeholders are filled in from the metadata.
    const png = join(tmp, "s.png");
    const s = await captured(() =>
      sampleMain([
        "sample",
        "--model",
        out,
        "--prompt",
        "a {identifier} {class} on the beach",
        "--steps",
        "1",
        "--out",
        png,
      ])
    );
    assert.equal(s.code, 0, s.text);
    assert.match(s.text, /identifier "red", class "cat" → prompt "a red cat on the beach"/);
    // A base model has none: a placeholder is refused by name.
    const base = await captured(() =>
      sampleMain(["sample", "--preset", "tiny", "--prompt", "a [V] dog", "--out", png])
    );
    assert.equal(base.code, 2, base.text);
    assert.match(base.text, /'--prompt' uses \{identifier\}, \[V\] or \{class\}/);

    // The RPC sample job: the same rule (model under the data root).
    const rel = join("jobs", "j1");
    await Deno.mkdir(join(tmp, rel), { recursive: true });
    const ctx = {
      id: "j1",
      signal: new AbortController().signal,
      dir: join(tmp, rel),
      relDir: rel,
      dataRoot: await Deno.realPath(tmp),
      resume: false,
      data: null,
      progress: () => {},
    };
    const rpc = await runSampleJob(
      { prompt: "a {identifier} {class}", model: "model/model.safetensors", steps: 1, stages: 1 },
      ctx,
    );
    assert.equal(rpc.prompt, "a red cat");
    await assert.rejects(
      () => runSampleJob({ prompt: "a [V] dog", preset: "tiny", steps: 1, stages: 1 }, ctx),
      /'prompt' uses \{identifier\}, \[V\] or \{class\}/,
    );

    // eval: the prompts use the model's identifier and class noun.
    const r = await runEval({
      model: out,
      out: join(tmp, "eval"),
      samples: 1,
      pres: 1,
      prompts: 1,
      steps: 1,
      stages: 1,
    });
    const m = JSON.parse(await Deno.readTextFile(r.files.json));
    assert.equal(m.identifier, "red");
    assert.equal(m.subject.classNoun, "cat");
    assert.match(m.prompts[0].prompt, /^a red cat /);
    // Told otherwise, it uses what it is told.
    const told = await runEval({
      model: out,
      out: join(tmp, "eval2"),
      identifier: "sks",
      classNoun: "dog",
      samples: 1,
      pres: 1,
      prompts: 1,
      steps: 1,
      stages: 1,
    });
    const m2 = JSON.parse(await Deno.readTextFile(told.files.json));
    assert.match(m2.prompts[0].prompt, /^a sks dog /);

    // train-sr: trains on "a red cat".
    lines.length = 0;
    const sr = await fineTuneSuperRes(join(out, "model.safetensors"), {
      steps: 1,
      batchSize: 1,
      cropSize: { "1": 32 },
      runDir: join(tmp, "sr"),
      sampleSteps: 0,
      save: false,
      log: (l) => lines.push(l),
    });
    assert.equal(sr.config.identifier, "red");
    assert.equal(sr.config.classNoun, "cat");
    assert.ok(lines.some((l) => /identifier "red", class "cat"/.test(l)), lines.join("\n"));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
