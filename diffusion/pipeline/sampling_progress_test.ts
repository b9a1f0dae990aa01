import assert from "assert";
import { formatSeconds, SamplingProgress } from "./sampling_progress.ts";

Deno.test("formatSeconds: seconds, minutes and hours, never ':60'", () => {
  assert.strictEqual(formatSeconds(4.25), "4.3s");
  assert.strictEqual(formatSeconds(59.7), "59.7s");
  assert.strictEqual(formatSeconds(119.6), "1m59s"); // the old formatter rounded this to "1m60s"
  assert.strictEqual(formatSeconds(3725), "1h02m");
  assert.strictEqual(formatSeconds(Infinity), "?");
});

Deno.test("SamplingProgress: each stage's ETA from its own step time after the first step", () => {
  let now = 1000;
  const p = new SamplingProgress(() => now);
  const step = (stage: number, step: number, steps: number, size: number, t: number) => {
    now = t;
    return p.update({ stage, stages: 3, step, steps, size });
  };
  // stage 1: a slow first step (warm-up) is left out of the rate
  assert.strictEqual(
    step(0, 1, 5, 32, 3000),
    "stage 1/3 (32×32) step 1/5  elapsed 2.0s  stage ETA ?, then 2 more stages",
  );
  assert.strictEqual(
    step(0, 3, 5, 32, 3200),
    "stage 1/3 (32×32) step 3/5  elapsed 2.2s  stage ETA 0.2s, then 2 more stages",
  );
  assert.strictEqual(
    step(0, 5, 5, 32, 3400),
    "stage 1/3 (32×32) step 5/5  elapsed 2.4s  stage done, then 2 more stages",
  );
  // stage 2 starts its own clock: its rate does not borrow stage 1's
  step(1, 1, 4, 128, 4400);
  assert.strictEqual(
    step(1, 2, 4, 128, 5400),
    "stage 2/3 (128×128) step 2/4  elapsed 4.4s  stage ETA 2.0s, then 1 more stage",
  );
  step(2, 1, 3, 512, 65400);
  assert.strictEqual(
    step(2, 2, 3, 512, 125400),
    "stage 3/3 (512×512) step 2/3  elapsed 2m04s  stage ETA 1m00s",
  );
});
