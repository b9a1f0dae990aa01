import assert from "assert";

async function worker(args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./worker.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout) + d.decode(r.stderr) };
}

Deno.test("deno task worker: usage, and command-line errors name the flag (exit 2)", async () => {
  const help = await worker(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /--queue URL[^]*--concurrency[^]*--kinds LIST/);
  const cases: [string[], RegExp][] = [
    [[], /'--queue' is missing/],
    [["--queue", "http://127.0.0.1:6379"], /'--queue'/],
    [["--queue", "redis://127.0.0.1:1", "--kinds", "train,paint"], /unknown kind "paint"/],
    [["--queue", "redis://127.0.0.1:1", "--concurrency", "0"], /'--concurrency'/],
  ];
  for (const [args, message] of cases) {
    const r = await worker(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.out}`);
    assert.match(r.out, message);
  }
});
