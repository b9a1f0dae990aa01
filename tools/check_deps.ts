/**
 * The dependency check (`deno task check-deps`): fails on imports that break the house rules of
 * DESIGN.md, and counts the functions longer than 120 lines outside tests.
 *
 * What it fails on (each import is read from Deno's own syntax tree, see `_check_deps_plugin.ts`):
 * - `private`: a file imports another top-level folder's private file (a path segment `_*`);
 * - `deep`: a file imports a workspace package past its public exports (`../pkg/mod.ts`, or what the
 *   package's deno.json `exports` lists);
 * - `direction`: a file imports a folder its own folder may not depend on ({@link ALLOWED}:
 *   tokenizer ← common only; backend ← diffusion ← trainer ← training/superres/deepfloyd ← dreambooth ← rpc,
 *   diffusion ← eval ← dreambooth (the validation grid's metrics), eval ← rpc; data usable by trainer/training/superres/dreambooth/deepfloyd/eval; nothing
 *   imports rpc; bench/tools/experiments/tests use public surfaces
 *   only; bench does not import tests/).
 * Known violations that another change is removing are listed in {@link KNOWN}; they are reported
 * as `known` and do not fail; an entry that no longer matches anything is reported as `stale` (a
 * warning: delete it, so that the list only shrinks).
 *
 * Functions over {@link MAX_FUNCTION_LINES} lines outside tests are listed as a warning (exit code
 * unchanged); `--strict-functions` makes them fail. CI is strict: the count reached 0 and
 * tools/check_deps_test.ts asserts it stays 0.
 *
 * The packages are read from the root deno.json `workspace` list, so a new package only needs its
 * row in {@link ALLOWED} (a package without one is reported as `unlisted` and fails).
 *
 * ```
 * deno task check-deps                 # all checks; exit 1 on a violation
 * deno task check-deps --functions     # only the list of long functions (and their count)
 * deno task check-deps --json          # machine-readable result
 * ```
 *
 * @module
 */

import { join, posix, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Fact } from "./_check_deps_plugin.ts";
import { declareParams, runCli } from "../params/mod.ts";

/** The longest a function outside tests may be, in lines (issue 33, acceptance 2). */
export const MAX_FUNCTION_LINES = 120;

/**
 * Which top-level folders each folder may import (their public surfaces only, see `deep`).
 * `"*"` stands for every workspace package and the root `mod.ts`. A folder always may import its
 * own files, and a test file (`*_test.ts`) may also import tests/ (the shared fixtures). No
 * library package lists rpc: nothing but tests, benchmarks, tools and experiments imports it.
 * Add a row when a package is added to the root deno.json `workspace` list.
 */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  // params/ is allowed beside the entry points of tokenizer/ and data/ (their CLIs declare their
  // options with it); their library code imports only common/ (the one seeded Rng), which
  // imports nothing of ours.
  tokenizer: ["params", "common"],
  backend: [],
  // The atomic file write, the PNG writer and the seeded Rng, once; imports nothing of ours.
  common: [],
  // Job parameters declared once (types, defaults, bounds, help); imports nothing of ours.
  params: [],
  diffusion: ["backend", "tokenizer", "params", "common"],
  data: ["params", "common"],
  // The run machinery (run loop, checkpoints, loss curve, weight average, export) and the one
  // trainer, shared by training/ and superres/ (issue 33).
  trainer: ["diffusion", "backend", "tokenizer", "data", "params", "common"],
  training: ["trainer", "diffusion", "backend", "tokenizer", "data", "params", "common"],
  superres: ["trainer", "diffusion", "backend", "tokenizer", "data", "params", "common"],
  eval: ["diffusion", "backend", "tokenizer", "data", "params", "common"],
  // The DreamBooth pipeline: the base stage (training/), then the SR stages (superres/); eval/'s
  // world nets score the validation grid (eval imports none of dreambooth/trainer/training/superres).
  dreambooth: [
    "deepfloyd",
    "eval",
    "training",
    "superres",
    "trainer",
    "diffusion",
    "backend",
    "tokenizer",
    "data",
    "params",
    "common",
  ],
  // DeepFloyd IF in diffusers' folder layout, on diffusion/'s T5 encoder and safetensors.
  deepfloyd: ["diffusion", "backend", "tokenizer", "data", "params", "common"],
  rpc: ["*"],
  // The root mod.ts re-exports the public API.
  ".": ["*"],
  bench: ["*"],
  tools: ["*"],
  experiments: ["*"],
  tests: ["*"],
};

/**
 * Violations that a change in flight removes (issue 33). Each entry is `importer -> target`
 * (paths from the repository root); delete the entry with the import (a stale entry is reported).
 */
export const KNOWN: readonly string[] = [];

/** One import or function the check found wrong. */
export interface Violation {
  /** `private`, `deep`, `direction` or `unlisted` (a workspace package without a table row). */
  kind: "private" | "deep" | "direction" | "unlisted";
  /** The importing file, from the repository root (for `unlisted`: the package). */
  file: string;
  /** 1-based line of the import. */
  line: number;
  /** The imported file, from the repository root. */
  target: string;
  /** What is wrong, in words. */
  message: string;
}

/** A function longer than the limit. */
export interface LongFunction {
  /** The file, from the repository root. */
  file: string;
  /** The function's name (or `(anonymous)`). */
  name: string;
  /** 1-based first line. */
  line: number;
  /** Its length in lines. */
  lines: number;
}

/** The facts of one source file. */
export interface FileFacts {
  /** Path from the repository root, with `/` separators. */
  file: string;
  /** What the plugin found in it. */
  facts: Fact[];
}

/** Options of {@link checkFacts}. */
export interface CheckOptions {
  /** The workspace packages (folder names); default: read by {@link readWorkspace}. */
  workspace: readonly string[];
  /** Each package's public files (paths from the root); default `<pkg>/mod.ts` only. */
  exports?: Readonly<Record<string, readonly string[]>>;
  /**
   * Command entry points (the files the root deno.json tasks run): public too, so that a test may
   * run or import a command. Default none.
   */
  entryPoints?: readonly string[];
  /** The dependency table; default {@link ALLOWED}. */
  allowed?: Readonly<Record<string, readonly string[]>>;
  /** Known violations (`importer -> target`); default {@link KNOWN}. */
  known?: readonly string[];
  /** Function length limit; default {@link MAX_FUNCTION_LINES}. */
  maxFunctionLines?: number;
}

/** The result of {@link checkFacts}. */
export interface CheckResult {
  /** Violations that fail the check. */
  violations: Violation[];
  /** Violations listed in KNOWN (reported, not failing). */
  known: Violation[];
  /** KNOWN entries that match no violation any more (delete them). */
  stale: string[];
  /** Functions over the limit outside tests, longest first. */
  longFunctions: LongFunction[];
}

/** True for a test file: `*_test.ts` anywhere, or anything under tests/ or a fixtures folder. */
export function isTestFile(file: string): boolean {
  return /(^|\/)[^/]*_test\.[cm]?[jt]sx?$/.test(file) || file.startsWith("tests/") ||
    /(^|\/)(fixtures|testdata)\//.test(file);
}

/** The top-level folder of a path from the root (`.` for a file at the root). */
function topOf(file: string): string {
  const i = file.indexOf("/");
  return i < 0 ? "." : file.slice(0, i);
}

function mayImport(
  file: string,
  to: string,
  allowed: Readonly<Record<string, readonly string[]>>,
  workspace: readonly string[],
): boolean {
  if (to === "tests" && isTestFile(file)) return true;
  const row = allowed[topOf(file)];
  if (!row) return false;
  return row.includes(to) || (row.includes("*") && (workspace.includes(to) || to === "."));
}

/**
 * Checks the imports and function lengths of a set of files against the dependency rules.
 *
 * @param files The facts of every source file (see {@link collectFacts}).
 * @param options The workspace and the rules.
 * @returns The violations, the known ones and the long functions.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkFacts } from "./check_deps.ts";
 * const result = checkFacts([{
 *   file: "tokenizer/mod.ts",
 *   facts: [{ kind: "import", specifier: "../diffusion/mod.ts", line: 1, dynamic: false }],
 * }], { workspace: ["tokenizer", "diffusion"] });
 * assert.equal(result.violations[0].kind, "direction");
 * ```
 */
export function checkFacts(files: readonly FileFacts[], options: CheckOptions): CheckResult {
  const workspace = options.workspace;
  const allowed = options.allowed ?? ALLOWED;
  const known = new Set(options.known ?? KNOWN);
  const maxLines = options.maxFunctionLines ?? MAX_FUNCTION_LINES;
  if (!Number.isInteger(maxLines) || maxLines < 1) {
    throw new RangeError(
      `Cannot check as 'maxFunctionLines' must be a positive integer: current value is ${maxLines}`,
    );
  }
  const exportsOf = (pkg: string) => options.exports?.[pkg] ?? [`${pkg}/mod.ts`];
  const entryPoints = new Set(options.entryPoints ?? []);
  const found: Violation[] = [];
  const longFunctions: LongFunction[] = [];
  for (const pkg of workspace) {
    if (!allowed[pkg]) {
      found.push({
        kind: "unlisted",
        file: pkg,
        line: 0,
        target: "",
        message:
          `package '${pkg}' has no row in the dependency table (tools/check_deps.ts ALLOWED)`,
      });
    }
  }
  for (const { file, facts } of files) {
    const from = topOf(file);
    for (const fact of facts) {
      if (fact.kind === "function") {
        const lines = fact.endLine - fact.line + 1;
        if (lines > maxLines && !isTestFile(file)) {
          longFunctions.push({ file, name: fact.name, line: fact.line, lines });
        }
        continue;
      }
      const target = posix.normalize(posix.join(posix.dirname(file), fact.specifier));
      if (target.startsWith("../")) continue; // outside the repository
      const to = topOf(target);
      if (to === from) continue;
      const at = { file, line: fact.line, target };
      const how = fact.dynamic ? "computes an import of" : "imports";
      if (!mayImport(file, to, allowed, workspace)) {
        found.push({
          kind: "direction",
          ...at,
          message: `${from}/ ${how} ${target}, but ${from}/ may not depend on ${to}/` +
            (allowed[from] ? ` (allowed: ${allowed[from].join(", ") || "nothing"})` : ""),
        });
      } else if (target.split("/").some((part) => part.startsWith("_"))) {
        found.push({
          kind: "private",
          ...at,
          message: `${how} the private file ${target} of ${to}/ (export it from ${to}/mod.ts)`,
        });
      } else if (
        !entryPoints.has(target) &&
        ((workspace.includes(to) && !exportsOf(to).includes(target)) ||
          (to === "." && target !== "mod.ts"))
      ) {
        found.push({
          kind: "deep",
          ...at,
          message:
            `${how} ${target} past ${to}/'s public exports (${
              to === "." ? "mod.ts" : exportsOf(to).join(", ")
            }): import what ${to}/mod.ts exports, or list the file in ${to}/deno.json "exports" ` +
            `when it is an entry point of its own (e.g. a declaration that must load without tfjs)`,
        });
      }
    }
  }
  const violations: Violation[] = [];
  const knownHits: Violation[] = [];
  const used = new Set<string>();
  for (const v of found) {
    const key = `${v.file} -> ${v.target}`;
    if (known.has(key)) {
      knownHits.push(v);
      used.add(key);
    } else violations.push(v);
  }
  const stale = [...known].filter((key) => !used.has(key));
  longFunctions.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file));
  return { violations, known: knownHits, stale, longFunctions };
}

/**
 * Reads the workspace packages and their public files from a root deno.json.
 *
 * @param root The repository root (a directory path).
 * @returns The package folders, each package's exported files and the tasks' entry files (paths
 * from the root).
 */
export async function readWorkspace(
  root: string,
): Promise<{ workspace: string[]; exports: Record<string, string[]>; entryPoints: string[] }> {
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const workspace = ((config.workspace ?? []) as string[]).map((w) =>
    posix.normalize(w).replace(/\/$/, "")
  );
  const exports: Record<string, string[]> = {};
  for (const pkg of workspace) {
    let list: string[] = ["./mod.ts"];
    try {
      const own = JSON.parse(await Deno.readTextFile(join(root, pkg, "deno.json")));
      if (typeof own.exports === "string") list = [own.exports];
      else if (own.exports && typeof own.exports === "object") list = Object.values(own.exports);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    exports[pkg] = list.map((p) => posix.normalize(posix.join(pkg, p)));
  }
  const entryPoints: string[] = [];
  for (const task of Object.values(config.tasks ?? {})) {
    const command = typeof task === "string" ? task : (task as { command?: string }).command ?? "";
    for (const m of command.matchAll(/(?:^|\s)(?:\.\/)?([\w./-]+\.(?:ts|js|mjs))(?=\s|$)/g)) {
      entryPoints.push(posix.normalize(m[1]));
    }
  }
  return { workspace, exports, entryPoints };
}

/** Source files the check reads: what git tracks or would track, by extension. */
async function listSources(root: string): Promise<string[]> {
  const out = await new Deno.Command("git", {
    args: ["ls-files", "--cached", "--others", "--exclude-standard", "-z"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  let files: string[];
  if (out.success) {
    files = new TextDecoder().decode(out.stdout).split("\0").filter((f) => f.length > 0);
  } else {
    files = [];
    const walk = async (dir: string) => {
      for await (const entry of Deno.readDir(join(root, dir))) {
        const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
        if (entry.isDirectory && !/^(node_modules|runs|\.git)$/.test(entry.name)) await walk(path);
        else if (entry.isFile) files.push(path);
      }
    };
    await walk("");
  }
  const existing: string[] = [];
  for (const f of files) {
    if (!/\.(ts|tsx|mts|js|mjs)$/.test(f) || /(^|\/)(node_modules|runs)\//.test(f)) continue;
    try {
      if ((await Deno.stat(join(root, f))).isFile) existing.push(f);
    } catch {
      // deleted in the working tree
    }
  }
  return existing.sort();
}

/**
 * Reads the import and function facts of every source file under `root` by running `deno lint`
 * with the fact-reporting plugin (one process for all files).
 *
 * @param root The repository root.
 * @returns The facts, one entry per file that has any.
 */
export async function collectFacts(root: string): Promise<FileFacts[]> {
  const files = await listSources(root);
  const plugin = new URL("./_check_deps_plugin.ts", import.meta.url).href;
  const dir = await Deno.makeTempDir({ prefix: "check-deps-" });
  try {
    const config = join(dir, "deno.json");
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        lint: { plugins: [plugin], rules: { tags: [], include: ["check-deps/facts"] } },
      }),
    );
    const byFile = new Map<string, Fact[]>();
    // Chunks keep the command line short on large trees.
    for (let i = 0; i < files.length; i += 400) {
      const chunk = files.slice(i, i + 400);
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["lint", "--json", "--config", config, ...chunk],
        cwd: root,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      let report: {
        diagnostics: { filename: string; message: string; code: string }[];
        errors: { file_path: string; message: string }[];
      };
      try {
        report = JSON.parse(text);
      } catch {
        throw new Error(
          `deno lint did not answer with JSON: ${
            new TextDecoder().decode(out.stderr).slice(0, 2000)
          }`,
        );
      }
      if (report.errors.length > 0) {
        const e = report.errors[0];
        throw new Error(`deno lint could not read ${e.file_path}: ${e.message}`);
      }
      for (const d of report.diagnostics) {
        if (d.code !== "check-deps/facts") continue;
        const file = relative(root, fileURLToPath(d.filename)).split(sep).join("/");
        const list = byFile.get(file) ?? [];
        list.push(JSON.parse(d.message) as Fact);
        byFile.set(file, list);
      }
    }
    return [...byFile.entries()].map(([file, facts]) => ({ file, facts }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Options of {@link checkTree}. */
export interface CheckTreeOptions extends Partial<CheckOptions> {}

/**
 * Runs the whole check over a repository tree.
 *
 * @param root The repository root (holding deno.json).
 * @param options Overrides of the rules (the workspace is read from deno.json unless given).
 * @returns The check's result.
 */
export async function checkTree(
  root: string,
  options: CheckTreeOptions = {},
): Promise<CheckResult> {
  const ws = await readWorkspace(root);
  const facts = await collectFacts(root);
  return checkFacts(facts, {
    ...options,
    workspace: options.workspace ?? ws.workspace,
    exports: options.exports ?? ws.exports,
    entryPoints: options.entryPoints ?? ws.entryPoints,
  });
}

/**
 * The command: prints violations and long functions; exit code 1 on a violation (or, with
 * `--strict-functions`, on a long function).
 *
 * @param args Command-line arguments.
 * @returns The exit code.
 */
export function main(args: readonly string[]): Promise<number> {
  return runCli(args, {
    params: checkDepsParams,
    usage: "deno task check-deps [--functions] [--strict-functions] [--json] [ROOT]",
    summary:
      "Checks the imports between packages (private, deep, upward) and the function lengths.",
    positionals: true,
  }, async (flags, { positionals }) => {
    const root = positionals[0] ?? fileURLToPath(new URL("..", import.meta.url));
    const result = await checkTree(root);
    if (flags.json) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      if (!flags.functions) {
        for (const v of result.violations) {
          console.log(`${v.kind}: ${v.file}${v.line ? `:${v.line}` : ""}: ${v.message}`);
        }
        for (const v of result.known) {
          console.log(`known: ${v.file}:${v.line}: ${v.message}`);
        }
        for (const key of result.stale) {
          console.log(`stale: KNOWN entry '${key}' matches nothing any more: delete it`);
        }
      }
      for (const f of result.longFunctions) {
        console.log(`long function: ${f.file}:${f.line} ${f.name} (${f.lines} lines)`);
      }
      console.log(
        `${result.violations.length} violations, ${result.known.length} known, ` +
          `${result.longFunctions.length} functions over ${MAX_FUNCTION_LINES} lines outside tests`,
      );
    }
    if (flags.functions) return 0;
    const fail = result.violations.length > 0 ||
      (flags.strictFunctions && result.longFunctions.length > 0);
    return fail ? 1 : 0;
  });
}

const checkDepsParams = declareParams("check dependencies", {
  functions: {
    type: "boolean",
    default: false,
    help: `only list the functions over ${MAX_FUNCTION_LINES} lines outside tests`,
  },
  strictFunctions: {
    type: "boolean",
    default: false,
    help: "fail on a function over the limit too",
  },
  json: { type: "boolean", default: false, help: "print the result as JSON" },
});

if (import.meta.main) Deno.exit(await main(Deno.args));
