import assert from "assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkFacts, checkTree, isTestFile, KNOWN, main } from "./check_deps.ts";

/** Writes a small repository tree (paths → contents) into a fresh temporary folder. */
async function fixtureTree(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "check-deps-fixture-" });
  for (const [path, text] of Object.entries(files)) {
    const full = join(root, path);
    await Deno.mkdir(join(full, ".."), { recursive: true });
    await Deno.writeTextFile(full, text);
  }
  return root;
}

const workspace = JSON.stringify({
  workspace: ["./tokenizer", "./backend", "./diffusion", "./training", "./rpc"],
});
const pkg = (name: string, exports: unknown = "./mod.ts") =>
  JSON.stringify({ name: `@x/${name}`, version: "0.1.0", exports });
const longBody = Array.from({ length: 125 }, (_, i) => `  const v${i} = ${i};`).join("\n");

/** A tree with one violation of each kind, and one allowed import of each kind beside it. */
const tree = {
  "deno.json": workspace,
  "mod.ts": `export * from "./tokenizer/mod.ts";\n`,
  "tokenizer/deno.json": pkg("tokenizer"),
  "tokenizer/mod.ts": `export const a = 1;\n`,
  "tokenizer/_private.ts": `export const p = 1;\n`,
  "backend/deno.json": pkg("backend"),
  "backend/mod.ts": `export const b = 1;\n`,
  "backend/blas.ts": `export const blas = 1;\n`,
  "diffusion/deno.json": pkg("diffusion"),
  "diffusion/mod.ts": [
    `import { b } from "../backend/mod.ts";`, // allowed: down the direction
    `import { blas } from "../backend/blas.ts";`, // deep
    `import { p } from "../tokenizer/_private.ts";`, // private
    `import { t } from "../training/mod.ts";`, // direction: upward
    `export const d = [b, blas, p, t];`,
  ].join("\n"),
  "training/deno.json": pkg("training", { ".": "./mod.ts", "./cli": "./cli.ts" }),
  "training/mod.ts": [
    `import { d } from "../diffusion/mod.ts";`,
    `export const t = d;`,
    `export function long() {\n${longBody}\n}`,
  ].join("\n"),
  "training/cli.ts": `export const cli = 1;\n`,
  // a computed import of a package that may not be imported (rpc)
  "training/hook.ts": `const url = new URL("../rpc/mod.ts", import.meta.url);\n` +
    `export const load = () => import(url.href);\n`,
  "training/long_test.ts": `Deno.test("x", () => {\n${longBody}\n});\n`,
  "rpc/deno.json": pkg("rpc"),
  "rpc/mod.ts": `import { t } from "../training/mod.ts";\nexport const r = t;\n`,
  "rpc/_guard.ts": `export const g = 1;\n`,
  "bench/x_bench.ts": [
    `import { cli } from "../training/cli.ts";`, // allowed: listed in training's exports
    `import { fixture } from "../tests/_fixture.ts";`, // direction: bench imports tests/
    `import { r } from "../rpc/mod.ts";`, // allowed: bench may use rpc's public surface
    `console.log(cli, fixture, r);`,
  ].join("\n"),
  "tests/_fixture.ts": `export const fixture = 1;\n`,
  "tests/a_test.ts": `import { a } from "../mod.ts";\nimport { g } from "../rpc/_guard.ts";\n` +
    `Deno.test("a", () => console.log(a, g));\n`,
  "tools/run.ts": `if (import.meta.main) {\n${longBody}\n}\n`,
};

Deno.test("checkTree catches each kind of violation in a fixture tree and nothing else", async () => {
  const root = await fixtureTree(tree);
  try {
    const result = await checkTree(root, {
      allowed: {
        tokenizer: [],
        backend: [],
        diffusion: ["backend", "tokenizer"],
        training: ["diffusion", "backend", "tokenizer"],
        rpc: ["*"],
        ".": ["*"],
        bench: ["*"],
        tests: ["*"],
        tools: ["*"],
      },
      known: [],
    });
    const got = result.violations.map((v) => `${v.kind} ${v.file}:${v.line} -> ${v.target}`).sort();
    assert.deepEqual(got, [
      "deep diffusion/mod.ts:2 -> backend/blas.ts",
      "direction bench/x_bench.ts:2 -> tests/_fixture.ts",
      "direction diffusion/mod.ts:4 -> training/mod.ts",
      "direction training/hook.ts:1 -> rpc/mod.ts",
      "private diffusion/mod.ts:3 -> tokenizer/_private.ts",
      "private tests/a_test.ts:2 -> rpc/_guard.ts",
    ]);
    // The long function outside tests and the long import.meta.main body count; the test does not.
    assert.deepEqual(
      result.longFunctions.map((f) => `${f.file}:${f.line} ${f.name} ${f.lines}`).sort(),
      ["tools/run.ts:1 if (import.meta.main) 127", "training/mod.ts:3 long 127"],
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("checkTree reports a workspace package without a table row, and known entries", async () => {
  const root = await fixtureTree({
    "deno.json": JSON.stringify({ workspace: ["./tokenizer", "./newpkg"] }),
    "tokenizer/deno.json": pkg("tokenizer"),
    "tokenizer/mod.ts": `import { n } from "../newpkg/mod.ts";\nexport const a = n;\n`,
    "newpkg/deno.json": pkg("newpkg"),
    "newpkg/mod.ts": `export const n = 1;\n`,
  });
  try {
    const result = await checkTree(root, {
      allowed: { tokenizer: [] },
      known: ["tokenizer/mod.ts -> newpkg/mod.ts", "gone.ts -> tokenizer/mod.ts"],
    });
    assert.deepEqual(result.violations.map((v) => `${v.kind} ${v.file}`), ["unlisted newpkg"]);
    assert.deepEqual(result.known.map((v) => v.target), ["newpkg/mod.ts"]);
    assert.deepEqual(result.stale, ["gone.ts -> tokenizer/mod.ts"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("checkFacts: the function limit and its validation", () => {
  const facts = [{
    file: "diffusion/x.ts",
    facts: [{ kind: "function" as const, name: "f", line: 10, endLine: 20 }],
  }];
  assert.equal(checkFacts(facts, { workspace: ["diffusion"] }).longFunctions.length, 0);
  assert.equal(
    checkFacts(facts, { workspace: ["diffusion"], maxFunctionLines: 10 }).longFunctions.length,
    1,
  );
  assert.throws(
    () => checkFacts(facts, { workspace: ["diffusion"], maxFunctionLines: 0 }),
    /'maxFunctionLines' must be a positive integer: current value is 0/,
  );
});

Deno.test("isTestFile", () => {
  assert.ok(isTestFile("diffusion/unet_test.ts"));
  assert.ok(isTestFile("tests/_url_import.ts"));
  assert.ok(!isTestFile("diffusion/unet.ts"));
  assert.ok(!isTestFile("bench/test_bench.ts"));
});

Deno.test("the repository itself passes the dependency check", async () => {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const result = await checkTree(root);
  assert.deepEqual(
    result.violations.map((v) => `${v.kind}: ${v.file}:${v.line}: ${v.message}`),
    [],
  );
  assert.ok(KNOWN.length >= result.known.length);
  // Issue 33: no function over 120 lines outside tests (what --strict-functions enforces).
  assert.deepEqual(
    result.longFunctions.map((f) => `${f.file}:${f.line} ${f.name} (${f.lines} lines)`),
    [],
  );
});

Deno.test("main rejects an unknown option", async () => {
  const errors: string[] = [];
  const original = console.error;
  console.error = (line: string) => errors.push(line);
  try {
    assert.equal(await main(["--bogus"]), 2);
  } finally {
    console.error = original;
  }
  assert.match(errors[0], /'--bogus' is not a known option/);
});
