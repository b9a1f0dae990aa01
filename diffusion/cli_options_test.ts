import assert from "assert";
import { backendOption, runCli, UsageError } from "./cli_options.ts";

async function capture(f: () => Promise<number>) {
  const out: string[] = [], err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { code: await f(), out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const usage = "Usage: t [--n N]";
const options = { n: { type: "string" } } as const;

Deno.test("runCli: --help is 0, usage errors 2 (with or without the usage), other errors 1", async () => {
  let r = await capture(() => runCli(["-h"], { usage, options }, () => Promise.resolve(5)));
  assert.deepEqual([r.code, r.out], [0, usage]);
  r = await capture(() => runCli(["--n", "3"], { usage, options }, (v) => Promise.resolve(+v.n!)));
  assert.equal(r.code, 3);
  r = await capture(() => runCli(["--bogus"], { usage, options }, () => Promise.resolve(0)));
  assert.equal(r.code, 2);
  assert.match(r.err, /^error: .*'--bogus'[\s\S]*\n\nUsage: t/);
  const bad = () => Promise.reject(new UsageError("Cannot t as '--n' is bad"));
  r = await capture(() => runCli([], { usage, options }, bad));
  assert.deepEqual([r.code, r.err], [2, `error: Cannot t as '--n' is bad\n\n${usage}`]);
  r = await capture(() => runCli([], { usage, options, usageOnError: false }, bad));
  assert.deepEqual([r.code, r.err], [2, "error: Cannot t as '--n' is bad"]);
  const fail = () => Promise.reject(new Error("disk full"));
  r = await capture(() => runCli([], { usage, options }, fail));
  assert.equal(r.code, 1);
  assert.match(r.err, /^error: Error: disk full\n\s+at /);
  r = await capture(() => runCli([], { usage, options, stackOnError: false }, fail));
  assert.deepEqual([r.code, r.err], [1, "error: disk full"]);
});

Deno.test("runCli: a wasm heap failure gets a hint to lower the batch, size or width", async () => {
  for (const message of ["memory access out of bounds", "Aborted(). Build with -sASSERTIONS"]) {
    const oom = () => Promise.reject(new WebAssembly.RuntimeError(message));
    const r = await capture(() => runCli([], { usage, options, stackOnError: false }, oom));
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: .*\nhint: the wasm backend's heap \(4 GiB at most\) is probably full/,
    );
  }
  const other = () => Promise.reject(new WebAssembly.RuntimeError("unreachable"));
  const r = await capture(() => runCli([], { usage, options, stackOnError: false }, other));
  assert.deepEqual([r.code, r.err], [1, "error: unreachable"]);
});

Deno.test("backendOption: auto and undefined choose automatically, a bad name is a UsageError", () => {
  assert.equal(backendOption(undefined), undefined);
  assert.equal(backendOption("auto"), undefined);
  assert.equal(backendOption("cpu"), "cpu");
  assert.throws(
    () => backendOption("tpu"),
    (e) => e instanceof UsageError && /'--backend'/.test(e.message),
  );
});
