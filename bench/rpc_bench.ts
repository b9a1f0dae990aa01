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
 *
 * Figures are printed, never asserted (benchmarks do not gate CI).
 *
 * @module
 */
import { startTestServer } from "../tests/rpc_fixtures.ts";
import { RpcClient } from "../rpc/client.ts";

const calls = 200;
const stepMs = Number(Deno.env.get("RPC_BENCH_STEP_MS") ?? 100);

if (Deno.args.includes("--serve")) {
  const server = await startTestServer();
  console.log(server.url);
  // Runs until the parent kills it.
  await new Promise(() => {});
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function burst(
  url: string,
): Promise<{ p50: number; p99: number; max: number; wall: number; ok: number }> {
  const body = (i: number) =>
    JSON.stringify({
      jsonrpc: "2.0",
      method: "tokenizer.encode",
      params: { text: `a photo of a sks dog on the beach, number ${i}` },
      id: i,
    });
  const t0 = performance.now();
  const latencies = await Promise.all(Array.from({ length: calls }, async (_, i) => {
    const start = performance.now();
    const res = await fetch(`${url}/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body(i),
    });
    const json = await res.json();
    if (json.id !== i || !Array.isArray(json.result?.ids)) {
      throw new Error(`bad answer ${JSON.stringify(json)}`);
    }
    return performance.now() - start;
  }));
  const wall = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  return {
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies[latencies.length - 1],
    wall,
    ok: latencies.length,
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
try {
  await client.call("tokenizer.encode", { text: "warm up" });
  await burst(url); // warm-up burst (JIT, connections)
  console.log(
    `${calls} concurrent tokenizer.encode calls, one HTTP request each; job steps ${stepMs} ms`,
  );
  console.log("scenario                         | answered | p50 ms | p99 ms | max ms | wall ms");
  const row = (name: string, r: Awaited<ReturnType<typeof burst>>) =>
    console.log(
      `${name.padEnd(32)} | ${String(r.ok).padStart(8)} | ${r.p50.toFixed(1).padStart(6)} | ${
        r.p99.toFixed(1).padStart(6)
      } | ${r.max.toFixed(1).padStart(6)} | ${r.wall.toFixed(0).padStart(7)}`,
    );
  row("idle (baseline)", await burst(url));
  for (
    const [name, kind] of [
      ["sleep job", "debug.sleep"],
      ["busy job in a worker", "debug.busy"],
      ["busy job on the server thread", "debug.busy_main"],
      ["sample job (tfjs wasm, worker)", "sample"],
    ] as const
  ) {
    const params = kind === "sample"
      ? { prompt: "a dog on the beach", steps: 1000, stages: 2 }
      : { steps: 1000, stepMs };
    const { id } = await client.call<{ id: string }>(`${kind}.start`, params);
    for (;;) {
      const job = await client.call("jobs.get", { id });
      if ((job.progress?.step ?? 0) >= 2) break;
      if (job.status !== "running" && job.status !== "queued") throw new Error(`job ${job.status}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    row(name, await burst(url));
    await client.call("jobs.cancel", { id });
    for (;;) {
      const job = await client.call("jobs.get", { id });
      if (job.status === "cancelled") break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  row("idle again", await burst(url));
} finally {
  await reader.cancel().catch(() => {});
  child.kill("SIGTERM");
  await child.status;
}
