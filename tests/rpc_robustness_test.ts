/**
 * Acceptance 4 of issue 8: bad input leaves the server up and answers correctly — malformed
 * JSON, a 20 MB body, a 10 000-call batch, path traversal, wrong types, NaN and negative
 * numbers, unknown job ids, cancelling a finished job.
 */
import assert from "assert";
import { postRpc, startTestServer, type TestServer, within } from "./rpc_fixtures.ts";

function call(method: string, params?: unknown, id: number | string = 1): string {
  return JSON.stringify(
    params === undefined ? { jsonrpc: "2.0", method, id } : { jsonrpc: "2.0", method, params, id },
  );
}

type Answer = {
  error?: { code: number; message: string; data?: { field?: string } };
  result?: unknown;
};

async function rpcError(server: TestServer, method: string, params?: unknown) {
  const { status, json } = await postRpc(server.url, call(method, params));
  assert.equal(status, 200);
  const answer = json as Answer;
  assert.ok(answer.error, `expected an error from ${method}, got ${JSON.stringify(json)}`);
  return answer.error;
}

async function assertUp(server: TestServer) {
  const res = await fetch(`${server.url}/health`);
  assert.equal(res.status, 200);
  assert.equal((await res.json()).status, "ok");
}

Deno.test("rpc: bad input leaves the server up and gets correct answers", async (t) => {
  const server = await startTestServer();
  try {
    await t.step("malformed JSON → -32700", async () => {
      for (const body of ['{"jsonrpc": "2.0", "method"', "", "\u0000\u00ff", "{'a': 1}", "[1,"]) {
        const { json } = await postRpc(server.url, body);
        assert.deepEqual(json, {
          jsonrpc: "2.0",
          id: null,
          error: { code: -32700, message: "Parse error" },
        });
      }
      await assertUp(server);
    });

    await t.step(
      "20 MB body → HTTP 413 with a JSON-RPC error (with and without length)",
      async () => {
        const big = new TextEncoder().encode(
          call("tokenizer.encode", { text: "x".repeat(20 * 1024 * 1024) }),
        );
        const sized = await postRpc(server.url, big);
        assert.equal(sized.status, 413);
        assert.equal((sized.json as Answer).error?.code, -32600);
        assert.match((sized.json as Answer).error!.message, /exceeds the limit of 10485760 bytes/);
        let sent = 0;
        const chunk = new Uint8Array(1024 * 1024).fill(32);
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent >= 20) return controller.close();
            sent++;
            controller.enqueue(chunk);
          },
        });
        const chunked = await postRpc(server.url, stream);
        assert.equal(chunked.status, 413);
        await assertUp(server);
      },
    );

    await t.step(
      "10 000-call batch → one -32600 naming the limit; 1000 calls all answered",
      async () => {
        const batch = (n: number) =>
          "[" + Array.from({ length: n }, (_, i) => call("tokenizer.encode", { text: "a dog" }, i))
            .join(",") +
          "]";
        const { json } = await postRpc(server.url, batch(10_000));
        assert.equal((json as Answer).error?.code, -32600);
        assert.match(
          (json as Answer).error!.message,
          /batch of 10000 calls exceeds the limit of 1000/,
        );
        const ok = await postRpc(server.url, batch(1000));
        const answers = ok.json as { id: number; result: { ids: number[] } }[];
        assert.equal(answers.length, 1000);
        assert.deepEqual(new Set(answers.map((a) => a.id)).size, 1000);
        assert.ok(answers.every((a) => a.result.ids.length > 0));
        await assertUp(server);
      },
    );

    await t.step("path traversal → -32602 naming the field; /files refuses it", async () => {
      await Deno.symlink("/etc", `${server.dir}/escape`);
      await Deno.writeTextFile(`${server.dir}/inside.txt`, "inside");
      for (
        const model of ["../../etc/passwd", "/etc/passwd", "a/../../x", "escape/passwd", "x\u0000y"]
      ) {
        const error = await rpcError(server, "tokenizer.encode", { text: "a", model });
        assert.equal(error.code, -32602, model);
        assert.equal(error.data?.field, "model");
        assert.match(error.message, /^Invalid params: 'model' must/);
      }
      const notModel = await rpcError(server, "tokenizer.encode", {
        text: "a",
        model: "inside.txt",
      });
      assert.equal(notModel.code, -32602);
      assert.ok(!notModel.message.includes(server.rpc.services.dataRoot.path), notModel.message);
      for (
        const path of [
          "%2e%2e/%2e%2e/etc/passwd",
          "..%2f..%2fetc%2fpasswd",
          "escape/passwd",
          "%2fetc%2fpasswd",
        ]
      ) {
        // The URL parser already folds `%2e%2e/` segments (then no route matches: 404); what
        // reaches /files is refused (403). Either way nothing outside the root is served.
        const res = await fetch(`${server.url}/files/${path}`);
        const body = await res.text();
        assert.ok([403, 404].includes(res.status), `${path}: ${res.status}`);
        assert.ok(!body.includes("root:"), path);
      }
      const inside = await fetch(`${server.url}/files/inside.txt`);
      assert.equal(await inside.text(), "inside");
      const raw = await fetch(`${server.url}/files/..%2f..%2fetc%2fpasswd`);
      await raw.body?.cancel();
      assert.equal(raw.status, 403);
      const missing = await fetch(`${server.url}/files/nope.png`);
      await missing.body?.cancel();
      assert.equal(missing.status, 404);
      await assertUp(server);
    });

    await t.step("wrong types → -32602 naming the field", async () => {
      const cases: [string, unknown, string, RegExp][] = [
        ["tokenizer.encode", { text: 3 }, "text", /'text' must be a string: current value is 3/],
        ["tokenizer.encode", {}, "text", /'text' is required/],
        ["tokenizer.encode", ["a dog"], "", /params must be an object \(named params\)/],
        ["tokenizer.encode", { text: "a", lenght: 3 }, "lenght", /'lenght' is not a known field/],
        ["tokenizer.encode", { text: "a", pieces: "yes" }, "pieces", /must be a boolean/],
        ["tokenizer.decode", { ids: "1,2" }, "ids", /'ids' must be an array/],
        ["tokenizer.decode", { ids: [1, 2.5] }, "ids[1]", /'ids\[1\]' must be an integer/],
        ["tokenizer.decode", { ids: [1, 99999] }, "ids", /ids\[1\].*32000/],
        ["jobs.list", { status: ["done"] }, "status[0]", /must be one of queued/],
        ["debug.sleep.start", { steps: "5" }, "steps", /'steps' must be an integer/],
      ];
      for (const [method, params, field, message] of cases) {
        const error = await rpcError(server, method, params);
        assert.equal(error.code, -32602, `${method} ${JSON.stringify(params)}`);
        assert.equal(error.data?.field, field);
        assert.match(error.message, message);
      }
      await assertUp(server);
    });

    await t.step("NaN, Infinity and negative numbers → -32700 or -32602", async () => {
      const nan = await postRpc(
        server.url,
        '{"jsonrpc":"2.0","method":"tokenizer.encode","params":{"text":"a","length":NaN},"id":1}',
      );
      assert.equal((nan.json as Answer).error?.code, -32700);
      const cases: [string, unknown, string][] = [
        ["tokenizer.encode", { text: "a", length: "NaN" }, "length"],
        ["tokenizer.encode", { text: "a", length: -3 }, "length"],
        ["tokenizer.encode", { text: "a", length: 0 }, "length"],
        ["debug.sleep.start", { steps: -1 }, "steps"],
        ["debug.sleep.start", { steps: 5, stepMs: -10 }, "stepMs"],
        ["jobs.list", { limit: -1 }, "limit"],
      ];
      for (const [method, params, field] of cases) {
        const error = await rpcError(server, method, params);
        assert.equal(error.code, -32602, JSON.stringify(params));
        assert.equal(error.data?.field, field);
      }
      const inf = await postRpc(
        server.url,
        '{"jsonrpc":"2.0","method":"jobs.list","params":{"limit":1e400},"id":1}',
      );
      assert.match((inf.json as Answer).error!.message, /'limit' must be an integer.*Infinity/);
      await assertUp(server);
    });

    await t.step("unknown job ids → -32004; malformed ids → -32602", async () => {
      for (const method of ["jobs.get", "jobs.cancel", "jobs.resume"]) {
        const error = await rpcError(server, method, { id: "20990101T000000-000000" });
        assert.equal(error.code, -32004);
        assert.match(error.message, /Unknown job '20990101T000000-000000'/);
        const bad = await rpcError(server, method, { id: "../../etc" });
        assert.equal(bad.code, -32602);
        assert.equal(bad.data?.field, "id");
      }
      await assertUp(server);
    });

    await t.step("cancelling a finished job → -32009 with its status", async () => {
      const { json } = await postRpc(
        server.url,
        call("debug.sleep.start", { steps: 1, stepMs: 0 }),
      );
      const { id } = (json as { result: { id: string } }).result;
      await within(server.rpc.services.jobs.wait(id));
      const error = await rpcError(server, "jobs.cancel", { id });
      assert.equal(error.code, -32009);
      assert.match(error.message, /already finished: status is succeeded/);
      assert.deepEqual(error.data, { id, status: "succeeded" });
      await assertUp(server);
    });

    await t.step("other HTTP misuse: wrong method, unknown route, wrong content type", async () => {
      const get = await fetch(`${server.url}/rpc`);
      await get.body?.cancel();
      assert.equal(get.status, 404);
      const text = await postRpc(server.url, call("jobs.list"), { "content-type": "text/plain" });
      assert.equal(text.status, 415);
      const form = await postRpc(server.url, call("jobs.list"), {
        "content-type": "application/x-www-form-urlencoded",
      });
      assert.equal(form.status, 415);
      await assertUp(server);
    });
  } finally {
    await server.close();
  }
});
