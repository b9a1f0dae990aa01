/**
 * `deno task bench [name…]`: runs the stand-alone benchmarks in bench/ one after another (each is a
 * script that prints its own figures, measured against a baseline in the same run). With names,
 * runs only `bench/<name>_bench.ts`. Benchmarks never gate CI.
 *
 * @module
 */
const dir = new URL("../bench/", import.meta.url);
const names = Deno.args.length > 0
  ? Deno.args.map((n) => `${n.replace(/_bench\.ts$/, "")}_bench.ts`)
  : [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith("_bench.ts")).sort();
let failed = 0;
for (const name of names) {
  console.log(`\n=== bench/${name} ===`);
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(name, dir).pathname],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!r.success) failed++;
}
Deno.exit(failed > 0 ? 1 : 0);
