/**
 * `workerJobKind`: a synchronous busy loop in a worker leaves the server responsive, reports
 * progress, stops at the next step when cancelled (without ever awaiting), resumes from its
 * checkpoint, and fails the job with the worker's error.
 */
import assert from "assert";
import { RpcClient } from "../rpc/client.ts";
import { startTestServer, waitUntil, within } from "./rpc_fixtures.ts";

Deno.test("rpc: worker jobs keep the server responsive, cancel at the next step, resume, fail cleanly", async () => {
  const server = await startTestServer();
  const client = new RpcClient(server.url);
  const jobs = server.rpc.services.jobs;
  try {
    const { id } = await client.call<{ id: string }>("debug.busy.start", {
      steps: 400,
      stepMs: 25,
    });
    await waitUntil(
      "step 2",
      async () => ((await client.call("jobs.get", { id })).progress?.step ?? 0) >= 2,
    );
    // While the worker spins, calls are answered well within one step time… (loose bound: CI noise)
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await client.call("tokenizer.encode", { text: "a dog" });
    const perCall = (performance.now() - t0) / 5;
    assert.ok(perCall < 200, `calls took ${perCall.toFixed(1)} ms each during a worker job`);
    // …and cancellation stops a loop that never awaits.
    await client.call("jobs.cancel", { id });
    const cancelled = await within(jobs.wait(id));
    assert.equal(cancelled.status, "cancelled");
    const stoppedAt = cancelled.progress!.step;
    assert.ok(stoppedAt < 400);
    await client.call("jobs.resume", { id });
    await waitUntil(
      "running",
      async () => (await client.call("jobs.get", { id })).status === "running",
    );
    await client.call("jobs.cancel", { id });
    const again = await within(jobs.wait(id));
    assert.equal(again.attempts, 2);
    assert.ok((again.progress?.step ?? stoppedAt) >= stoppedAt);

    const failing = await client.call<{ id: string }>("debug.busy.start", {
      steps: 3,
      stepMs: 1,
      failAt: 2,
    });
    const failed = await within(jobs.wait(failing.id));
    assert.equal(failed.status, "failed");
    assert.deepEqual(failed.error, { name: "RangeError", message: "failing at step 2 as asked" });
    const ok = await client.call<{ id: string }>("debug.busy.start", { steps: 3, stepMs: 1 });
    const done = await within(jobs.wait(ok.id));
    assert.equal(done.status, "succeeded");
    assert.deepEqual(done.result, { steps: 3, resumedFrom: 0 });
  } finally {
    await server.close();
  }
});
