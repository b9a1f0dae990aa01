import assert from "assert";
import { join } from "node:path";
import { createPreset, initBackend, tf } from "./deps.ts";
import { saveCheckpoint } from "../diffusion/mod.ts";
import { type EvalProgress, runEval } from "./run_eval.ts";

await initBackend({ quiet: true });

Deno.test("runEval: the real-images row writes the report, reports progress, leaks no tensors", async () => {
  const out = await Deno.makeTempDir();
  try {
    const before = tf.memory().numTensors;
    const seen: EvalProgress[] = [];
    const r = await runEval(
      { model: "real", out, samples: 1, pres: 2, prompts: 2, subject: "cat" },
      { onProgress: (p) => seen.push(p) },
    );
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(seen.map((p) => [p.done, p.total]), [[1, 3], [2, 3], [3, 3]]);
    assert.equal(seen[2].etaS, 0);
    assert.ok(seen.every((p) => p.elapsedS >= 0 && typeof p.prompt === "string"));
    assert.equal(r.files.json, join(out, "metrics.json"));
    assert.equal(r.subject, "cat");
    assert.equal(r.prompts, 2);
    const json = JSON.parse(await Deno.readTextFile(r.files.json));
    assert.equal(json.prompts.length, 2);
    assert.equal(json.info.model, "real");
    await Deno.stat(r.files.html);
    assert.ok(r.files.grids.length >= 2);
    assert.ok(r.summary.subjectFidelity.estimate > 0.5, "real images resemble themselves");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("runEval: cancellation and bad options are refused with clear errors", async () => {
  const out = join(await Deno.makeTempDir(), "report");
  try {
    const controller = new AbortController();
    controller.abort(new Error("stopped by the test"));
    await assert.rejects(
      runEval({ model: "real", out }, { signal: controller.signal }),
      /stopped by the test/,
    );
    // Cancelled after the first prompt: no report written.
    const later = new AbortController();
    await assert.rejects(
      runEval({ model: "real", out, samples: 1, pres: 1, prompts: 3 }, {
        signal: later.signal,
        onProgress: () => later.abort(new Error("after one prompt")),
      }),
      /after one prompt/,
    );
    await assert.rejects(Deno.stat(join(out, "metrics.json")), Deno.errors.NotFound);
    await assert.rejects(runEval({ model: "real", out, samples: 0 }), /'samples' must be/);
    await assert.rejects(runEval({ model: "real", out, seed: -1 }), /'seed' must be/);
    await assert.rejects(runEval({ model: "real", out, guidance: NaN }), /'guidance' must be/);
    await assert.rejects(runEval({ model: "preset:nope", out }), /preset 'nope'/);
    await assert.rejects(runEval({ model: "/no/such/model", out }), /does not exist/);
    await assert.rejects(runEval({ model: "real", out, subject: out }), /'classNoun' is required/);
  } finally {
    await Deno.remove(join(out, ".."), { recursive: true });
  }
});

Deno.test({
  name: "runEval: a DreamBooth model folder (model.safetensors beside checkpoint.safetensors)",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      {
        using cascade = await createPreset("tiny");
        await saveCheckpoint(join(dir, "model.safetensors"), cascade);
      }
      await Deno.writeTextFile(join(dir, "checkpoint.safetensors"), "not read");
      const r = await runEval({
        model: dir,
        out: join(dir, "report"),
        samples: 1,
        pres: 1,
        prompts: 1,
        steps: 1,
      });
      const json = JSON.parse(await Deno.readTextFile(r.files.json));
      assert.equal(json.prompts.length, 1);
      assert.equal(json.info.model, dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "runEval: the base keeps its sampler steps, super-resolution stages take srSteps",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const common = { model: "preset:tiny", samples: 1, pres: 1, prompts: 1 } as const;
      const r = await runEval({ ...common, out: join(dir, "a"), srSteps: 2 });
      const json = JSON.parse(await Deno.readTextFile(r.files.json));
      assert.equal(json.info["sampler steps per stage"], "20, 2");
      // `steps` sets every stage; a stage's own count caps srSteps.
      const s = await runEval({ ...common, out: join(dir, "b"), steps: 1 });
      assert.equal(
        JSON.parse(await Deno.readTextFile(s.files.json)).info["sampler steps per stage"],
        "1, 1",
      );
      const t = await runEval({ ...common, out: join(dir, "c"), srSteps: 50, stages: 2 });
      assert.equal(
        JSON.parse(await Deno.readTextFile(t.files.json)).info["sampler steps per stage"],
        "20, 10",
      );
      await assert.rejects(
        runEval({ ...common, out: join(dir, "d"), srSteps: 0 }),
        /'srSteps' must be an integer ≥ 1/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
