import assert from "assert";
import { presetConfig } from "./deps.ts";
import { createPretrainConfig, PRETRAIN_SEEDS } from "./pretrain_job.ts";

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
