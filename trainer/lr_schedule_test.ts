import assert from "assert";
import { learningRateAt } from "./lr_schedule.ts";

Deno.test("learningRateAt: warm-up is linear, constant stays, cosine halves at mid-way and ends at 0", () => {
  const warm = [1, 2, 3, 4].map((s) => learningRateAt(s, { learningRate: 2, warmupSteps: 4 }));
  assert.deepEqual(warm, [0.5, 1, 1.5, 2]);
  assert.equal(learningRateAt(100, { learningRate: 2, warmupSteps: 4 }), 2);
  const cos = (s: number) =>
    learningRateAt(s, { learningRate: 1, schedule: "cosine", warmupSteps: 10, totalSteps: 110 });
  assert.equal(cos(10), 1);
  assert.ok(Math.abs(cos(60) - 0.5) < 1e-12);
  assert.ok(Math.abs(cos(110)) < 1e-12);
  assert.ok(cos(30) > cos(31));
});

Deno.test("learningRateAt: bad schedule, warm-up or a cosine without totalSteps are refused by name", () => {
  assert.throws(
    () => learningRateAt(1, { learningRate: 1, schedule: "linear" as "cosine" }),
    /'schedule'/,
  );
  assert.throws(() => learningRateAt(1, { learningRate: 1, warmupSteps: -1 }), /'warmupSteps'/);
  assert.throws(() => learningRateAt(1, { learningRate: 1, schedule: "cosine" }), /'totalSteps'/);
});
