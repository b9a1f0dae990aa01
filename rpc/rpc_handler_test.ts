import assert from "assert";
import { defineMethod } from "./define_method.ts";
import { MethodRegistry } from "./method_registry.ts";
import { RpcHandler } from "./rpc_handler.ts";
import type { RpcServices } from "./rpc_services.ts";
import { s } from "./schema.ts";

function handler(options: { maxBatch?: number; timeoutMs?: number } = {}) {
  const errors: string[] = [];
  const registry = new MethodRegistry([
    defineMethod({
      name: "slow",
      summary: "Takes 'ms' and fails later.",
      params: s.object({ ms: s.integer({ minimum: 0 }) }),
      handler: async ({ ms }, { signal }) => {
        await new Promise((r) => setTimeout(r, ms));
        throw new Error(`late failure (aborted: ${signal.aborted})`);
      },
    }),
    defineMethod({
      name: "bug",
      summary: "Throws a bug.",
      params: s.object({}),
      handler: () => {
        throw new Error("undefined is not a function");
      },
    }),
    defineMethod({
      name: "patient",
      summary: "Has its own time limit.",
      params: s.object({}),
      timeoutMs: Infinity,
      handler: async () => {
        await new Promise((r) => setTimeout(r, 30));
        return "done";
      },
    }),
  ]);
  const h = new RpcHandler(registry, {} as RpcServices, {
    maxBatch: 3,
    timeoutMs: 20,
    onError: (m) => errors.push(m),
    ...options,
  });
  return { h, errors };
}

const req = (method: string, params?: unknown, id?: number) =>
  JSON.stringify({ jsonrpc: "2.0", method, ...(params ? { params } : {}), ...(id ? { id } : {}) });

Deno.test("RpcHandler: time limit → -32000; a bug → -32603 (logged); notifications stay silent", async () => {
  const { h, errors } = handler();
  assert.deepEqual(await h.handle(req("slow", { ms: 60 }, 1)), {
    jsonrpc: "2.0",
    id: 1,
    error: {
      code: -32000,
      message: "Method 'slow' timed out after 20 ms",
      data: { timeoutMs: 20 },
    },
  });
  assert.deepEqual(await h.handle(req("bug", {}, 2)), {
    jsonrpc: "2.0",
    id: 2,
    error: { code: -32603, message: "Internal error: undefined is not a function" },
  });
  assert.equal(errors.length, 1);
  assert.equal(await h.handle(req("bug", {})), null);
  assert.deepEqual(await h.handle(req("patient", {}, 3)), {
    jsonrpc: "2.0",
    id: 3,
    result: "done",
  });
  // The slow handler's late rejection (after its timeout) must not surface as unhandled.
  await new Promise((r) => setTimeout(r, 60));
});

Deno.test("RpcHandler: batch limit, request-object checks, rpc.discover", async () => {
  const { h } = handler();
  const four = `[${[1, 2, 3, 4].map((i) => req("patient", {}, i)).join(",")}]`;
  assert.deepEqual(await h.handle(four), {
    jsonrpc: "2.0",
    id: null,
    error: { code: -32600, message: "Invalid Request: a batch of 4 calls exceeds the limit of 3" },
  });
  const invalid = [
    '{"jsonrpc":"1.0","method":"patient","id":1}',
    '{"jsonrpc":"2.0","method":"patient","params":"x","id":1}',
    '{"jsonrpc":"2.0","method":"patient","params":null,"id":1}',
    '{"jsonrpc":"2.0","method":"patient","id":{"a":1}}',
    '{"jsonrpc":"2.0","method":"patient","id":1,"result":1}',
    "null",
    '"x"',
  ];
  for (const body of invalid) {
    const r = await h.handle(body) as { error: { code: number } };
    assert.equal(r.error.code, -32600, body);
  }
  assert.deepEqual(await h.handle("[null, 1]"), [
    { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid Request" } },
    { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid Request" } },
  ]);
  const doc = (await h.handle(req("rpc.discover", undefined, 9)) as {
    result: { methods: { name: string; params: unknown[]; paramStructure: string }[] };
  }).result;
  assert.deepEqual(doc.methods.map((m) => m.name), ["bug", "patient", "rpc.discover", "slow"]);
  const slow = doc.methods.find((m) => m.name === "slow")!;
  assert.equal(slow.paramStructure, "by-name");
  assert.deepEqual(slow.params, [{
    name: "ms",
    required: true,
    schema: { type: "integer", minimum: 0 },
  }]);
  const bad = await h.handle(req("rpc.discover", { x: 1 }, 9)) as { error: { code: number } };
  assert.equal(bad.error.code, -32602);
});
