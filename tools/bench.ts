/**
 * `deno task bench [name…]`: runs the stand-alone benchmarks in bench/ one after another (each is a
 * script that prints its own figures, measured against a baseline in the same run). With names,
 * runs only `bench/<name>_bench.ts`; arguments after `--` are passed to every bench script
 * (`deno task bench backend -- --skip-cpu`). Benchmarks never gate CI.
 *
 * @module
 */
const dir = new URL("../bench/", import.meta.url);
const dashes = Deno.args.indexOf("--");
const wanted = dashes >= 0 ? Deno.args.slice(0, dashes) : Deno.args;
const passThrough = dashes >= 0 ? Deno.args.slice(dashes + 1) : [];
const names = wanted.length > 0
  ? wanted.map((n) => `${n.replace(/_bench\.ts$/, "")}_bench.ts`)
  : [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith("_bench.ts")).sort();
let failed = 0;
for (const name of names) {
  console.log(`\n=== bench/${name} ===`);
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(name, dir).pathname, ...passThrough],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!r.success) failed++;
}
Deno.exit(failed > 0 ? 1 : 0);
