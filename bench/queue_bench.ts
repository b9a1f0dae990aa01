/**
 * `deno run -A bench/queue_bench.ts [--jobs 6] [--steps 2]`: the Redis job queue (issue 34).
 * Starts a throwaway `redis-server` on a free loopback port, `deno task serve --queue` and
 * `deno task worker` processes (as a user would), then measures
 *
 * - throughput: N tiny-preset `sample` jobs (both stages, `steps` sampler steps) queued at once,
 *   with 1 worker and then 2 workers: jobs per minute from the first submission to the last finish;
 * - queue overhead per job: a job submitted to an idle worker, one at a time, from its record's
 *   `createdAt` (the server wrote it) to its `startedAt` (the worker took it from BullMQ and wrote
 *   `running`), in ms; and the run time of a job (`startedAt` → `finishedAt`, which includes the
 *   job's child process starting and loading tfjs).
 *
 * Figures are printed, never asserted. Needs redis-server on PATH.
 *
 * @module
 */
import { declareParams, parseCliOrExit } from "../params/mod.ts";
import { RpcClient } from "../rpc/client.ts";
import type { JobRecord } from "../rpc/mod.ts";
import { startQueueProcess, startRedis, type WatchedProcess } from "../rpc/local_redis.ts";

const values = parseCliOrExit(Deno.args, {
  params: declareParams("bench", {
    jobs: { type: "integer", min: 1, max: 1000, default: 6, help: "jobs to queue" },
    steps: { type: "integer", min: 1, max: 10_000, default: 2, help: "steps per job" },
  }),
  usage: "deno run -A bench/queue_bench.ts [options]",
});
const { jobs, steps } = values;

async function finished(client: RpcClient, ids: string[]): Promise<JobRecord[]> {
  const done = new Map<string, JobRecord>();
  while (done.size < ids.length) {
    for (const id of ids) {
      if (done.has(id)) continue;
      const r = await client.call<JobRecord>("jobs.get", { id });
      if (["succeeded", "failed", "cancelled", "interrupted"].includes(r.status)) done.set(id, r);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return ids.map((id) => done.get(id)!);
}

const ms = (a?: string, b?: string) => Date.parse(b!) - Date.parse(a!);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

async function round(workerCount: number): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "queue_bench_" });
  const procs: WatchedProcess[] = [];
  try {
    const redis = await startRedis(dir);
    procs.push(redis.proc);
    const url = redis.url;
    const server = startQueueProcess("server", { url, store: dir });
    procs.push(server);
    const workers = Array.from(
      { length: workerCount },
      (_, i) => startQueueProcess("worker", { url, store: dir }, { name: `w${i + 1}` }),
    );
    procs.push(...workers);
    const client = new RpcClient(
      (await server.waitFor(/Listening on (http:\/\/\S+?)\/?\n/, 120_000))[1],
    );
    for (const w of workers) await w.waitFor(/ready/, 120_000);
    const params = (seed: number) => ({ preset: "tiny", prompt: "a dog", steps, seed });

    // Warm-up (first child process compiles and caches modules), then the overhead, one at a time.
    await finished(client, [(await client.call<{ id: string }>("sample.start", params(0))).id]);
    const single: JobRecord[] = [];
    for (let i = 0; i < 3; i++) {
      const { id } = await client.call<{ id: string }>("sample.start", params(100 + i));
      single.push(...await finished(client, [id]));
    }
    // Throughput: all at once.
    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < jobs; i++) {
      ids.push((await client.call<{ id: string }>("sample.start", params(i + 1))).id);
    }
    const all = await finished(client, ids);
    const minutes = (performance.now() - t0) / 60_000;
    const ok = all.filter((r) => r.status === "succeeded").length;
    console.log(
      `| ${workerCount} | ${jobs} (${ok} ok) | ${(jobs / minutes).toFixed(1)} | ` +
        `${mean(single.map((r) => ms(r.createdAt, r.startedAt))).toFixed(0)} | ` +
        `${(mean(single.map((r) => ms(r.startedAt, r.finishedAt))) / 1000).toFixed(2)} |`,
    );
  } finally {
    for (const p of procs.reverse()) await p.stop("SIGTERM", 10_000);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

console.log(
  `Redis queue bench: ${jobs} tiny sample jobs (${steps} sampler steps per stage) per round; ` +
    `load average ${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")} at start`,
);
console.log(
  "| workers | jobs | jobs/min | enqueue → start, idle worker (ms, mean of 3) | run time per job (s) |",
);
console.log("|---|---|---|---|---|");
await round(1);
await round(2);
console.log(`load average at end ${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
