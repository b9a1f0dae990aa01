// A training run holds one BLAS thread count from its start to its end and records it; a resume
// holds the recorded count. OpenBLAS's sgemm rounds differently with 1 and 2 threads, and without a
// hold the count follows the machine's load (backend/blas.ts), so two identical runs at a quiet and
// a busy moment would differ in the last bits. The load is staged here by replacing the tuner's
// sampler: run A starts quiet and turns busy, run B stays quiet, run C starts quiet, is interrupted,
// and resumes while the machine is busy. All three end with the same weights, bit for bit.
import assert from "assert";
import { join } from "node:path";
import { initBackend, openBlas, presetConfig, readSafetensors } from "../mod.ts";
import { createEmojiScenes } from "../data/mod.ts";
import { createPretrainConfig, createPretrainJob } from "../training/mod.ts";
import { runTraining, type TrainingJob } from "../trainer/mod.ts";

await initBackend({ quiet: true });
const tuner = openBlas()?.tuner;
const world = await createEmojiScenes();

/** Stages the machine's load: `others` runnable threads elsewhere, long enough to settle. */
function load(others: number) {
  tuner!.sample = () => others;
  for (let i = 0; i < 30; i++) tuner!.check();
}

/** Wraps a job so that before each step the load is `busyFrom(step)` and the tuner re-checks. */
function underLoad(job: TrainingJob, busy: (step: number) => boolean, seen: number[]) {
  const step = job.trainStep.bind(job);
  job.trainStep = () => {
    tuner!.sample = () => busy(job.step + 1) ? 4 : 0;
    for (let i = 0; i < 30; i++) tuner!.check(); // what sgemm's wrapper does when a check is due
    seen.push(tuner!.threads);
    return step();
  };
  return job;
}

async function train(
  runDir: string,
  steps: number,
  busy: (step: number) => boolean,
  extra: { resume?: boolean } = {},
) {
  const config = createPretrainConfig({
    cascade: presetConfig("tiny"),
    stage: "base",
    batchSize: 2,
  });
  using job = await createPretrainJob(config, { world });
  const seen: number[] = [];
  const summary = await runTraining(underLoad(job, busy, seen), {
    runDir,
    totalSteps: steps,
    config,
    log: () => {},
    sampleEverySteps: 0,
    ...extra,
  });
  return { summary, seen };
}

const args = async (dir: string) =>
  JSON.parse(await Deno.readTextFile(join(dir, "args.json"))) as { blasThreads?: number }[];

Deno.test({
  name: "training runs hold their start's BLAS thread count; a resume holds the recorded one",
  ignore: tuner === undefined,
  async fn() {
    const sample = tuner!.sample;
    const dir = await Deno.makeTempDir();
    try {
      load(0);
      const quiet = tuner!.threads; // the pool on a quiet machine (2 here)
      load(4);
      const busy = tuner!.threads; // 1
      load(0);
      // A: quiet at the start, busy from step 3 on.
      const a = await train(join(dir, "a"), 6, (s) => s >= 3);
      assert.deepEqual(a.seen, Array(6).fill(quiet), "A kept its start's count");
      // B: quiet throughout.
      load(0);
      const b = await train(join(dir, "b"), 6, () => false);
      assert.deepEqual(b.seen, Array(6).fill(quiet));
      // C: quiet start, stopped at step 3; resumed on a busy machine.
      load(0);
      await train(join(dir, "c"), 3, () => false);
      load(4);
      assert.equal(tuner!.threads, busy, "the tuner follows the load between runs");
      const c = await train(join(dir, "c"), 6, () => true, { resume: true });
      assert.equal(c.summary.startStep, 3);
      assert.deepEqual(c.seen, Array(3).fill(quiet), "the resume held the recorded count");
      assert.equal(tuner!.threads, busy, "after the run, the count follows the load again");

      for (const d of ["a", "b", "c"]) {
        const history = await args(join(dir, d));
        assert.ok(
          history.every((h) => h.blasThreads === quiet),
          `${d}: ${JSON.stringify(history)}`,
        );
      }
      const wa = await readSafetensors(join(dir, "a", "checkpoint.safetensors"));
      for (const d of ["b", "c"]) {
        const w = await readSafetensors(join(dir, d, "checkpoint.safetensors"));
        assert.deepEqual([...w.tensors.keys()], [...wa.tensors.keys()]);
        for (const [k, t] of wa.tensors) {
          assert.deepEqual(w.tensors.get(k)!.data, t.data, `${d}: ${k}`);
        }
      }
    } finally {
      tuner!.sample = sample;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
