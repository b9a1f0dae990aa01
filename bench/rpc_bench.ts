/**
 * `deno task bench rpc`: latency of 200 concurrent `tokenizer.encode` calls (one HTTP request
 * each) while a compute job runs, against a baseline with no job, in the same run.
 *
 * The server runs in a child process (this script with `--serve`) with the served methods plus
 * the test fixtures' job kinds, so that the load generator does not share its event loop:
 *
 * - `idle`: no job.
 * - `sleep job`: `debug.sleep` (awaits between steps: an I/O-bound job).
 * - `busy job in a worker`: `debug.busy` — a synchronous CPU loop in a Worker (`workerJobKind`),
 *   the way training should be plugged in.
 * - `busy job on the server thread`: `debug.busy_main` — the same loop on the server's thread,
 *   yielding between steps (what an in-process tfjs training loop would do): calls wait for the
 *   step in progress.
 * - `sample job`: the served `sample` job (tiny preset, both stages, tfjs wasm in a worker): real
 *   compute.
 * - `train job`: the served `train.start` (DreamBooth on the tiny preset, tfjs wasm in a worker),
 *   issue 8's acceptance item: the burst is fired once `jobs.get` says the job is `running` and
 *   past its first training step, and `jobs.get` is asked again after the burst, so the row shows
 *   that the job was training throughout (its state and steps are printed under the table).
 *
 * `--train-only` runs just the baseline and the train job; `RPC_BENCH_TRAIN_BURSTS` (default 3)
 * sets how many bursts the train job gets, a second apart. Every row says how many of the 200
 * calls were answered with a correct result. Figures are printed, never asserted (benchmarks do
 * not gate CI).
 *
 * @module
 */
import {
  busyMainThreadJob,
  busyWorkerJob,
  createRpcApp,
  ModelHost,
  servedMethods,
  sleepJob,
} from "../rpc/mod.ts";
import { RpcClient } from "../rpc/client.ts";
import { declareParams, parseCliOrExit } from "../params/mod.ts";

const values = parseCliOrExit(Deno.args, {
  params: declareParams("bench", {
    serve: { type: "boolean", default: false, help: "(internal) run as the benchmark's server" },
    trainOnly: { type: "boolean", default: false, help: "only the calls-during-training part" },
  }),
  usage: "deno run -A bench/rpc_bench.ts [--train-only]",
});

const calls = 200;
const stepMs = Number(Deno.env.get("RPC_BENCH_STEP_MS") ?? 100);

if (values.serve) {
  // The served methods plus the debug job kinds, on 127.0.0.1 with a temporary data root.
  const models = new ModelHost({});
  const served = servedMethods({ models });
  const rpc = await createRpcApp({
    methods: served.methods,
    jobKinds: [...served.jobKinds, sleepJob, busyWorkerJob, busyMainThreadJob],
    log: () => {},
    models,
    dataRoot: await Deno.makeTempDir({ prefix: "rpc-bench-" }),
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, rpc.fetch);
  console.log(`http://127.0.0.1:${server.addr.port}`);
  // Runs until the parent kills it.
  await new Promise(() => {});
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** One burst's figures: latency quantiles of the answered calls, answered and failed counts. */
interface Burst {
  p50: number;
  p99: number;
  max: number;
  wall: number;
  ok: number;
  failed: number;
}

async function burst(url: string): Promise<Burst> {
  const body = (i: number) =>
    JSON.stringify({
      jsonrpc: "2.0",
      method: "tokenizer.encode",
      params: { text: `a photo of a sks dog on the beach, number ${i}` },
      id: i,
    });
  const t0 = performance.now();
  const answers = await Promise.all(Array.from({ length: calls }, async (_, i) => {
    const start = performance.now();
    try {
      const res = await fetch(`${url}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: body(i),
      });
      const json = await res.json();
      if (json.id !== i || !Array.isArray(json.result?.ids)) {
        console.error(`call ${i}: bad answer ${JSON.stringify(json).slice(0, 200)}`);
        return null;
      }
      return performance.now() - start;
    } catch (err) {
      console.error(`call ${i}: ${err}`);
      return null;
    }
  }));
  const wall = performance.now() - t0;
  const latencies = answers.filter((a): a is number => a !== null).sort((a, b) => a - b);
  return {
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies[latencies.length - 1],
    wall,
    ok: latencies.length,
    failed: calls - latencies.length,
  };
}

const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", new URL(import.meta.url).pathname, "--serve"],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let firstLine = "";
while (!firstLine.includes("\n")) {
  const { value, done } = await reader.read();
  if (done) throw new Error("the server child exited before printing its URL");
  firstLine += value;
}
const url = firstLine.trim().split("\n")[0];
const client = new RpcClient(url);
const trainOnly = values.trainOnly;
const trainBursts = Number(Deno.env.get("RPC_BENCH_TRAIN_BURSTS") ?? 3);
/** Sized so that its class image is ready in seconds and it trains until cancelled. */
const trainParams = {
  preset: "tiny",
  steps: 100_000,
  numClassImages: 1,
  classSteps: 2,
  superRes: false,
  finalSamples: false,
  sampleEverySteps: 0,
};
const notes: string[] = [];
try {
  await client.call("tokenizer.encode", { text: "warm up" });
  await burst(url); // warm-up burst (JIT, connections)
  console.log(
    `${calls} concurrent tokenizer.encode calls, one HTTP request each; job steps ${stepMs} ms`,
  );
  console.log(
    "scenario                         | answered | p50 ms | p99 ms | max ms | wall ms",
  );
  const row = (name: string, r: Burst) =>
    console.log(
      `${name.padEnd(32)} | ${`${r.ok}/${calls}`.padStart(8)} | ${r.p50.toFixed(1).padStart(6)} | ${
        r.p99.toFixed(1).padStart(6)
      } | ${r.max.toFixed(1).padStart(6)} | ${r.wall.toFixed(0).padStart(7)}`,
    );
  row("idle (baseline)", await burst(url));
  const scenarios = [
    ["sleep job", "debug.sleep"],
    ["busy job in a worker", "debug.busy"],
    ["busy job on the server thread", "debug.busy_main"],
    ["sample job (tfjs wasm, worker)", "sample"],
    ["train job (tiny, worker)", "train"],
  ] as const;
  for (const [name, kind] of scenarios) {
    if (trainOnly && kind !== "train") continue;
    const params = kind === "sample"
      ? { prompt: "a dog on the beach", steps: 1000, stages: 2 }
      : kind === "train"
      ? trainParams
      : { steps: 1000, stepMs };
    const { id } = await client.call<{ id: string }>(`${kind}.start`, params);
    let before = await client.call("jobs.get", { id });
    for (;;) {
      before = await client.call("jobs.get", { id });
      if (before.status === "running" && (before.progress?.step ?? 0) >= 2) break;
      if (before.status !== "running" && before.status !== "queued") {
        throw new Error(`job ${kind} ${before.status}: ${JSON.stringify(before.error)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    // The train job gets several bursts a second apart (training steps of the tiny preset take
    // about that long): one burst may land in a quiet moment of the job, several sample its steps.
    const bursts = kind === "train" ? trainBursts : 1;
    for (let b = 1; b <= bursts; b++) {
      if (b > 1) {
        await new Promise((r) => setTimeout(r, 1000));
        before = await client.call("jobs.get", { id });
      }
      const r = await burst(url);
      const after = await client.call("jobs.get", { id });
      row(bursts > 1 ? `${name.slice(0, 27)} #${b}` : name.slice(0, 32), r);
      if (kind === "train") {
        notes.push(
          `train job ${id}, burst ${b}: ${before.status} at step ${before.progress?.step} before, ` +
            `${after.status} at step ${after.progress?.step} of ${after.progress?.total} after ` +
            `(${
              after.progress?.message ?? ""
            }); ${r.ok} of ${calls} answered, ${r.failed} failed; ` +
            `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms`,
        );
      }
    }
    await client.call("jobs.cancel", { id });
    for (;;) {
      const job = await client.call("jobs.get", { id });
      if (job.status !== "running" && job.status !== "queued") break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  row("idle again", await burst(url));
  for (const note of notes) console.log(note);
} finally {
  await reader.cancel().catch(() => {});
  child.kill("SIGTERM");
  await child.status;
}
