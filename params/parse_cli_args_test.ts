import assert from "assert";
import { declareParams } from "./declare_params.ts";
import { parseCliArgs, usageText } from "./parse_cli_args.ts";
import { reportCliError, runCli } from "./run_cli.ts";
import { UsageError } from "./usage_error.ts";

const params = declareParams("train", {
  steps: { type: "integer", min: 1, default: 200, help: "training steps" },
  learningRate: {
    type: "number",
    exclusiveMin: 0,
    max: 10,
    option: "lr",
    help: "learning rate",
  },
  seed: { type: "integer", min: 0, max: 2 ** 31 - 1, default: 0, help: "seed" },
  prompt: { type: "string", help: "the prompt" },
  sampler: { type: "enum", values: ["ddim", "ancestral"], help: "sampler" },
  flip: { type: "boolean", default: true, help: "flip augmentation" },
  resume: { type: "boolean", help: "continue" },
  out: { type: "string", option: false, help: "not on the CLI" },
});

function usageError(args: string[]): string {
  try {
    parseCliArgs(params, args);
  } catch (e) {
    assert.ok(e instanceof UsageError, String(e));
    return e.message;
  }
  assert.fail(`${args.join(" ")} was accepted`);
}

Deno.test("parseCliArgs: values typed, defaults filled, given keys", () => {
  const r = parseCliArgs(params, [
    "--steps",
    "5",
    "--lr=0.5",
    "--no-flip",
    "--resume",
    "--sampler",
    "ddim",
  ]);
  assert.deepEqual(r.values, {
    steps: 5,
    learningRate: 0.5,
    seed: 0,
    sampler: "ddim",
    flip: false,
    resume: true,
  });
  assert.deepEqual([...r.given].sort(), [
    "flip",
    "learningRate",
    "resume",
    "sampler",
    "steps",
  ]);
  assert.equal(r.help, false);
  assert.equal(parseCliArgs(params, ["-h"]).help, true);
});

Deno.test("parseCliArgs: bounds from the declaration, in option names (issue 36 item 7)", () => {
  assert.equal(
    usageError(["--lr", "1e308"]),
    `Cannot train as '--lr' must be a finite number > 0 and ≤ 10: current value is "1e308"`,
  );
  assert.equal(
    usageError(["--steps", "abc"]),
    `Cannot train as '--steps' must be an integer ≥ 1: current value is "abc"`,
  );
  assert.equal(
    usageError(["--steps", "0"]),
    `Cannot train as '--steps' must be an integer ≥ 1: current value is "0"`,
  );
  assert.match(
    usageError(["--steps", ""]),
    /'--steps' must be an integer ≥ 1: current value is ""/,
  );
  assert.match(
    usageError(["--sampler", "euler"]),
    /'--sampler' must be one of ddim, ancestral/,
  );
});

Deno.test("parseCliArgs: negative numbers with a space get the range message (issue 36 item 8)", () => {
  assert.equal(
    usageError(["--lr", "-1"]),
    `Cannot train as '--lr' must be a finite number > 0 and ≤ 10: current value is "-1"`,
  );
  assert.equal(
    usageError(["--seed", "-1"]),
    `Cannot train as '--seed' must be an integer ≥ 0 and ≤ 2147483647: current value is "-1"`,
  );
  assert.doesNotMatch(usageError(["--steps", "-5"]), /ambiguous/);
  // A string value may start with a dash too.
  assert.equal(
    parseCliArgs(params, ["--prompt", "-a dog"]).values.prompt,
    "-a dog",
  );
  // A following option is still an option: the missing value is reported.
  assert.match(usageError(["--lr", "--steps", "3"]), /--lr/);
});

Deno.test("parseCliArgs: unknown options, positionals, undeclared options", () => {
  assert.equal(
    usageError(["--nope"]),
    "Cannot train as '--nope' is not a known option (see --help)",
  );
  assert.equal(
    usageError(["extra"]),
    `Cannot train as "extra" is not an option, and no positional argument is taken`,
  );
  assert.match(usageError(["--out", "x"]), /'--out' is not a known option/);
  assert.deepEqual(
    parseCliArgs(params, ["a", "b"], { positionals: true }).positionals,
    ["a", "b"],
  );
});

Deno.test("usageText: derived from the declaration", () => {
  const text = usageText(params, {
    usage: "deno task train [options]",
    summary: "Trains.",
  });
  assert.match(
    text,
    /^Usage: deno task train \[options\]\n\nTrains\.\n\nOptions:\n/,
  );
  assert.match(text, /\n {2}--steps N +training steps \(default 200\)\n/);
  assert.match(text, /\n {2}--lr X +learning rate\n/);
  assert.match(text, /\n {2}--sampler ddim\|ancestral +sampler\n/);
  assert.match(text, /\n {2}--no-flip +turn off: flip augmentation\n/);
  assert.match(text, /\n {2}--help +show this help$/);
  assert.doesNotMatch(text, /--out/);
});

async function capture(
  fn: () => Promise<number>,
): Promise<{ code: number; err: string }> {
  const lines: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    return { code: await fn(), err: lines.join("\n") };
  } finally {
    console.error = orig;
  }
}

Deno.test("runCli: usage only after usage errors, not after runtime errors (issue 36 item 8)", async () => {
  const opts = { params, usage: "deno task train [options]" };
  const bad = await capture(() => runCli(["--steps", "0"], opts, () => Promise.resolve(0)));
  assert.equal(bad.code, 2);
  assert.match(
    bad.err,
    /'--steps' must be an integer ≥ 1[^]*Usage: deno task train/,
  );
  const runtime = await capture(() =>
    runCli([], opts, () => Promise.reject(new Error("webgpu: no adapter")))
  );
  assert.equal(runtime.code, 1);
  assert.equal(runtime.err, "error: webgpu: no adapter");
  const range = await capture(() =>
    runCli(
      [],
      opts,
      () => Promise.reject(new RangeError("folder holds no images")),
    )
  );
  assert.equal(range.code, 2);
  assert.doesNotMatch(range.err, /Usage:/);
  const quiet = await capture(() =>
    runCli(["--x"], { ...opts, usageOnError: false }, () => Promise.resolve(0))
  );
  assert.doesNotMatch(quiet.err, /Usage:/);
  assert.equal(reportCliError(new UsageError("u")), 2);
});

Deno.test("parseCliArgs, resolveParams: a required parameter is named when missing", async () => {
  const { resolveParams } = await import("./declare_params.ts");
  const p = declareParams("average", {
    inputs: { type: "string", required: true, help: "inputs" },
  });
  assert.throws(
    () => parseCliArgs(p, []),
    /^UsageError: Cannot average as '--inputs' is required$/,
  );
  assert.equal(parseCliArgs(p, ["-h"]).help, true, "--help needs no required option");
  assert.throws(() => resolveParams(p, {}), /Cannot average as 'inputs' is required/);
  assert.match(usageText(p, { usage: "x" }), /--inputs TEXT +inputs \(required\)/);
});

Deno.test("runCli: a wasm heap failure gets a hint to lower the batch, size or width", async () => {
  for (const message of ["memory access out of bounds", "Aborted(). Build with -sASSERTIONS"]) {
    const oom = () => Promise.reject(new WebAssembly.RuntimeError(message));
    const r = await capture(() => runCli([], { params, usage: "t" }, oom));
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: .*\nhint: the wasm backend's heap \(4 GiB at most\) is probably full/,
    );
  }
  const other = () => Promise.reject(new WebAssembly.RuntimeError("unreachable"));
  const r = await capture(() => runCli([], { params, usage: "t" }, other));
  assert.deepEqual([r.code, r.err], [1, "error: unreachable"]);
});
