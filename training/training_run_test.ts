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
      /config.json differs/,
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
