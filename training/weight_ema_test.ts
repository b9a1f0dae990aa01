import assert from "assert";
import { join } from "node:path";
import { createEmojiScenes, initBackend, presetConfig, readSafetensors, tf } from "./deps.ts";
import { emaDecayAt, WeightEma } from "./weight_ema.ts";
import { createPretrainConfig, createPretrainJob } from "./pretrain_job.ts";
import { exportCascade } from "./export_cascade.ts";
import { runTraining } from "./training_run.ts";

const f32 = (t: { data: unknown }) => t.data as Float32Array;

Deno.test("WeightEma: the warm-up decay and the average, hand-computed, without leaks", async () => {
  await initBackend({ quiet: true });
  assert.equal(emaDecayAt(0.999, 1), 2 / 11);
  assert.equal(emaDecayAt(0.999, 10), 11 / 20);
  assert.equal(emaDecayAt(0.9, 1000), 0.9);
  const before = tf.memory().numTensors;
  const w = tf.tidy(() => tf.variable(tf.tensor1d([0, 10])));
  {
    using ema = new WeightEma([["w", w]], 0.28);
    // s0 = w0 = [0, 10]; after each step w is set, then s ← d s + (1 − d) w.
    const ws = [[1, 8], [2, 6], [4, 0]];
    const ds = [2 / 11, 3 / 12, 0.28]; // min(0.28, (1 + n)/(10 + n)): the cap from n = 3 on
    let s = [0, 10];
    for (const [k, v] of ws.entries()) {
      tf.tidy(() => w.assign(tf.tensor1d(v)));
      ema.update();
      s = s.map((x, j) => ds[k] * x + (1 - ds[k]) * v[j]);
    }
    assert.equal(ema.updates, 3);
    const got = f32((await ema.export()).get("ema.w")!);
    got.forEach((x, j) => assert.ok(Math.abs(x - s[j]) < 1e-6, `${x} vs ${s[j]}`));
    // The raw weights are left alone.
    assert.deepEqual([...w.dataSync()], [4, 0]);
  }
  w.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("WeightEma: load restores the shadow and the count; bad input is refused by name", async () => {
  await initBackend({ quiet: true });
  const w = tf.variable(tf.tensor2d([[1, 2]]));
  try {
    using a = new WeightEma([["w", w]], 0.9);
    w.assign(tf.tensor2d([[3, 5]]));
    a.update();
    const saved = await a.export();
    using b = new WeightEma([["w", w]], 0.9);
    b.load(saved, a.updates);
    assert.equal(b.updates, 1);
    w.assign(tf.tensor2d([[7, 7]]));
    a.update();
    b.update();
    assert.deepEqual(
      [...f32((await b.export()).get("ema.w")!)],
      [...f32((await a.export()).get("ema.w")!)],
    );
    assert.throws(() => b.load(new Map(), 1), /'ema.w' is missing/);
    assert.throws(
      () => b.load(new Map([["ema.w", { shape: [2], data: new Float32Array(2) }]]), 1),
      /'ema.w' has shape \[2\], not \[1,2\]/,
    );
    assert.throws(() => b.load(saved, -1), /'updates' must be an integer ≥ 0/);
    assert.throws(() => new WeightEma([["w", w]], 1), /'decay' must be a number in \(0, 1\)/);
    assert.throws(() => new WeightEma([], 0.9), /given no variables/);
  } finally {
    w.dispose();
  }
});

Deno.test({
  name:
    "pretrain --ema-decay: the average is checkpointed, resumes bit for bit, and is what the export ships",
  sanitizeResources: false,
  fn: async () => {
    await initBackend({ quiet: true });
    const world = await createEmojiScenes({ classes: ["dog", "teapot"] });
    const dir = await Deno.makeTempDir();
    try {
      const config = createPretrainConfig({
        cascade: presetConfig("tiny"),
        stage: "base",
        batchSize: 1,
        emaDecay: 0.9,
      });
      assert.equal(JSON.parse(JSON.stringify(config)).emaDecay, 0.9); // in config.json
      assert.ok(
        !("emaDecay" in createPretrainConfig({ cascade: presetConfig("tiny"), stage: "base" })),
      );
      assert.throws(
        () => createPretrainConfig({ cascade: presetConfig("tiny"), stage: "base", emaDecay: 1 }),
        /'emaDecay' must be a number in \(0, 1\): current value is 1/,
      );
      const train = async (runDir: string, totalSteps: number, resume = false) => {
        using job = await createPretrainJob(config, { world });
        await runTraining(job, {
          runDir,
          totalSteps,
          config,
          resume,
          sampleEverySteps: 0,
          log: () => {},
        });
      };
      await train(join(dir, "whole"), 3);
      await train(join(dir, "split"), 2);
      await train(join(dir, "split"), 3, true);
      const whole = await readSafetensors(join(dir, "whole", "checkpoint.safetensors"));
      const split = await readSafetensors(join(dir, "split", "checkpoint.safetensors"));
      assert.equal(JSON.parse(whole.metadata.state).job.emaUpdates, 3);
      const emaNames = [...whole.tensors.keys()].filter((k) => k.startsWith("ema."));
      assert.ok(emaNames.includes("ema.stages.0.input.weight"));
      assert.ok(emaNames.includes("ema.text_encoder.shared.weight")); // the base averages the encoder
      for (const k of emaNames) {
        assert.deepEqual(f32(split.tensors.get(k)!), f32(whole.tensors.get(k)!), k);
      }
      // The average differs from the raw weights, and the export ships it unless asked not to.
      const key = "stages.0.input.weight";
      assert.notDeepEqual(f32(whole.tensors.get(`ema.${key}`)!), f32(whole.tensors.get(key)!));
      const ema = await exportCascade([join(dir, "whole")], join(dir, "ema"), { dtype: "F32" });
      const raw = await exportCascade([join(dir, "whole")], join(dir, "raw"), {
        dtype: "F32",
        weights: "raw",
      });
      assert.equal(ema.stages[0].weights, "ema");
      assert.equal(raw.stages[0].weights, "raw");
      const shipped = (await readSafetensors(ema.path)).tensors;
      const rawShipped = (await readSafetensors(raw.path)).tensors;
      for (const k of [key, "text_encoder.shared.weight"]) {
        assert.deepEqual(f32(shipped.get(k)!), f32(whole.tensors.get(`ema.${k}`)!), k);
        assert.deepEqual(f32(rawShipped.get(k)!), f32(whole.tensors.get(k)!), k);
      }
      // An SR stage trained against the base run uses the averaged encoder (the shipped one).
      const srConfig = createPretrainConfig({
        cascade: presetConfig("tiny"),
        stage: "sr1",
        batchSize: 1,
        baseCheckpoint: join(dir, "whole", "checkpoint.safetensors"),
      });
      using sr = await createPretrainJob(srConfig, { world });
      const enc = await sr.cascade.textEncoder.exportWeights({ prefix: "text_encoder." });
      assert.deepEqual(
        f32(enc.get("text_encoder.shared.weight")!),
        f32(whole.tensors.get("ema.text_encoder.shared.weight")!),
      );
      await assert.rejects(
        () => exportCascade([join(dir, "whole")], join(dir, "x"), { weights: "best" as "raw" }),
        /'weights' must be "ema" or "raw"/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
