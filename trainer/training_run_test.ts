import assert from "assert";
import { join } from "node:path";
import { readLossLog, runTraining, type TrainingJob } from "./training_run.ts";
import { readRunCheckpoint } from "./run_checkpoint.ts";
import { NonFiniteLossError } from "./stage_trainer.ts";
import { acquireRunLock } from "./_run_lock.ts";

/** A deterministic fake job: weight w moves by a step-dependent amount; loss is a function of (step, w). */
function fakeJob(options: { nanAt?: number; samples?: boolean } = {}) {
  let step = 0;
  let w = 1;
  const job: TrainingJob & { readonly w: number } = {
    get step() {
      return step;
    },
    get w() {
      return w;
    },
    trainStep() {
      const next = step + 1;
      if (next === options.nanAt) return Promise.reject(new NonFiniteLossError(next, NaN, NaN));
      const loss = w * (1 + Math.sin(next));
      w = Math.fround(w * 0.97 + 0.001 * next); // float32, as checkpoints store it
      step = next;
      return Promise.resolve({ loss, gradNorm: 1, step });
    },
    checkpoint() {
      return Promise.resolve({
        tensors: new Map([["w", { shape: [1], data: new Float32Array([w]) }]]),
        state: { step },
        metadata: { kind: "fake" },
      });
    },
    restore(c) {
      step = (c.state as { step: number }).step;
      w = c.tensors.get("w")!.data[0];
      return Promise.resolve();
    },
    ...(options.samples
      ? {
        samples: () =>
          Promise.resolve({
            images: [{ data: new Float32Array(4 * 4 * 3), width: 4, height: 4 }],
            labels: [`w=${w.toFixed(3)}`],
            scale: 2,
          }),
      }
      : {}),
  };
  return job;
}

const quiet = { log: () => {} };
const strip = (p: { step: number; loss: number; lossEma?: number }[]) =>
  p.map(({ step, loss, lossEma }) => ({ step, loss, lossEma }));

Deno.test("runTraining: a run stopped by an abort, resumed, equals an uninterrupted one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = fakeJob();
    await runTraining(a, { runDir: join(dir, "a"), totalSteps: 12, config: { x: 1 }, ...quiet });
    // Interrupted after 5 steps (abort), then the same call with resume.
    const controller = new AbortController();
    const b1 = fakeJob();
    let n = 0;
    const s1 = await runTraining(b1, {
      runDir: join(dir, "b"),
      totalSteps: 12,
      config: { x: 1 },
      checkpointEverySteps: 0,
      signal: controller.signal,
      log: (l) => {
        if (l.startsWith("step ") && ++n === 1) controller.abort();
      },
      logEverySteps: 5,
    });
    assert.equal(s1.reason, "interrupted");
    assert.equal(s1.step, 5);
    const b2 = fakeJob();
    const s2 = await runTraining(b2, {
      runDir: join(dir, "b"),
      totalSteps: 12,
      config: { x: 1 },
      resume: true,
      ...quiet,
    });
    assert.equal(s2.reason, "done");
    assert.equal(s2.startStep, 5);
    assert.equal(b2.w, a.w);
    assert.deepEqual(
      strip(await readLossLog(join(dir, "b", "loss.jsonl"))),
      strip(await readLossLog(join(dir, "a", "loss.jsonl"))),
    );
    const args = JSON.parse(await Deno.readTextFile(join(dir, "b", "args.json")));
    assert.deepEqual(args.map((x: { fromStep: number }) => x.fromStep), [0, 5]);
    for (const f of ["config.json", "summary.json", "loss_curve.png", "checkpoint.safetensors"]) {
      await Deno.stat(join(dir, "b", f));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runTraining: steps past the last checkpoint are redone and the loss log stays continuous", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ref = fakeJob();
    await runTraining(ref, { runDir: join(dir, "ref"), totalSteps: 9, config: {}, ...quiet });
    // A crash after step 7 with the last checkpoint at step 4: simulated by a NaN at step 8.
    const crashed = fakeJob({ nanAt: 8 });
    const s = await runTraining(crashed, {
      runDir: join(dir, "run"),
      totalSteps: 9,
      config: {},
      checkpointEverySteps: 4,
      ...quiet,
    });
    assert.equal(s.reason, "non-finite loss");
    assert.equal(s.step, 4);
    assert.match(s.error!, /step 8/);
    assert.equal((await readLossLog(join(dir, "run", "loss.jsonl"))).length, 7);
    const ckpt = await readRunCheckpoint(join(dir, "run", "checkpoint.safetensors"));
    assert.equal((ckpt.state as { run: { step: number } }).run.step, 4); // last good one kept
    const resumed = fakeJob();
    await runTraining(resumed, {
      runDir: join(dir, "run"),
      totalSteps: 9,
      config: {},
      resume: true,
      ...quiet,
    });
    assert.deepEqual(
      strip(await readLossLog(join(dir, "run", "loss.jsonl"))),
      strip(await readLossLog(join(dir, "ref", "loss.jsonl"))),
    );
    assert.equal(resumed.w, ref.w);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runTraining: refuses to overwrite a run or resume with another config; samples and budget", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines: string[] = [];
    await runTraining(fakeJob({ samples: true }), {
      runDir: dir,
      totalSteps: 4,
      config: { lr: 1 },
      sampleEverySteps: 2,
      log: (l) => lines.push(l),
    });
    for (const f of ["step_000000.png", "step_000002.png", "step_000004.png", "latest.png"]) {
      await Deno.stat(join(dir, "samples", f));
    }
    assert.ok(
      lines.some((l) => /^step 4\/4 \| loss .*EMA.*step\/s.*ETA/.test(l)),
      lines.join("\n"),
    );
    assert.match(lines[lines.length - 1], /^summary: done at step 4\/4/);
    await assert.rejects(
      () => runTraining(fakeJob(), { runDir: dir, totalSteps: 8, config: { lr: 1 }, ...quiet }),
      /already has a checkpoint: pass resume/,
    );
    await assert.rejects(
      () =>
        runTraining(fakeJob(), {
          runDir: dir,
          totalSteps: 8,
          config: { lr: 2 },
          resume: true,
          ...quiet,
        }),
      /'lr' differs \(1 in its config.json, 2 now\); only learningRate, steps/,
    );
    // A tiny time budget stops at once, cleanly.
    const s = await runTraining(fakeJob(), {
      runDir: dir,
      totalSteps: 100,
      config: { lr: 1 },
      resume: true,
      timeBudgetMinutes: 1e-9,
      ...quiet,
    });
    assert.equal(s.reason, "time budget");
    assert.equal(s.step, 4);
    await assert.rejects(
      () => runTraining(fakeJob(), { runDir: dir, totalSteps: -1, config: {}, ...quiet }),
      /'totalSteps' must be an integer ≥ 0: current value is -1/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runTraining: a held run.lock refuses a second run; a stale one is taken over", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const held = await acquireRunLock(dir); // as a live run holds it (see _run_lock_test.ts)
    await assert.rejects(
      () => runTraining(fakeJob(), { runDir: dir, totalSteps: 2, config: {}, ...quiet }),
      new RegExp(`process ${Deno.pid} is training there`),
    );
    await held.release();
    await Deno.writeTextFile(join(dir, "run.lock"), "4194303\n"); // no such process
    const s = await runTraining(fakeJob(), { runDir: dir, totalSteps: 2, config: {}, ...quiet });
    assert.equal(s.step, 2);
    await assert.rejects(() => Deno.stat(join(dir, "run.lock")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runTraining: a non-finite loss before the first checkpoint says there is nothing to resume; after one, names it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const retryCommand = ({ resume }: { resume: boolean }) => `retry${resume ? " --resume" : ""}`;
    const lines: string[] = [];
    const a = await runTraining(fakeJob({ nanAt: 3 }), {
      runDir: join(dir, "a"),
      totalSteps: 10,
      config: {},
      checkpointEverySteps: 5,
      retryCommand,
      log: (l) => lines.push(l),
    });
    assert.equal(a.reason, "non-finite loss");
    await assert.rejects(() => Deno.stat(a.files.checkpoint), Deno.errors.NotFound);
    const error = lines.find((l) => l.startsWith("error:"))!;
    assert.match(
      error,
      /Stopped at step 3 .*No checkpoint had been written yet \(the first was due at step 5\), so there is nothing to resume; to start again with a lower learning rate: retry$/,
    );
    assert.doesNotMatch(error, /checkpoint\.safetensors/);
    assert.match(
      lines.at(-1)!,
      /^summary: non-finite loss at step 3\/10 \(no checkpoint\).* \| no checkpoint \|/,
    );
    // Without a command to advise, the advice is in words, and as true.
    lines.length = 0;
    await runTraining(fakeJob({ nanAt: 2 }), {
      runDir: join(dir, "b"),
      totalSteps: 10,
      config: {},
      checkpointEverySteps: 0,
      log: (l) => lines.push(l),
    });
    assert.match(
      lines.find((l) => l.startsWith("error:"))!,
      /No checkpoint had been written yet \(checkpoints are written every 10 min and at the end\), so there is nothing to resume; start again with a lower learning rate/,
    );
    // After a checkpoint: that checkpoint is named, and the advice resumes from it.
    lines.length = 0;
    const c = await runTraining(fakeJob({ nanAt: 7 }), {
      runDir: join(dir, "c"),
      totalSteps: 10,
      config: {},
      checkpointEverySteps: 5,
      retryCommand,
      log: (l) => lines.push(l),
    });
    assert.equal(c.step, 5);
    assert.match(
      lines.find((l) => l.startsWith("error:"))!,
      new RegExp(
        `The last good checkpoint \\(step 5\\) is kept in '${
          c.files.checkpoint.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
        }'; to continue from it with a lower learning rate: retry --resume$`,
      ),
    );
    assert.match(
      lines.at(-1)!,
      /^summary: non-finite loss at step 7\/10 \(last good checkpoint: step 5\)/,
    );
    assert.equal(
      ((await readRunCheckpoint(c.files.checkpoint)).state as { run: { step: number } }).run.step,
      5,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runTraining: the learning rate, steps and cadence may change on resume (logged, recorded); other settings are named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = { trainer: { learningRate: 1, beta1: 0.9 }, steps: 4, batch: 2 };
    await runTraining(fakeJob(), { runDir: dir, totalSteps: 4, config, ...quiet });
    const lines: string[] = [];
    const more = { ...config, trainer: { ...config.trainer, learningRate: 0.1 }, steps: 8 };
    const s = await runTraining(fakeJob(), {
      runDir: dir,
      totalSteps: 8,
      config: more,
      resume: true,
      log: (l) => lines.push(l),
    });
    assert.equal(s.reason, "done");
    assert.equal(s.step, 8);
    assert.ok(
      lines.includes("resuming with changed settings: trainer.learningRate 1 → 0.1, steps 4 → 8"),
      lines.join("\n"),
    );
    const history = JSON.parse(await Deno.readTextFile(join(dir, "args.json")));
    assert.deepEqual(history.at(-1).changed, {
      "trainer.learningRate": { from: 1, to: 0.1 },
      steps: { from: 4, to: 8 },
    });
    assert.equal(history[0].changed, undefined);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(dir, "config.json"))), more);
    // A setting outside the list is refused, and named with both values.
    await assert.rejects(
      () =>
        runTraining(fakeJob(), {
          runDir: dir,
          totalSteps: 12,
          config: { ...more, batch: 3, trainer: { ...more.trainer, beta1: 0.5 } },
          resume: true,
          ...quiet,
        }),
      /as 'trainer.beta1' differs \(0.9 in its config.json, 0.5 now\), 'batch' differs \(2 in its config.json, 3 now\); only learningRate, steps, totalSteps, checkpointEverySteps/,
    );
    // A caller may allow more.
    const t = await runTraining(fakeJob(), {
      runDir: dir,
      totalSteps: 9,
      config: { ...more, batch: 3 },
      changeableOnResume: ["batch"],
      resume: true,
      ...quiet,
    });
    assert.equal(t.step, 9);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
