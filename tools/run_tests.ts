/**
 * The project's test command (`deno task test`): runs every unit test, cross-package test and JSDoc
 * example with `deno test`, then prints the closing line CI reads: `N passed, N failed`.
 *
 * Deno's own summary (`ok | 3 passed | 0 failed`) is not recognised by CI, so the counts are read
 * from the JUnit report that `deno test` writes. Extra arguments are passed to `deno test`
 * (e.g. `deno task test tokenizer/`).
 *
 * (Not named `test.ts`: Deno's test discovery would run it as a test module, recursively.)
 *
 * @module
 */

const junitPath = await Deno.makeTempFile({ prefix: "dreambooth-junit-", suffix: ".xml" });
const extra = Deno.args;
const args = [
  "test",
  "-A",
  "--doc",
  `--junit-path=${junitPath}`,
  ...(extra.length > 0 ? extra : []),
];
const child = new Deno.Command(Deno.execPath(), {
  args,
  stdin: "null",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
const status = await child.status;

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const xml = await Deno.readTextFile(junitPath);
  for (const m of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = m[2] ?? "";
    if (/<failure\b|<error\b/.test(body)) failed++;
    else if (/<skipped\b/.test(body)) skipped++;
    else passed++;
  }
} catch (err) {
  console.error(`Could not read the JUnit report ${junitPath}: ${(err as Error).message}`);
}
await Deno.remove(junitPath).catch(() => {});
// A crash of the runner itself (compile error, uncaught error outside a test) is a failure too.
if (!status.success && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
Deno.exit(status.success ? 0 : 1);
