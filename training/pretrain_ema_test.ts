import assert from "assert";
import { join } from "node:path";
import { createEmojiScenes, initBackend, presetConfig, readSafetensors } from "./deps.ts";
import { createPretrainConfig, createPretrainJob } from "./pretrain_job.ts";
import { exportCascade, runTraining } from "./deps.ts";

const f32 = (t: { data: unknown }) => t.data as Float32Array;

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
