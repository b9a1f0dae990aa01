import assert from "assert";
import { createEmojiScenes, createPreset, initBackend, tf } from "./deps.ts";
import { classSignal } from "./class_signal.ts";

await initBackend({ quiet: true });

Deno.test("classSignal: finite losses per noise level on the tiny preset, no leaks, bad input refused", async () => {
  const world = await createEmojiScenes();
  using cascade = await createPreset("tiny");
  const before = tf.memory().numTensors;
  const rows = await classSignal(cascade, world, { scenes: 3, ts: [0.2, 0.8] });
  assert.deepEqual(rows.map((r) => r.t), [0.2, 0.8]);
  for (const r of rows) {
    for (const k of ["right", "wrongClass", "classOnly", "null"] as const) {
      assert.ok(Number.isFinite(r[k]) && r[k] > 0, `${k} at t=${r.t}: ${r[k]}`);
    }
  }
  // Deterministic: same scenes, same noise.
  const again = await classSignal(cascade, world, { scenes: 3, ts: [0.2, 0.8] });
  assert.deepEqual(again, rows);
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(
    () => classSignal(cascade, world, { scenes: 1 }),
    /'scenes' must be an integer ≥ 2: current value is 1/,
  );
});
