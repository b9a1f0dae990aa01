/**
 * rpc/ imports by URL without deno.json: a fresh Deno with `--no-config` imports rpc/mod.ts and
 * rpc/client.ts by URL, builds the app, answers a call through the client, and runs a job in a
 * Worker loaded by URL.
 */
import assert from "assert";
import { explain, withServedCheckout } from "./_url_import.ts";

Deno.test("rpc: mod.ts and client.ts import by URL without deno.json and work", async () => {
  await withServedCheckout(async ({ base, scratch, run }) => {
    const r = await run(
      `import { createRpcApp, s, workerJobKind } from "${base}rpc/mod.ts";
import { RpcClient } from "${base}rpc/client.ts";
const job = workerJobKind({
  name: "busy",
  summary: "busy",
  params: s.object({ steps: s.integer(), stepMs: s.integer() }),
  module: "${base}rpc/debug_worker.ts",
});
const app = await createRpcApp({ dataRoot: "${scratch}/data", jobKinds: [job] });
const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
const client = new RpcClient("http://127.0.0.1:" + http.addr.port);
const { ids } = await client.call("tokenizer.encode", { text: "a dog" });
const { id } = await client.call("busy.start", { steps: 2, stepMs: 1 });
const done = await client.waitForJob(id, { intervalMs: 20 });
await app.close();
await http.shutdown();
console.log(ids.join(",") === "3,9,1782" && done.status === "succeeded" ? "OK" : "BAD " + ids + " " + JSON.stringify(done));
`,
      { timeoutMs: 120_000 },
    );
    assert.ok(r.success && r.lastLine === "OK", explain(r));
  });
});
