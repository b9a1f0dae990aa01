/**
 * rpc/ imports by URL without deno.json (as DESIGN.md promises for every package): the checkout
 * is served on 127.0.0.1 and a fresh Deno with `--no-config` imports rpc/mod.ts and
 * rpc/client.ts by URL, builds the app, answers a call through the client, and runs a job in a
 * Worker loaded by URL.
 */
import assert from "assert";

const root = new URL("../", import.meta.url);

function contentType(path: string): string {
  if (path.endsWith(".ts")) return "application/typescript";
  if (path.endsWith(".js")) return "application/javascript";
  if (path.endsWith(".json")) return "application/json";
  return "application/octet-stream";
}

Deno.test("rpc: mod.ts and client.ts import by URL without deno.json and work", async () => {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname).replace(/^\/+/, "");
      if (path.split("/").includes("..")) return new Response("bad path", { status: 400 });
      try {
        const body = await Deno.readFile(new URL(path, root));
        return new Response(body, { headers: { "content-type": contentType(path) } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}/`;
  const scratch = await Deno.makeTempDir({ prefix: "rpc-url-import-" });
  try {
    const script = `${scratch}/main.ts`;
    await Deno.writeTextFile(
      script,
      `import { createRpcApp, s, workerJobKind } from "${base}rpc/mod.ts";
import { RpcClient } from "${base}rpc/client.ts";
const job = workerJobKind({
  name: "busy",
  summary: "busy",
  params: s.object({ steps: s.integer(), stepMs: s.integer() }),
  module: "${base}tests/rpc_worker_fixture.ts",
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
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", "--no-lock", `--reload=${base}`, script],
      cwd: scratch,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    const out = await child.output();
    clearTimeout(timer);
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success && /^OK$/m.test(stdout), `${stdout}\n${stderr.slice(-3000)}`);
  } finally {
    ac.abort();
    await server.finished;
    await Deno.remove(scratch, { recursive: true });
  }
});
