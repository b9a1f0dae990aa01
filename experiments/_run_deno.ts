/**
 * Runs the experiments' steps: each a `deno` subprocess in the repository root whose stdout and
 * stderr go to a log file. Shared by experiments/dreambooth_default_dog.ts and
 * experiments/reproduce.ts.
 *
 * @module
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, where the commands run. */
export const ROOT: string = resolve(fileURLToPath(new URL("..", import.meta.url)));

/** Runs one `deno` command (`args` after `deno`) with its output in `log`; returns its wall seconds. */
export type RunCommand = (args: string[], log: string) => Promise<number>;

/**
 * Runs `deno ARGS` in {@link ROOT}, writing its stdout and stderr to `log` (relative to the root),
 * and returns the seconds it took; throws naming the log when it exits non-zero.
 *
 * @example
 * ```ts ignore
 * const s = await runDeno(["eval", "console.log(1)"], "/tmp/one.log", { echo: true });
 * ```
 */
export async function runDeno(
  args: string[],
  log: string,
  options: { echo?: boolean } = {},
): Promise<number> {
  const t = performance.now();
  if (options.echo) console.log(`$ deno ${args.join(" ")}  (log: ${log})`);
  const file = await Deno.open(resolve(ROOT, log), { create: true, write: true, truncate: true });
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) await file.write(chunk);
  };
  await Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = await child.status;
  file.close();
  if (!status.success) {
    throw new Error(`'deno ${args.join(" ")}' failed (exit ${status.code}): see ${log}`);
  }
  return (performance.now() - t) / 1e3;
}
