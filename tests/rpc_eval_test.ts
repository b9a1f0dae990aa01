/**
 * `eval.start` as served by `deno task serve`: params refused before queueing (-32602 naming the
 * field), and an evaluation of the tiny preset run to the end in a worker, with per-prompt
 * progress events, its report (`metrics.json`, `index.html`, grids) in `jobs/<id>/` served at
 * `/files/…`, and the summary in the job record.
 */
import assert from "assert";
import { type EvalJobOutcome, RpcClient, RpcClientError } from "../rpc/client.ts";
import type { JobRecord } from "../rpc/mod.ts";
import { startTestServer, within } from "./rpc_fixtures.ts";

Deno.test("rpc: eval.start refuses bad params before queueing", async () => {
  const server = await startTestServer();
  const client = new RpcClient(server.url);
  try {
    await Deno.mkdir(`${server.dir}/photos`);
    const discovered = (await client.call("rpc.discover", {})).methods;
    const start = discovered.find((m) => m.name === "eval.start");
    assert.ok(start, discovered.map((m) => m.name).join(", "));
    for (
      const [params, field] of [
        [{}, "model"],
        [{ real: false }, "model"],
        [{ preset: "huge" }, "preset"],
        [{ preset: "tiny", model: "x.safetensors" }, "model"],
        [{ preset: "tiny", real: true }, "real"],
        [{ model: "../../etc/passwd" }, "model"],
        [{ model: "/etc/passwd" }, "model"],
        [{ model: "missing.safetensors" }, "model"],
        [{ real: true, subject: "/tmp", classNoun: "dog" }, "subject"],
        [{ real: true, subject: "../photos", classNoun: "dog" }, "subject"],
        [{ real: true, subject: "missing-folder", classNoun: "dog" }, "subject"],
        [{ real: true, subject: "photos" }, "classNoun"],
        [
          { real: true, subject: "photos", classNoun: "dog", builtInSubject: "cat" },
          "builtInSubject",
        ],
        [{ real: true, builtInSubject: "unicorn" }, "builtInSubject"],
        [{ preset: "tiny", samples: 0 }, "samples"],
        [{ preset: "tiny", samples: 1.5 }, "samples"],
        [{ preset: "tiny", pres: -1 }, "pres"],
        [{ preset: "tiny", prompts: 25 }, "prompts"],
        [{ preset: "tiny", steps: 0 }, "steps"],
        [{ preset: "tiny", guidance: "NaN" }, "guidance"],
        [{ preset: "tiny", seed: -1 }, "seed"],
        [{ preset: "tiny", sampels: 1 }, "sampels"],
      ] as const
    ) {
      const err = await client.call("eval.start", params).catch((e) => e as RpcClientError);
      assert.ok(err instanceof RpcClientError, `${JSON.stringify(params)} was accepted`);
      assert.equal(err.code, -32602, JSON.stringify(params));
      assert.equal((err.data as { field: string }).field, field, JSON.stringify(params));
    }
    assert.equal((await client.call("jobs.list", {})).jobs.length, 0);
    assert.equal((await client.health()).status, "ok");
  } finally {
    await server.close();
  }
});

Deno.test("rpc: eval.start on the tiny preset runs to the end and serves its report", async () => {
  const server = await startTestServer();
  const client = new RpcClient(server.url);
  const ac = new AbortController();
  try {
    const events = client.events({ signal: ac.signal });
    assert.equal((await events.next()).value?.event, "hello");
    const { id, status } = await client.call("eval.start", {
      preset: "tiny",
      samples: 1,
      prompts: 2,
      pres: 2,
      steps: 2,
      builtInSubject: "dog",
    });
    assert.ok(status === "queued" || status === "running", status);
    const progress: { step: number; total: number; message: string }[] = [];
    const statuses: string[] = [];
    await within(
      (async () => {
        for await (const ev of events) {
          const data = ev.data as Record<string, unknown>;
          if (data.id !== id) continue;
          if (ev.event === "progress") progress.push(data as (typeof progress)[number]);
          if (ev.event === "job") {
            const rec = data as unknown as JobRecord;
            statuses.push(rec.status);
            if (rec.status !== "queued" && rec.status !== "running") break;
          }
        }
      })(),
      120_000,
    );
    assert.deepEqual(statuses.at(-1), "succeeded");
    assert.deepEqual(progress.map((p) => [p.step, p.total]), [[1, 3], [2, 3], [3, 3]]);
    assert.equal(progress[2].message, "a dog");

    const job = await client.call("jobs.get", { id });
    assert.equal(job.status, "succeeded", JSON.stringify(job.error));
    assert.equal(job.kind, "eval");
    assert.equal(job.progress?.step, 3);
    const result = job.result as EvalJobOutcome;
    assert.equal(result.metrics, `jobs/${id}/metrics.json`);
    assert.equal(result.report, `jobs/${id}/index.html`);
    assert.equal(result.prompts, 2);
    assert.ok(result.grids.length >= 3 && result.grids.every((g) => g.startsWith(`jobs/${id}/`)));
    assert.equal(
      typeof (result.summary.subjectFidelity as { estimate: number }).estimate,
      "number",
    );

    await Deno.stat(`${server.dir}/jobs/${id}/metrics.json`);
    const metrics = await (await fetch(client.fileUrl(result.metrics))).json();
    assert.equal(metrics.prompts.length, 2);
    assert.equal(metrics.info.model, "preset:tiny");
    assert.equal(metrics.info.subject, "dog");
    const html = await fetch(client.fileUrl(result.report));
    assert.equal(html.status, 200);
    assert.ok((await html.text()).includes("<html"));
    const png = new Uint8Array(await (await fetch(client.fileUrl(result.grids[0]))).arrayBuffer());
    assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    assert.equal((await client.health()).status, "ok");
  } finally {
    ac.abort();
    await server.close();
  }
});

Deno.test("rpc: jobs.cancel stops an eval job before its next generation", async () => {
  const server = await startTestServer();
  const client = new RpcClient(server.url);
  const jobs = server.rpc.services.jobs;
  try {
    const { id } = await client.call("eval.start", {
      preset: "tiny",
      samples: 1,
      pres: 1,
      steps: 2,
    });
    const end = Date.now() + 60_000;
    while ((jobs.get(id).progress?.step ?? 0) < 1 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await client.call("jobs.cancel", { id });
    const done = await within(jobs.wait(id), 60_000);
    assert.equal(done.status, "cancelled", JSON.stringify(done.error));
    assert.ok((done.progress?.step ?? 0) < 25, `ran to step ${done.progress?.step}`);
    await assert.rejects(Deno.stat(`${server.dir}/jobs/${id}/metrics.json`), Deno.errors.NotFound);
  } finally {
    await server.close();
  }
});
