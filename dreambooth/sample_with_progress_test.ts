import assert from "assert";
import { initBackend } from "./deps.ts";
import { createPreset } from "../diffusion/mod.ts";
import { sampleWithProgress } from "./sample_with_progress.ts";

await initBackend({ quiet: true });

Deno.test("sampleWithProgress: a line with the ETA while a stage runs, one at each stage's end", async () => {
  using cascade = await createPreset("tiny", { seed: 0 });
  const lines: string[] = [];
  const r = await sampleWithProgress(cascade, {
    prompt: ["a dog", "a cat"],
    steps: [3, 2],
    log: (l) => lines.push(l),
    everyMs: 0, // every step
  });
  assert.equal(r.images.length, 2);
  assert.match(
    lines[1],
    /^samples: stage 1\/2 \(32×32\) step 2\/3 .*stage ETA \S+, then 1 more stage/,
  );
  assert.match(lines[2], /^samples: stage 1\/2 \(32×32\) step 3\/3 .*stage done/);
  assert.match(lines.at(-1)!, /^samples: stage 2\/2 \(128×128\) step 2\/2 .*stage done/);
  // Quiet by default between the 5-second marks: the stage ends still print.
  const few: string[] = [];
  await sampleWithProgress(cascade, { prompt: "a dog", steps: [3, 2], log: (l) => few.push(l) });
  assert.ok(few.length >= 2 && few.length <= 5, few.join("\n"));
});
