/**
 * Acceptance 1 of issue 8: every example of the JSON-RPC 2.0 specification
 * (https://www.jsonrpc.org/specification#examples) gets the response it gives, over HTTP,
 * compared as parsed JSON (byte-for-byte modulo key order and whitespace; batch answers modulo
 * order, which the specification leaves open).
 */
import assert from "assert";
import { postRpc, startTestServer } from "./rpc_fixtures.ts";

/** [name, request text, expected response text or null for "nothing"] as the spec prints them. */
const examples: [string, string, string | null][] = [
  [
    "positional params 1",
    '{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}',
    '{"jsonrpc": "2.0", "result": 19, "id": 1}',
  ],
  [
    "positional params 2",
    '{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}',
    '{"jsonrpc": "2.0", "result": -19, "id": 2}',
  ],
  [
    "named params 1",
    '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}',
    '{"jsonrpc": "2.0", "result": 19, "id": 3}',
  ],
  [
    "named params 2",
    '{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}',
    '{"jsonrpc": "2.0", "result": 19, "id": 4}',
  ],
  [
    "notification 1",
    '{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}',
    null,
  ],
  ["notification 2", '{"jsonrpc": "2.0", "method": "foobar"}', null],
  [
    "non-existent method",
    '{"jsonrpc": "2.0", "method": "foobar", "id": "1"}',
    '{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}',
  ],
  [
    "invalid JSON",
    '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]',
    '{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}',
  ],
  [
    "invalid Request object",
    '{"jsonrpc": "2.0", "method": 1, "params": "bar"}',
    '{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}',
  ],
  [
    "batch, invalid JSON",
    `[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]`,
    '{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}',
  ],
  [
    "empty array",
    "[]",
    '{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}',
  ],
  [
    "invalid batch (but not empty)",
    "[1]",
    '[{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}]',
  ],
  [
    "invalid batch",
    "[1,2,3]",
    `[
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}
]`,
  ],
  [
    "mixed batch",
    `[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
  {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
  {"foo": "boo"},
  {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
  {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
]`,
    `[
  {"jsonrpc": "2.0", "result": 7, "id": "1"},
  {"jsonrpc": "2.0", "result": 19, "id": "2"},
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
  {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}
]`,
  ],
  [
    "batch, all notifications",
    `[
  {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
  {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
]`,
    null,
  ],
];

/** Sorts object keys recursively, so that comparison ignores key order. */
function canonical(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : v !== null && typeof v === "object"
      ? Object.fromEntries(
        Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      )
      : v;
  return JSON.stringify(sort(value));
}

Deno.test("rpc: every JSON-RPC 2.0 specification example gets the specified response", async (t) => {
  const server = await startTestServer();
  try {
    for (const [name, request, expected] of examples) {
      await t.step(name, async () => {
        const { status, text } = await postRpc(server.url, request);
        if (expected === null) {
          assert.equal(status, 204, `${name}: expected no content, got ${status} ${text}`);
          assert.equal(text, "");
          return;
        }
        assert.equal(status, 200, text);
        const got = JSON.parse(text);
        const want = JSON.parse(expected);
        if (Array.isArray(want)) {
          assert.ok(Array.isArray(got), `${name}: expected an array, got ${text}`);
          assert.deepEqual(got.map(canonical).sort(), want.map(canonical).sort());
        } else {
          assert.equal(canonical(got), canonical(want));
        }
      });
    }
  } finally {
    await server.close();
  }
});
