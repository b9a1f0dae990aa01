import assert from "assert";
import { RpcClient, RpcClientError } from "./client.ts";
import { startTestServer } from "../tests/rpc_fixtures.ts";

Deno.test("RpcClient: call, typed errors, notify, batch, health, token", async () => {
  const token = "client-test-token";
  const server = await startTestServer({ token });
  try {
    const client = new RpcClient(`${server.url}/rpc`, { token });
    const { ids, pieces } = await client.call("tokenizer.encode", { text: "a dog", pieces: true });
    assert.deepEqual(ids, [3, 9, 1782]);
    assert.deepEqual(pieces, ["▁", "a", "▁dog"]);
    assert.equal((await client.call("tokenizer.decode", { ids })).text, "a dog");
    const err = await client.call("jobs.get", { id: "unknown-id" }).catch((e) => e);
    assert.ok(err instanceof RpcClientError);
    assert.equal(err.code, -32004);
    assert.deepEqual(err.data, { id: "unknown-id" });
    await client.notify("jobs.list", {});
    const results = await client.batch([
      { method: "subtract", params: [42, 23] },
      { method: "update", params: [1], notify: true },
      { method: "nope" },
      { method: "tokenizer.encode", params: { text: 1 } },
    ]);
    assert.deepEqual(results[0], { ok: true, result: 19 });
    assert.equal(results.length, 3);
    assert.equal(!results[1].ok && results[1].error.code, -32601);
    assert.equal(
      !results[2].ok && results[2].error.data && (results[2].error.data as { field: string }).field,
      "text",
    );
    assert.equal((await client.health()).status, "ok");
    const anonymous = new RpcClient(server.url);
    const denied = await anonymous.call("jobs.list", {}).catch((e) => e);
    assert.ok(denied instanceof RpcClientError);
    assert.equal(denied.status, 401);
    const { id } = await client.call<{ id: string }>("debug.sleep.start", { steps: 2, stepMs: 5 });
    const seen: number[] = [];
    const job = await client.waitForJob(id, {
      intervalMs: 5,
      onProgress: (j) => seen.push(j.progress?.step ?? 0),
    });
    assert.equal(job.status, "succeeded");
    assert.equal(seen.at(-1), 2);
  } finally {
    await server.close();
  }
});
