/**
 * Jobs over HTTP with the `debug.sleep` fixture kind: progress as Server-Sent Events with an ETA,
 * one job at a time, cancellation at the next step, resume from the checkpoint, output files at
 * /files, records that survive a restart (a job running when the server died is `interrupted`).
 */
import assert from "assert";
import { RpcClient } from "../rpc/client.ts";
import type { JobRecord } from "../rpc/mod.ts";
import { startTestServer, waitUntil, within } from "./rpc_fixtures.ts";

Deno.test("rpc: a job streams progress events, finishes, and serves its output file", async () => {
  const server = await startTestServer();
  const client = new RpcClient(server.url);
  const ac = new AbortController();
  try {
    const events = client.events({ signal: ac.signal });
    const first = await events.next(); // subscribed before the job starts
    assert.equal(first.value?.event, "hello");
    const { id } = await client.call<{ id: string }>("debug.sleep.start", { steps: 5, stepMs: 20 });
    const seen: { event: string; data: Record<string, unknown> }[] = [];
    for await (const ev of events) {
      seen.push(ev as { event: string; data: Record<string, unknown> });
      if (ev.event === "job" && (ev.data as JobRecord).status === "succeeded") break;
    }
    const progress = seen.filter((e) => e.event === "progress").map((e) => e.data);
    assert.deepEqual(progress.map((p) => p.step), [1, 2, 3, 4, 5]);
    assert.ok(progress.every((p) => p.total === 5 && p.id === id && p.kind === "debug.sleep"));
    assert.equal(typeof progress[2].etaSeconds, "number");
    assert.ok((progress[2].etaSeconds as number) > 0 && (progress[2].etaSeconds as number) < 5);
    assert.equal(progress[4].etaSeconds, 0);
    const statuses = seen.filter((e) => e.event === "job").map((e) => e.data.status);
    assert.deepEqual(statuses, ["queued", "running", "succeeded"]);

    const job = await client.call("jobs.get", { id });
    assert.equal(job.status, "succeeded");
    assert.deepEqual(job.result, { steps: 5, resumedFrom: 0, file: `jobs/${id}/out.txt` });
    assert.equal(job.progress?.step, 5);
    const file = await fetch(client.fileUrl(`jobs/${id}/out.txt`));
    assert.equal(await file.text(), "slept 5 steps\n");
  } finally {
    ac.abort();
    await server.close();
  }
});

Deno.test("rpc: one job at a time; cancel stops at the next step; resume continues", async () => {
  const server = await startTestServer();
  const client = new RpcClient(server.url);
  const jobs = server.rpc.services.jobs;
  try {
    const a = await client.call<{ id: string }>("debug.sleep.start", { steps: 60, stepMs: 10 });
    const b = await client.call<{ id: string; status: string }>("debug.sleep.start", { steps: 1 });
    assert.equal(b.status, "queued");
    // Wait for a few steps of a.
    await waitUntil(
      "step 3",
      async () => ((await client.call("jobs.get", { id: a.id })).progress?.step ?? 0) >= 3,
    );
    assert.equal((await client.call("jobs.get", { id: b.id })).status, "queued");
    const cancelling = await client.call("jobs.cancel", { id: a.id });
    assert.equal(cancelling.status, "cancelling");
    const cancelled = await within(jobs.wait(a.id));
    assert.equal(cancelled.status, "cancelled");
    const stoppedAt = cancelled.progress!.step;
    assert.ok(stoppedAt < 60);
    assert.equal((await within(jobs.wait(b.id))).status, "succeeded"); // b ran after a
    // Cancelling again is a conflict; resuming continues from the checkpoint.
    await assert.rejects(client.call("jobs.cancel", { id: a.id }), /already finished/);
    const resumed = await client.call("jobs.resume", { id: a.id });
    assert.ok(["queued", "running"].includes(resumed.status));
    const done = await within(jobs.wait(a.id));
    assert.equal(done.status, "succeeded");
    assert.equal(done.attempts, 2);
    const result = done.result as { resumedFrom: number };
    assert.ok(result.resumedFrom >= stoppedAt, `${result.resumedFrom} < ${stoppedAt}`);
    // A queued job is cancelled at once.
    const c = await client.call<{ id: string }>("debug.sleep.start", { steps: 100, stepMs: 10 });
    const d = await client.call<{ id: string }>("debug.sleep.start", { steps: 1 });
    assert.equal((await client.call("jobs.cancel", { id: d.id })).status, "cancelled");
    await client.call("jobs.cancel", { id: c.id });
    assert.equal((await within(jobs.wait(c.id))).status, "cancelled");
    const listed = await client.call("jobs.list", { status: ["cancelled"] });
    assert.deepEqual(listed.jobs.map((j) => j.id).sort(), [c.id, d.id].sort());
  } finally {
    await server.close();
  }
});

Deno.test("rpc: job records survive a restart; a job running at a crash is interrupted and resumable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rpc-restart-" });
  const first = await startTestServer({ dataRoot: dir });
  const client = new RpcClient(first.url);
  const done = await client.call<{ id: string }>("debug.sleep.start", { steps: 1, stepMs: 0 });
  await within(first.rpc.services.jobs.wait(done.id));
  const running = await client.call<{ id: string }>("debug.sleep.start", {
    steps: 500,
    stepMs: 10,
  });
  await waitUntil(
    "step 2",
    async () => ((await client.call("jobs.get", { id: running.id })).progress?.step ?? 0) >= 2,
  );
  await new Promise((r) => setTimeout(r, 1100)); // let a progress write reach the disk
  // A "crash": a second server reads the data root while the first still has the job running.
  const second = await startTestServer({ dataRoot: dir });
  const first_closed = first.close(true);
  try {
    const again = new RpcClient(second.url);
    const { jobs } = await again.call("jobs.list", {});
    assert.deepEqual(jobs.map((j) => j.id).sort(), [done.id, running.id].sort());
    const old = jobs.find((j) => j.id === running.id)!;
    assert.equal(old.status, "interrupted");
    assert.equal(old.resumable, true);
    assert.ok((old.progress?.step ?? 0) >= 1);
    assert.equal(jobs.find((j) => j.id === done.id)!.status, "succeeded");
    await first_closed;
    await again.call("jobs.resume", { id: running.id });
    // The resumed run starts from the checkpoint; cancel it to keep the test short.
    await waitUntil(
      "running",
      async () => (await again.call("jobs.get", { id: running.id })).status === "running",
    );
    await again.call("jobs.cancel", { id: running.id });
    const final = await within(second.rpc.services.jobs.wait(running.id));
    assert.equal(final.status, "cancelled");
    assert.equal(final.attempts, 2);
  } finally {
    await second.close();
  }
});
