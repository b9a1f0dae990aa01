// End to end on the tiny preset: pretraining runs resume exactly (same loss log, equal weights),
// an SR run trains on the base run's frozen encoder, and the export loads as a cascade that samples.
import assert from "assert";
import { join } from "node:path";
import { initBackend, loadCheckpoint, presetConfig, readSafetensors, tf } from "../mod.ts";
import { createEmojiScenes } from "../data/mod.ts";
import { createPretrainConfig, createPretrainJob } from "../training/mod.ts";
import { exportCascade, readLossLog, runTraining } from "../trainer/mod.ts";

await initBackend({ quiet: true });
const world = await createEmojiScenes();
const quiet = { log: () => {}, sampleEverySteps: 0 };

async function train(runDir: string, stage: "base" | "sr1", steps: number, extra: object = {}) {
  const config = createPretrainConfig({
    cascade: presetConfig("tiny"),
    stage,
    batchSize: 2,
    ...(stage === "sr1"
      ? { baseCheckpoint: join(runDir, "..", "a", "checkpoint.safetensors") }
      : {}),
  });
  using job = await createPretrainJob(config, { world });
  return await runTraining(job, { runDir, totalSteps: steps, config, ...quiet, ...extra });
}

Deno.test("pretraining (tiny): interrupted + resumed equals uninterrupted; SR stage; export", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const before = tf.memory().numTensors;
    await train(join(dir, "a"), "base", 6);
    assert.equal(tf.memory().numTensors, before); // the job and its trainer free everything
    const s1 = await train(join(dir, "b"), "base", 3); // "interrupted" at step 3
    assert.equal(s1.step, 3);
    const s2 = await train(join(dir, "b"), "base", 6, { resume: true });
    assert.equal(s2.startStep, 3);
    const strip = (p: { step: number; loss: number }[]) =>
      p.map(({ step, loss }) => ({ step, loss }));
    const logA = strip(await readLossLog(join(dir, "a", "loss.jsonl")));
    assert.equal(logA.length, 6);
    assert.deepEqual(strip(await readLossLog(join(dir, "b", "loss.jsonl"))), logA);
    const wa = await readSafetensors(join(dir, "a", "checkpoint.safetensors"));
    const wb = await readSafetensors(join(dir, "b", "checkpoint.safetensors"));
    assert.deepEqual([...wb.tensors.keys()], [...wa.tensors.keys()]);
    for (const [k, t] of wa.tensors) assert.deepEqual(wb.tensors.get(k)!.data, t.data, k);
    assert.ok([...wa.tensors.keys()].some((k) => k.startsWith("optimizer.m.text_encoder.")));

    // SR stage on the base run's frozen encoder.
    const sr = await train(join(dir, "sr"), "sr1", 2);
    assert.equal(sr.step, 2);
    const srCkpt = await readSafetensors(join(dir, "sr", "checkpoint.safetensors"));
    const enc = "text_encoder.shared.weight";
    assert.deepEqual(srCkpt.tensors.get(enc)!.data, wa.tensors.get(enc)!.data);
    assert.ok(![...srCkpt.tensors.keys()].some((k) => k.startsWith("optimizer.m.text_encoder.")));

    // Export base + SR as one float16 cascade that loads and samples.
    const out = join(dir, "model");
    const r = await exportCascade([join(dir, "a"), join(dir, "sr")], out);
    assert.deepEqual(r.stages.map((s) => [s.stage, s.step, s.imageSize]), [["base", 6, 32], [
      "sr1",
      2,
      128,
    ]]);
    const { kind, model } = await loadCheckpoint(r.path);
    assert.equal(kind, "cascade");
    if (kind === "cascade") {
      const { images } = await model.sample({ prompt: "a teapot on the beach", steps: 2 });
      assert.equal(images[0].width, 128);
    }
    model.dispose();
    // --init-from: a fresh run starts from the exported (float16) weights.
    const warm = createPretrainConfig({
      cascade: presetConfig("tiny"),
      stage: "base",
      batchSize: 2,
      initFrom: r.path,
    });
    {
      using job = await createPretrainJob(warm, { world });
      const got = await job.cascade.textEncoder.exportWeights();
      const want = wa.tensors.get(enc)!.data as Float32Array;
      const have = got.get("shared.weight")!.data as Float32Array;
      assert.ok(
        have.every((v, k) => Math.abs(v - want[k]) <= 1e-3 * Math.max(1, Math.abs(want[k]))),
      );
      assert.equal(job.step, 0);
    }
    // An SR run started from the export keeps its UNet but takes the base run's encoder (float32
    // run 'a'), not the export's float16 copy: the cascade's text encoder is the base run's.
    {
      const srWarm = createPretrainConfig({
        cascade: presetConfig("tiny"),
        stage: "sr1",
        batchSize: 2,
        initFrom: r.path,
        baseCheckpoint: join(dir, "a", "checkpoint.safetensors"),
      });
      using job = await createPretrainJob(srWarm, { world });
      const got = await job.cascade.textEncoder.exportWeights();
      assert.deepEqual(got.get("shared.weight")!.data, wa.tensors.get(enc)!.data);
      // Every UNet tensor is the SR run's, up to float16 rounding (relative 2^-11): far tighter
      // than the ~lr each of its 2 Adam steps moved a weight away from a fresh initialisation.
      const u = await job.cascade.stages[1].unet.exportWeights();
      assert.ok(u.size > 0);
      for (const [name, t] of u) {
        const want = srCkpt.tensors.get(`stages.1.${name}`)!.data as Float32Array;
        const have = t.data as Float32Array;
        assert.equal(have.length, want.length, name);
        assert.ok(
          have.every((v, k) => Math.abs(v - want[k]) <= 1e-3 * Math.abs(want[k]) + 1e-6),
          name,
        );
      }
    }
    const meta = JSON.parse(await Deno.readTextFile(join(out, "model.json")));
    assert.equal(meta.dtype, "F16");
    // The base (and text encoder) from an exported cascade instead of a base run: the SR run
    // exports beside it, its base step is the file's, and the weights are the file's and the run's.
    {
      const notes: string[] = [];
      const out2 = join(dir, "model_from_export");
      const r2 = await exportCascade([r.path, join(dir, "sr")], out2, {
        dtype: "F32",
        warn: (l) => notes.push(l),
      });
      assert.deepEqual(r2.stages.map((s) => [s.stage, s.step, s.lossEma]), [
        ["base", 6, null],
        ["sr1", 2, r.stages[1].lossEma],
      ]);
      // 'sr' trained on run a's float32 encoder, the file holds its float16 copy.
      assert.equal(notes.length, 1);
      assert.match(
        notes[0],
        /differs from the one in '.*cascade.safetensors' .*not trained against this file/,
      );
      const a = await readSafetensors(r.path), b = await readSafetensors(r2.path);
      for (const name of [enc, ...[...a.tensors.keys()].filter((k) => k.startsWith("stages.0."))]) {
        assert.deepEqual(b.tensors.get(name)!.data, a.tensors.get(name)!.data, name);
      }
      for (const [name, t] of srCkpt.tensors) {
        if (name.startsWith("stages.1.")) assert.deepEqual(b.tensors.get(name)!.data, t.data, name);
      }
      await assert.rejects(
        () => exportCascade([join(dir, "a", "checkpoint.safetensors"), join(dir, "sr")], out2),
        /is not an exported cascade \(its metadata kind is 'undefined'\)/,
      );
      await assert.rejects(
        () => exportCascade([join(dir, "a"), r.path], out2),
        /is a file in place of SR stage 1: only the base \(the first entry\)/,
      );
      await assert.rejects(
        () => exportCascade([join(dir, "nope.safetensors")], out2),
        /the base cascade '.*nope.safetensors' does not exist/,
      );
    }
    await assert.rejects(() => exportCascade([join(dir, "sr")], out), /is not stage 0/);
    await assert.rejects(
      () => exportCascade([join(dir, "a")], out, { maxBytes: 10 }),
      /over 'maxBytes'/,
    );
    await assert.rejects(() => exportCascade([join(dir, "nope")], out), /has no checkpoint/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
