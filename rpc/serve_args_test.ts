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
    [{ port: "-1" }, /'--port' must be an integer ≥ 0 and ≤ 65535: current value is "-1"/],
    [{ port: "http" }, /'--port'/],
    [{ port: "" }, /'--port'/],
    [{ token: "short" }, /'--token' must be at least 8 characters/],
    [
      { concurrency: "0" },
      /'--concurrency' must be an integer ≥ 1 and ≤ 256: current value is "0"/,
    ],
    [{ "max-batch": "1.5" }, /'--max-batch'/],
    [{ "max-body-mb": "NaN" }, /'--max-body-mb' must be a finite number > 0 and ≤ 4096/],
    [{ backend: "gpu" }, /'--backend' must be one of auto/],
  ];
  for (const [flags, message] of refused) {
    assert.throws(() => parseServeArgs(flags), message, JSON.stringify(flags));
  }
});

Deno.test("parseServeArgs: negative numbers after a space get the range message (issue 36 item 8)", () => {
  for (
    const [args, message] of [
      [
        ["--max-body-mb", "-5"],
        /'--max-body-mb' must be a finite number > 0 and ≤ 4096: current value is "-5"/,
      ],
      [["--port", "-1"], /'--port' must be an integer ≥ 0 and ≤ 65535: current value is "-1"/],
    ] as const
  ) {
    assert.throws(() => parseServeArgs(args), (e: Error) => {
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /ambiguous/);
      return true;
    });
  }
});

async function serve(args: string[]): Promise<{ code: number; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./serve.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { DREAMBOOTH_RPC_TOKEN: "" },
  }).output();
  return { code: r.code, err: new TextDecoder().decode(r.stderr) };
}

Deno.test("deno task serve: usage after usage errors only, not after runtime errors (issue 36 item 8)", async () => {
  const bad = await serve(["--max-body-mb", "-5"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /'--max-body-mb' must be a finite number > 0[^]*Usage: deno task serve/);
  // A data root that cannot be created is a runtime error: its message, no usage text.
  const file = await Deno.makeTempFile();
  try {
    const runtime = await serve(["--port", "0", "--data-root", `${file}/sub`]);
    assert.equal(runtime.code, 1, runtime.err);
    assert.match(runtime.err, /^error: /);
    assert.doesNotMatch(runtime.err, /Usage:/);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("parseServeArgs: --queue takes a redis:// URL, --store replaces the data root", () => {
  const c = parseServeArgs({ queue: "redis://127.0.0.1:6379", store: "/mnt/store" });
  assert.equal(c.queue, "redis://127.0.0.1:6379");
  assert.equal(c.dataRoot, "/mnt/store");
  assert.equal(parseServeArgs({}).queue, undefined);
  assert.throws(() => parseServeArgs({ queue: "http://127.0.0.1:6379" }), /'--queue'/);
});
