/**
 * Acceptance 5 of issue 8: with a token set, a missing or wrong token gets 401 (on every route
 * but /health); binding off loopback without a token is refused at start. Also: without a token,
 * a foreign Host header (DNS rebinding) gets 403.
 */
import assert from "assert";
import { postRpc, startTestServer } from "./rpc_fixtures.ts";

const token = "s3cret-token-for-tests";
const list = JSON.stringify({ jsonrpc: "2.0", method: "jobs.list", id: 1 });

Deno.test("rpc: a token is required on /rpc, /events and /files when set", async () => {
  const server = await startTestServer({ token });
  try {
    await Deno.writeTextFile(`${server.dir}/a.txt`, "a");
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong-token-xxxx" },
      { authorization: `Basic ${btoa("user:" + token)}` },
      { authorization: `Bearer ${token}x` },
      { authorization: "Bearer" },
    ];
    for (const headers of attempts) {
      const r = await postRpc(server.url, list, headers);
      assert.equal(r.status, 401, JSON.stringify(headers));
      for (const path of ["/events", "/files/a.txt"]) {
        const res = await fetch(`${server.url}${path}`, { headers });
        await res.body?.cancel();
        assert.equal(res.status, 401, path);
        assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
      }
    }
    const ok = await postRpc(server.url, list, { authorization: `Bearer ${token}` });
    assert.equal(ok.status, 200);
    assert.deepEqual((ok.json as { result: unknown }).result, { jobs: [] });
    // GET routes also take ?access_token= (EventSource and <img> cannot send headers) …
    const file = await fetch(`${server.url}/files/a.txt?access_token=${token}`);
    assert.equal(await file.text(), "a");
    // … POST /rpc does not.
    const query = await fetch(`${server.url}/rpc?access_token=${token}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: list,
    });
    await query.body?.cancel();
    assert.equal(query.status, 401);
    const health = await fetch(`${server.url}/health`);
    assert.equal((await health.json()).status, "ok");
  } finally {
    await server.close();
  }
});

Deno.test("rpc: without a token, a foreign Host header is refused (DNS rebinding)", async () => {
  const server = await startTestServer();
  // fetch() sets Host itself, so the requests go to the app directly.
  const post = async (host: string) => {
    const res = await server.rpc.fetch(
      new Request(`${server.url}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json", host },
        body: list,
      }),
    );
    await res.body?.cancel();
    return res.status;
  };
  try {
    assert.equal(await post("attacker.example:8787"), 403);
    assert.equal(await post("127.0.0.1.attacker.example"), 403);
    for (const host of ["localhost:1234", "127.0.0.1", "[::1]:80"]) {
      assert.equal(await post(host), 200, host);
    }
  } finally {
    await server.close();
  }
});

Deno.test("rpc: serve.ts refuses to bind off loopback without a token", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-check",
      new URL("../rpc/serve.ts", import.meta.url).pathname,
      "--host",
      "0.0.0.0",
      "--port",
      "0",
    ],
    env: { DREAMBOOTH_RPC_TOKEN: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 2, stderr);
  assert.match(stderr, /'--host' "0\.0\.0\.0" is not loopback and no token is set/);
  assert.equal(new TextDecoder().decode(out.stdout), "");
});
