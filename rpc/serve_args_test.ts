import assert from "assert";
import { parseServeArgs } from "./serve_args.ts";

Deno.test("parseServeArgs: defaults, validation naming the flag, token rule off loopback", () => {
  assert.deepEqual(parseServeArgs({}), {
    host: "127.0.0.1",
    port: 8787,
    token: undefined,
    dataRoot: "runs/rpc",
    backend: undefined,
    concurrency: 1,
    maxBodyBytes: 10 * 1024 * 1024,
    maxBatch: 1000,
    timeoutMs: 30_000,
  });
  const c = parseServeArgs(
    { host: "0.0.0.0", port: "0", "max-body-mb": "0.5", "timeout-s": "2.5", backend: "wasm" },
    "env-token-123",
  );
  assert.equal(c.token, "env-token-123");
  assert.equal(c.maxBodyBytes, 524288);
  assert.equal(c.timeoutMs, 2500);
  assert.equal(c.backend, "wasm");
  assert.equal(parseServeArgs({ host: "::1" }).host, "::1");
  assert.equal(parseServeArgs({ host: "localhost" }).host, "localhost");
  assert.equal(parseServeArgs({ host: "127.0.0.2" }).host, "127.0.0.2");
  const refused: [Record<string, string>, RegExp][] = [
    [{ host: "0.0.0.0" }, /'--host' "0\.0\.0\.0" is not loopback and no token is set/],
    [{ host: "192.168.1.4" }, /not loopback/],
    [{ port: "-1" }, /'--port' must be an integer in \[0, 65535\]: current value is "-1"/],
    [{ port: "http" }, /'--port'/],
    [{ port: "" }, /'--port'/],
    [{ token: "short" }, /'--token' must be at least 8 characters/],
    [{ concurrency: "0" }, /'--concurrency' must be a positive integer: current value is "0"/],
    [{ "max-batch": "1.5" }, /'--max-batch'/],
    [{ "max-body-mb": "NaN" }, /'--max-body-mb' must be a positive number/],
    [{ backend: "gpu" }, /'--backend' must be one of auto/],
  ];
  for (const [flags, message] of refused) {
    assert.throws(() => parseServeArgs(flags), message, JSON.stringify(flags));
  }
});
