/**
 * `deno task serve --queue` with `deno task worker`: Redis (a throwaway redis-server on a free
 * loopback port), one server and three workers. Nine tiny-preset jobs of four kinds all finish;
 * a worker is killed with SIGKILL in the middle of a training job, which another worker resumes
 * from its checkpoint (its worker.log shows the resume); no job completes twice; every artefact is
 * whole; the server is restarted midway and still lists every job; progress reaches `GET /events`.
 *
 * Skips (saying why) without redis-server, unless CI=true, where it fails instead.
 */
import assert from "assert";
import { join } from "node:path";
import { RpcClient } from "../rpc/client.ts";
import type { JobRecord } from "../rpc/mod.ts";
import { Proc, redisCli, redisMissing, startQueueProcess, startRedis } from "./_redis_fixture.ts";

const missing = redisMissing();
const ci = Deno.env.get("CI") === "true";
if (missing !== undefined && !ci) {
  console.log(`SKIP tests/rpc_redis_queue_test.ts: ${missing}`);
}

/** Steps of the training job whose worker is killed: long enough that the kill lands mid-run on a
 * quiet machine (the tiny preset trains ~7 steps/s there). */
const LONG_STEPS = 30;

/** The tiny DreamBooth run of tests/rpc_compute_jobs_test.ts. */
const fastTrain = {
  preset: "tiny",
  numClassImages: 1,
  classSteps: 2,
  superRes: false,
  finalSamples: false,
  sampleEverySteps: 0,
};

function startServer(url: string, store: string): Proc {
  return startQueueProcess("server", { url, store });
}

function startWorker(url: string, store: string, name: string, extra: string[] = []): Proc {
  const args = ["--lock-s", "4", "--stalled-s", "2", "--grace-s", "20", ...extra];
  return startQueueProcess("worker", { url, store }, { name, args });
}

async function serverUrl(server: Proc): Promise<string> {
  return (await server.waitFor(/Listening on (http:\/\/\S+?)\/?\n/))[1];
}

/** Checks that a file is whole: PNG to its IEND chunk, safetensors to its last tensor, JSON. */
async function assertWhole(path: string): Promise<void> {
  const bytes = await Deno.readFile(path);
  if (path.endsWith(".png")) {
    assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], `${path}: not a PNG`);
    const tail = new TextDecoder().decode(bytes.subarray(bytes.length - 8, bytes.length - 4));
    assert.equal(tail, "IEND", `${path}: truncated PNG`);
  } else if (path.endsWith(".safetensors")) {
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    let end = 0;
    for (const [k, v] of Object.entries(header)) {
      if (k !== "__metadata__") {
        end = Math.max(end, (v as { data_offsets: number[] }).data_offsets[1]);
      }
    }
    assert.equal(bytes.length, 8 + n + end, `${path}: truncated safetensors`);
  } else if (path.endsWith(".json")) {
    JSON.parse(new TextDecoder().decode(bytes));
  }
}

function filesOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string" && /\.(png|safetensors|json)$/.test(value)) out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => filesOf(v, out));
  else if (value !== null && typeof value === "object") {
    Object.values(value).forEach((v) => filesOf(v, out));
  }
  return out;
}

Deno.test({
  name:
    "rpc: Redis queue: 3 workers, 9 mixed jobs, one worker killed mid-training, server restarted",
  ignore: missing !== undefined && !ci,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  if (missing !== undefined) throw new Error(`CI=true but ${missing}`);
  const dir = await Deno.makeTempDir({ prefix: "redis_queue_test_" });
  const store = join(dir, "store");
  await Deno.mkdir(store);
  const redis = await startRedis(dir);
  const procs: Proc[] = [redis.proc];
  let server = startServer(redis.url, store);
  procs.push(server);
  const workers = ["w1", "w2", "w3"].map((n) => startWorker(redis.url, store, n));
  procs.push(...workers);
  try {
    let client = new RpcClient(await serverUrl(server));
    await Promise.all(workers.map((w) => w.waitFor(/ready/, 120_000)));

    // The long training job goes first, so that a worker takes it at once.
    const longTrain = await client.call<{ id: string }>("train.start", {
      ...fastTrain,
      steps: LONG_STEPS,
      checkpointEverySteps: 2,
    });
    const specs: [string, unknown][] = [
      ["train.start", { ...fastTrain, steps: 2 }],
      ["sample.start", { preset: "tiny", prompt: "a dog", steps: 2, seed: 1 }],
      ["sample.start", { preset: "tiny", prompt: "a cat", steps: 2, seed: 2 }],
      ["sample.start", { preset: "tiny", prompt: "a bowl", steps: 2, seed: 3 }],
      ["sample.start", { preset: "tiny", prompt: "a vase", steps: 2, seed: 4 }],
      ["eval.start", { preset: "tiny", samples: 1, prompts: 2, pres: 2, steps: 2 }],
      ["eval.start", { preset: "tiny", samples: 1, prompts: 2, pres: 2, steps: 2, seed: 5 }],
      ["superres.start", { preset: "tiny", steps: 1, batchSize: 1, sampleSteps: 0 }],
    ];
    const ids = [longTrain.id];
    for (const [method, params] of specs) {
      ids.push((await client.call<{ id: string }>(method, params)).id);
    }
    assert.equal(new Set(ids).size, 9);

    // Kill the worker running the long training job once it is past a checkpoint (step 2).
    let victim: Proc | undefined;
    const t0 = Date.now();
    while (victim === undefined) {
      assert.ok(Date.now() - t0 < 120_000, "the long training job never reached step 3");
      const job = await client.call<JobRecord>("jobs.get", { id: longTrain.id });
      if (job.status === "running" && (job.progress?.step ?? 0) >= 3) {
        victim = workers.find((w) => w.output.includes(`job ${longTrain.id} (train) attempt 1`));
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const stepAtKill = (await client.call<JobRecord>("jobs.get", { id: longTrain.id })).progress!
      .step;
    await victim.stop("SIGKILL");

    // Restart the server while jobs run: the records live in Redis.
    await server.stop("SIGTERM");
    server = startServer(redis.url, store);
    procs.push(server);
    client = new RpcClient(await serverUrl(server));
    const listed = await client.call<{ jobs: JobRecord[] }>("jobs.list", {});
    assert.deepEqual(new Set(listed.jobs.map((j) => j.id)), new Set(ids));
    for (const j of listed.jobs) assert.ok(j.status.length > 0 && j.kind.length > 0);

    // Progress from the workers reaches the restarted server's event stream.
    const ac = new AbortController();
    const progressSeen = (async () => {
      for await (const ev of client.events({ signal: ac.signal })) {
        if (ev.event === "progress") return true;
      }
      return false;
    })().catch(() => false);

    // Every job finishes.
    const final = new Map<string, JobRecord>();
    const t1 = Date.now();
    while (final.size < ids.length) {
      assert.ok(
        Date.now() - t1 < 240_000,
        `jobs still open: ${ids.filter((id) => !final.has(id)).join(", ")}\n` +
          workers.map((w) => w.output).join("\n"),
      );
      for (const id of ids) {
        if (final.has(id)) continue;
        const r = await client.call<JobRecord>("jobs.get", { id });
        if (["succeeded", "failed", "cancelled", "interrupted"].includes(r.status)) {
          final.set(id, r);
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const r of final.values()) {
      assert.equal(r.status, "succeeded", `${r.id} (${r.kind}): ${JSON.stringify(r.error)}`);
    }
    assert.ok(await Promise.race([progressSeen, new Promise((r) => setTimeout(r, 5000))]));
    ac.abort();

    // The killed job finished on another worker, resumed from its checkpoint.
    const resumed = final.get(longTrain.id)!;
    assert.ok(resumed.attempts >= 2, `attempts ${resumed.attempts}`);
    const log = await Deno.readTextFile(join(store, "jobs", longTrain.id, "worker.log"));
    assert.match(log, /attempt 2 on worker w\d .*\(resume: true\)/);
    // Attempt 2 resumes from a checkpoint that attempt 1 wrote (none of its own exists yet when it
    // logs this), and trains only the steps left. That checkpoint may be newer than the progress step
    // read before the kill: the progress relay lags, and the job's child process finishes the step
    // it is in (and may write its checkpoint) before it sees its worker's death and exits.
    const from = Number(log.match(/resuming '.*' from step (\d+)/)?.[1]);
    assert.ok(
      from >= 2 && from < LONG_STEPS,
      `resumed from ${from}, killed at ${stepAtKill}\n${log}`,
    );
    assert.match(
      log,
      new RegExp(`this run: ${LONG_STEPS - from} steps in`),
      `resumed from ${from}\n${log}`,
    );
    assert.equal((resumed.result as { metrics: { steps: number } }).metrics.steps, LONG_STEPS);
    console.log(
      `killed ${victim.label} at step ${stepAtKill}; ${
        log.match(/attempt 2 on worker (w\d)/)?.[1]
      } ` +
        `resumed from step ${from}; all 9 jobs done ${
          ((Date.now() - t0) / 1000).toFixed(0)
        } s after the first started`,
    );

    // No job completed twice (Redis counts each successful finish; the logs agree).
    const completions = (await redisCli(redis.port, "HGETALL", "dreambooth:completions"))
      .trim().split("\n");
    const counts = new Map<string, number>();
    for (let i = 0; i + 1 < completions.length; i += 2) {
      counts.set(completions[i], Number(completions[i + 1]));
    }
    for (const id of ids) assert.equal(counts.get(id), 1, `job ${id} completed ${counts.get(id)}×`);
    const allLogs = workers.map((w) => w.output).join("\n");
    for (const id of ids) {
      assert.equal(allLogs.split(`job ${id} (`).length - 1 >= 1, true);
      assert.equal(allLogs.match(new RegExp(`job ${id} \\(\\w+\\) succeeded`, "g"))?.length, 1);
    }

    // No artefact lost or half-written.
    let checked = 0;
    for (const r of final.values()) {
      for (const rel of filesOf(r.result)) {
        await assertWhole(join(store, rel));
        checked++;
      }
    }
    assert.ok(checked >= 9, `only ${checked} files in the results`);
  } finally {
    for (const p of procs.reverse()) await p.stop("SIGTERM", 5000);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test({
  name:
    "rpc: Redis queue: jobs.cancel reaches the worker (running and waiting jobs); failures retry",
  ignore: missing !== undefined && !ci,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  if (missing !== undefined) throw new Error(`CI=true but ${missing}`);
  const dir = await Deno.makeTempDir({ prefix: "redis_queue_test_" });
  const store = join(dir, "store");
  await Deno.mkdir(store);
  await Deno.writeFile(join(store, "bad.safetensors"), new Uint8Array(64).fill(7));
  const redis = await startRedis(dir);
  const server = startServer(redis.url, store);
  const worker = startWorker(redis.url, store, "w1", ["--kinds", "train,sample"]);
  const procs = [redis.proc, server, worker];
  try {
    const client = new RpcClient(await serverUrl(server));
    await worker.waitFor(/ready: kinds sample,train;/, 120_000);
    const running = await client.call<{ id: string }>("train.start", { ...fastTrain, steps: 400 });
    const waiting = await client.call<{ id: string }>("train.start", { ...fastTrain, steps: 400 });
    const t0 = Date.now();
    while (
      ((await client.call<JobRecord>("jobs.get", { id: running.id })).progress?.step ?? 0) < 1
    ) {
      assert.ok(Date.now() - t0 < 120_000, `no training step:\n${worker.output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // A waiting job is taken out of BullMQ at once.
    const w = await client.call<JobRecord>("jobs.cancel", { id: waiting.id });
    assert.equal(w.status, "cancelled");
    assert.equal(w.error?.message, "Cancelled before it started");
    // A running one stops at its next step on the worker.
    const c = await client.call<JobRecord>("jobs.cancel", { id: running.id });
    assert.ok(c.status === "cancelling" || c.status === "cancelled", c.status);
    const t1 = Date.now();
    let r = c;
    while (r.status === "cancelling") {
      assert.ok(Date.now() - t1 < 60_000, `still cancelling:\n${worker.output}`);
      await new Promise((res) => setTimeout(res, 200));
      r = await client.call<JobRecord>("jobs.get", { id: running.id });
    }
    assert.equal(r.status, "cancelled");
    assert.ok((r.progress?.step ?? 0) < 400);
    assert.match(worker.output, new RegExp(`job ${running.id} cancelled`));

    // A job that fails is retried with back-off, then fails for good (3 attempts).
    const bad = await client.call<{ id: string }>("sample.start", {
      model: "bad.safetensors",
      prompt: "a dog",
      steps: 1,
    });
    const t2 = Date.now();
    let b = await client.call<JobRecord>("jobs.get", { id: bad.id });
    while (b.status !== "failed") {
      assert.ok(Date.now() - t2 < 120_000, `${b.status}:\n${worker.output}`);
      await new Promise((res) => setTimeout(res, 300));
      b = await client.call<JobRecord>("jobs.get", { id: bad.id });
    }
    assert.equal(b.attempts, 3);
    assert.equal(worker.output.match(new RegExp(`job ${bad.id} failed .*retried`, "g"))?.length, 2);
  } finally {
    for (const p of procs.reverse()) await p.stop("SIGTERM", 5000);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
