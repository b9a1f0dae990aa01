import assert from "assert";
import { DataRoot } from "./data_root.ts";
import { defineJobKind } from "./job_kind.ts";
import { JobQueue } from "./job_queue.ts";
import { JobStore } from "./job_store.ts";
import { s } from "./schema.ts";

async function withQueue(
  fn: (queue: JobQueue, dir: string) => Promise<void>,
  options: { maxQueued?: number } = {},
) {
  const dir = await Deno.makeTempDir({ prefix: "queue-" });
  const warnings: string[] = [];
  const queue = new JobQueue(await JobStore.open(await DataRoot.open(dir)), {
    warn: (m) => warnings.push(m),
    ...options,
  });
  let release = () => {};
  const gate = new Promise<void>((r) => (release = r));
  queue.register(defineJobKind({
    name: "gate",
    summary: "Waits for the test to release it; ignores its signal (a stubborn runner).",
    params: s.object({}),
    run: async () => {
      await gate;
      return { released: true };
    },
  }));
  queue.register(defineJobKind({
    name: "fail",
    summary: "Fails.",
    params: s.object({ how: s.enum(["throw", "circular", "bad-progress"]) }),
    run: ({ how }, { progress }) => {
      if (how === "throw") return Promise.reject(new TypeError("boom at step 3"));
      if (how === "bad-progress") progress({ step: NaN });
      const a: Record<string, unknown> = {};
      a.self = a;
      return Promise.resolve(a);
    },
  }));
  try {
    await fn(queue, dir);
  } finally {
    release();
    await queue.shutdown(1000);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("JobQueue: failures fail the job (never the process) with the runner's message", async () => {
  await withQueue(async (queue) => {
    for (
      const [how, message] of [
        ["throw", /boom at step 3/],
        ["circular", /circular/i],
        ["bad-progress", /'step' must be a number/],
      ] as const
    ) {
      const job = await queue.submit("fail", { how });
      const done = await queue.wait(job.id);
      assert.equal(done.status, "failed");
      assert.match(done.error!.message, message);
    }
    await assert.rejects(queue.submit("fail", { how: "other" }), /'how' must be one of/);
    await assert.rejects(queue.submit("nope", {}), /Unknown job kind 'nope'/);
    await assert.rejects(queue.resume((await queue.list({ kind: "fail" }))[0].id), /not resumable/);
  });
});

Deno.test("JobQueue: a runner that ignores its signal stays 'cancelling' until it returns", async () => {
  await withQueue(async (queue) => {
    const job = await queue.submit("gate", {});
    assert.equal(job.status, "running");
    assert.equal((await queue.cancel(job.id)).status, "cancelling");
    assert.equal((await queue.cancel(job.id)).status, "cancelling"); // idempotent
    assert.deepEqual(queue.counts(), { queued: 0, running: 1 });
  });
});

Deno.test("JobQueue: a full queue answers -32005; shutdown marks waiting and running jobs interrupted", async () => {
  await withQueue(async (queue, d) => {
    const running = await queue.submit("gate", {});
    const waiting = await queue.submit("gate", {});
    await assert.rejects(queue.submit("gate", {}), (err: Error & { code?: number }) => {
      assert.equal(err.code, -32005);
      return true;
    });
    await queue.shutdown(50);
    const again = await JobStore.open(await DataRoot.open(d));
    assert.equal(again.get(waiting.id)?.status, "interrupted");
    // The stubborn runner did not return within 50 ms: its record still says running on disk,
    // and a new store opening it marks it interrupted.
    assert.equal(again.get(running.id)?.status, "interrupted");
  }, { maxQueued: 1 });
});
