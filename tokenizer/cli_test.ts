import assert from "assert";
import { loadDefaultVocabulary } from "./default_vocabulary.ts";
import { identifierCandidates } from "./identifier.ts";
import { STRESS_LINES } from "./testdata/stress_lines.ts";
import { main } from "./cli.ts";

const cli = new URL("./cli.ts", import.meta.url).pathname;
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

async function run(
  args: string[],
  input = "",
): Promise<{ code: number; out: string; err: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const r = await child.output();
  return { code: r.code, out: decoder.decode(r.stdout), err: decoder.decode(r.stderr) };
}

/** Runs `main` in this process (no stdin), capturing what it prints. */
async function runHere(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(" ") + "\n");
  console.error = (...a: unknown[]) => void err.push(a.join(" ") + "\n");
  try {
    const code = await main(args);
    return { code, out: out.join(""), err: err.join("") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const sp = await loadDefaultVocabulary();
const input = STRESS_LINES.map((l) => l + "\n").join("");

Deno.test("cli tokenize prints one line per input line: ids, pieces, and decode", async () => {
  const ids = await run(["tokenize"], input);
  assert.equal(ids.code, 0, ids.err);
  const idLines = ids.out.split("\n").slice(0, -1);
  assert.deepEqual(idLines, STRESS_LINES.map((l) => sp.encode(l).join(" ")));
  const pieces = await run(["tokenize", "--pieces"], input);
  assert.deepEqual(
    pieces.out.split("\n").slice(0, -1),
    STRESS_LINES.map((l) => sp.encodeAsPieces(l).join(" ")),
  );
  const back = await run(["tokenize", "--decode"], ids.out);
  assert.deepEqual(
    back.out.split("\n").slice(0, -1),
    idLines.map((l) => sp.decode(l === "" ? [] : l.split(" ").map(Number))),
  );
  const help = await runHere(["tokenize", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /--model FILE/);
});

Deno.test("cli identifier prints the identifier, its ids and the candidate pool size", async () => {
  const r = await runHere(["identifier", "--seed", "0"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^identifier: Bun Bob$/m);
  assert.match(r.out, /^ids: 6100 5762$/m);
  assert.match(
    r.out,
    new RegExp(`^candidate pool: ${identifierCandidates(sp).length} pieces`, "m"),
  );
  const k1 = await runHere(["identifier", "--k", "1", "--seed", "3", "--range", "6000-7000"]);
  assert.match(k1.out, /^k: 1$/m);
  assert.match(k1.out, /ids 6000-7000/);
});

Deno.test("cli reports bad input with a clear message; usage errors exit 2, others 1", async () => {
  const badK = await runHere(["identifier", "--k", "7"]);
  assert.equal(badK.code, 2);
  assert.match(
    badK.err,
    /^error: Cannot draw an identifier as '--k' must be an integer ≥ 1 and ≤ 3: current value is "7"\n/,
  );
  const missing = await runHere(["tokenize", "--model", "/nonexistent/x.model"]);
  assert.equal(missing.code, 1);
  assert.match(
    missing.err,
    /Cannot load SentencePiece model '\/nonexistent\/x.model': file not found/,
  );
  const badId = await run(["tokenize", "--decode"], "3 99999\n");
  assert.match(badId.err, /line 1: .*current value is 99999/);
  const badRange = await runHere(["identifier", "--range", "5000:10000"]);
  assert.match(badRange.err, /'--range' must match \^\\d\+-\\d\+\$: current value is "5000:10000"/);
  const unknown = await runHere(["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command 'frobnicate'/);
  const flag = await runHere(["tokenize", "--nope"]);
  assert.equal(flag.code, 2);
});
