import assert from "assert";
import {
  createSrFineTuneConfig,
  DEFAULT_SR_FINE_TUNE_CONFIG,
  srPrompt,
} from "./sr_fine_tune_config.ts";

Deno.test("createSrFineTuneConfig merges defaults (t_aug 1e-5, first SR stage) and validates", () => {
  const c = createSrFineTuneConfig();
  assert.equal(c.augLevel, 1e-5);
  assert.deepEqual(c.stages, [1]);
  assert.equal(c.sampleAugLevel, null);
  assert.deepEqual(c.cropSize, { "1": 0, "2": 128 });
  assert.ok(Object.isFrozen(c));
  assert.equal(DEFAULT_SR_FINE_TUNE_CONFIG.augLevel, 1e-5);
  assert.deepEqual(createSrFineTuneConfig({ stages: [2, 1] }).stages, [1, 2]);
  assert.deepEqual(createSrFineTuneConfig({ cropSize: { "2": 64 } }).cropSize, { "1": 0, "2": 64 });
  assert.throws(
    () => createSrFineTuneConfig({ augLevel: 2 }),
    /'augLevel' must be a number in \[0, 1\]: current value is 2/,
  );
  assert.throws(() => createSrFineTuneConfig({ stages: [] }), /'stages' must be a non-empty array/);
  assert.throws(() => createSrFineTuneConfig({ stages: [1, 1] }), /repeated stage/);
  assert.throws(() => createSrFineTuneConfig({ steps: 1.5 }), /'steps' must be an integer/);
  assert.throws(
    () => createSrFineTuneConfig({ identifier: " " }),
    /'identifier' must be a non-empty string/,
  );
});

Deno.test("srPrompt fills the identifier and class, or drops the identifier", () => {
  assert.equal(
    srPrompt(createSrFineTuneConfig({ identifier: "xqz", classNoun: "cat" })),
    "a xqz cat",
  );
  assert.equal(
    srPrompt(createSrFineTuneConfig({ classNoun: "cat", dropIdentifier: true })),
    "a cat",
  );
  assert.equal(
    srPrompt(createSrFineTuneConfig({ prompt: "a photo of {identifier} {class}, close up" })),
    "a photo of sks dog, close up",
  );
});
