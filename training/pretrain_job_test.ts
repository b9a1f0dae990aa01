import assert from "assert";
import { presetConfig } from "./deps.ts";
import { createPretrainConfig, createPretrainJob, PRETRAIN_SEEDS } from "./pretrain_job.ts";
import { createEmojiScenes, initBackend, readSafetensors, tf, writeSafetensors } from "./deps.ts";
import { exportCascade } from "./deps.ts";
import { runTraining } from "./deps.ts";

Deno.test("createPretrainConfig: defaults, the stages kept, and errors that name the value", () => {
  const base = createPretrainConfig({ cascade: presetConfig("small"), stage: "base" });
  assert.equal(base.batchSize, 16);
  assert.equal(base.trainer.condDropout, 0.1);
  assert.equal(base.dataSeed, PRETRAIN_SEEDS.data);
  assert.equal(base.cascade.stages.length, 1); // later stages do not invalidate the base run
  assert.ok(Object.isFrozen(base));
  const sr2 = createPretrainConfig({
    cascade: presetConfig("small"),
    stage: "sr2",
    baseCheckpoint: "runs/pretrain/base/checkpoint.safetensors",
    trainer: { cropSize: 128 },
  });
  assert.equal(sr2.cascade.stages.length, 3);
  assert.equal(sr2.batchSize, 8);
  assert.equal(sr2.dataSeed, PRETRAIN_SEEDS.data + 2);
  assert.ok(sr2.dataSeed < 2 ** 24); // eval/ owns 0x0e7a0000…
  assert.throws(
    () => createPretrainConfig({ cascade: presetConfig("small"), stage: "sr9" as "sr1" }),
    /'stage' must be one of base, sr1, sr2: current value is "sr9"/,
  );
  assert.throws(
    () =>
      createPretrainConfig({ cascade: presetConfig("tiny"), stage: "sr2", baseCheckpoint: "x" }),
    /has 2 stages, so there is no stage 'sr2'/,
  );
  assert.throws(
    () => createPretrainConfig({ cascade: presetConfig("small"), stage: "sr1" }),
    /needs 'baseCheckpoint'/,
  );
  assert.throws(
    () =>
      createPretrainConfig({ cascade: presetConfig("small"), stage: "base", dataSeed: 0x0e7a0001 }),
    /'dataSeed' must be an integer in \[0, 2\^24\)/,
  );
  assert.throws(
    () => createPretrainConfig({ cascade: presetConfig("small"), stage: "base", batchSize: 0 }),
    /'batchSize' must be an integer ≥ 1: current value is 0/,
  );
});

Deno.test("createPretrainConfig: objectScale is kept when given, left out otherwise, and checked", () => {
  const plain = createPretrainConfig({ cascade: presetConfig("tiny"), stage: "base" });
  assert.ok(!("objectScale" in plain)); // runs started before the option resume unchanged
  const big = createPretrainConfig({
    cascade: presetConfig("tiny"),
    stage: "base",
    objectScale: [0.55, 0.75],
  });
  assert.deepEqual(big.objectScale, [0.55, 0.75]);
  assert.deepEqual(JSON.parse(JSON.stringify(big)).objectScale, [0.55, 0.75]); // in config.json
  assert.throws(
    () =>
      createPretrainConfig({
        cascade: presetConfig("tiny"),
        stage: "base",
        objectScale: [0.8, 0.5],
      }),
    /'objectScale' must be \[min, max\] with 0 < min ≤ max ≤ 1: current value is \[0.8,0.5\]/,
  );
});

Deno.test("createPretrainConfig: objectWeight is left out at 1, kept otherwise, and checked", () => {
  const tiny = presetConfig("tiny");
  assert.ok(!("objectWeight" in createPretrainConfig({ cascade: tiny, stage: "base" })));
  assert.ok(
    !("objectWeight" in createPretrainConfig({ cascade: tiny, stage: "base", objectWeight: 1 })),
  );
  const c = createPretrainConfig({ cascade: tiny, stage: "base", objectWeight: 4 });
  assert.equal(JSON.parse(JSON.stringify(c)).objectWeight, 4); // in config.json
  assert.throws(
    () => createPretrainConfig({ cascade: tiny, stage: "base", objectWeight: -1 }),
    /'objectWeight' must be a finite number > 0: current value is -1/,
  );
});

Deno.test({
  name: "createPretrainJob: objectWeight weights the objects' pixels, without leaks",
  sanitizeResources: false,
  fn: async () => {
    await initBackend({ quiet: true });
    const world = await createEmojiScenes({ classes: ["dog", "teapot"] });
    const firstLoss = async (objectWeight?: number) => {
      const config = createPretrainConfig({
        cascade: presetConfig("tiny"),
        stage: "base",
        batchSize: 2,
        ...(objectWeight !== undefined ? { objectWeight } : {}),
      });
      using job = await createPretrainJob(config, { world });
      const loss = (await job.trainStep()).loss;
      const before = tf.memory().numTensors;
      await job.trainStep();
      assert.equal(tf.memory().numTensors, before);
      return loss;
    };
    const plain = await firstLoss();
    assert.equal(await firstLoss(1), plain);
    assert.notEqual(await firstLoss(8), plain);
  },
});

Deno.test({
  name:
    "createPretrainJob: an SR stage takes its encoder from a base run's checkpoint or its export",
  sanitizeResources: false,
  fn: async () => {
    await initBackend({ quiet: true });
    const world = await createEmojiScenes({ classes: ["dog", "teapot"] });
    const dir = await Deno.makeTempDir();
    try {
      const cascade = presetConfig("tiny");
      const baseConfig = createPretrainConfig({ cascade, stage: "base", batchSize: 1 });
      {
        using job = await createPretrainJob(baseConfig, { world });
        await runTraining(job, {
          runDir: `${dir}/base`,
          totalSteps: 2,
          config: baseConfig,
          sampleEverySteps: 0,
          log: () => {},
        });
      }
      await exportCascade([`${dir}/base`], `${dir}/export`, { dtype: "F32" });
      const srLoss = async (baseCheckpoint: string) => {
        const config = createPretrainConfig({
          cascade,
          stage: "sr1",
          batchSize: 1,
          baseCheckpoint,
        });
        using job = await createPretrainJob(config, { world });
        return (await job.trainStep()).loss;
      };
      const fromRun = await srLoss(`${dir}/base/checkpoint.safetensors`);
      const fromExport = await srLoss(`${dir}/export/cascade.safetensors`);
      assert.ok(Number.isFinite(fromRun));
      assert.ok(Math.abs(fromRun - fromExport) <= 1e-6 * Math.max(1, Math.abs(fromRun)));
      // The same tensors under metadata that names neither kind of file are refused.
      const { tensors } = await readSafetensors(`${dir}/export/cascade.safetensors`);
      await writeSafetensors(`${dir}/other.safetensors`, tensors, { metadata: { kind: "other" } });
      await assert.rejects(
        () => srLoss(`${dir}/other.safetensors`),
        /neither a base-stage run checkpoint nor an exported cascade/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
