/**
 * Private: the command line to print as advice after a stop (e.g. a non-finite loss): the same
 * arguments with some options replaced, `--resume` added or dropped, quoted for a POSIX shell so
 * that it runs as printed.
 *
 * @module
 */

/** Quotes one argument for a POSIX shell (unquoted when it is plainly safe). */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * `command` followed by `args` with each option of `set` replaced by (or given) its new value and
 * `--resume` present exactly when `resume` is true.
 *
 * @param command The command prefix, e.g. `deno task train`.
 * @param args The arguments of the invocation (after the script name).
 * @param options `set`: option name (`--lr`) → new value; `resume`: whether to continue the run.
 * @returns The command line, quoted for a POSIX shell.
 */
export function retryCommand(
  command: string,
  args: readonly string[],
  options: { set?: Record<string, string>; resume: boolean },
): string {
  const set = options.set ?? {};
  const out: string[] = [];
  let tail: readonly string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      tail = args.slice(i);
      break;
    }
    if (a === "--resume" || a === "--resume=true") continue;
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (name in set) {
      if (eq < 0) i++; // `--lr 10`: its value is the next argument
      continue;
    }
    out.push(a);
  }
  for (const [name, value] of Object.entries(set)) out.push(name, value);
  if (options.resume) out.push("--resume");
  out.push(...tail);
  return [command, ...out.map(shellQuote)].join(" ");
}
