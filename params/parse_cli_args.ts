/**
 * The command line of a job, derived from its parameter declaration: the parser and the usage text.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  type Param,
  type ParamDeclaration,
  ParamError,
  paramProblem,
  type ParamSpecs,
  type ParamValues,
} from "./declare_params.ts";
import { UsageError } from "./usage_error.ts";

/** What {@link parseCliArgs} returns. */
export interface ParsedCliArgs<S extends ParamSpecs> {
  /** The values, defaults filled in, keyed as in the declaration. */
  values: ParamValues<S>;
  /** The keys the command line gave (the others hold defaults or are absent). */
  given: Set<keyof S & string>;
  /** The positional arguments (only where allowed). */
  positionals: string[];
  /** `--help` or `-h` was given. */
  help: boolean;
}

/** Options of {@link parseCliArgs}. */
export interface ParseCliArgsOptions {
  /** Allow positional arguments (default false: one is a usage error). */
  positionals?: boolean;
}

/**
 * Parses a command line against a declaration: `--option VALUE`, `--option=VALUE`, flags,
 * `--help`/`-h`. A value that starts with a dash (`--lr -1`, `--prompt "-a dog"`) is taken as the
 * value, so that a negative number gets the parameter's range message rather than the parser's
 * "argument is ambiguous". Every value is checked against its parameter, the message naming the
 * option and the text typed: `Cannot train as '--batch' must be an integer ≥ 1: current value is "0"`.
 *
 * @param declaration The job's parameters.
 * @param args The arguments (without the script name).
 * @param options {@link ParseCliArgsOptions}.
 * @returns {@link ParsedCliArgs}.
 * @throws {UsageError} For an unknown option, a missing or bad value, an unexpected positional.
 *
 * @example
 * ```ts
 * import { declareParams } from "./declare_params.ts";
 * import { parseCliArgs } from "./parse_cli_args.ts";
 * const p = declareParams("train", {
 *   learningRate: { type: "number", exclusiveMin: 0, max: 10, default: 1e-4, option: "lr", help: "lr" },
 *   flip: { type: "boolean", default: true, help: "flip augmentation" },
 * });
 * console.log(parseCliArgs(p, ["--lr", "0.01", "--no-flip"]).values); // { learningRate: 0.01, flip: false }
 * try {
 *   parseCliArgs(p, ["--lr", "-1"]);
 * } catch (e) {
 *   console.log((e as Error).message);
 *   // Cannot train as '--lr' must be a finite number > 0 and ≤ 10: current value is "-1"
 * }
 * ```
 */
export function parseCliArgs<S extends ParamSpecs>(
  declaration: ParamDeclaration<S>,
  args: readonly string[],
  options: ParseCliArgsOptions = {},
): ParsedCliArgs<S> {
  const byOption = new Map<string, [string, Param]>();
  const config: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {
    help: { type: "boolean", short: "h" },
  };
  for (const [key, spec] of Object.entries(declaration.specs)) {
    const name = declaration.name(key as keyof S & string, "option");
    if (name === undefined) continue;
    byOption.set(name, [key, spec]);
    config[name.slice(2)] = {
      type: spec.type === "boolean" ? "boolean" : "string",
      ...(spec.type === "strings" ? { multiple: true } : {}),
    };
  }
  // `--lr -1`: node:util's parser refuses a value that starts with a dash as ambiguous; join it.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i], next = args[i + 1];
    const spec = byOption.get(a)?.[1];
    if (
      spec !== undefined && spec.type !== "boolean" && next !== undefined &&
      next.startsWith("-") && !next.startsWith("--") && next !== "-h"
    ) {
      joined.push(`${a}=${next}`);
      i++;
    } else {
      joined.push(a);
    }
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: joined,
      options: config,
      strict: true,
      allowPositionals: options.positionals ?? false,
    });
  } catch (e) {
    const { code, message } = e as { code?: string; message: string };
    const quoted = /'([^']*)'/.exec(message)?.[1];
    const problem = code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && quoted !== undefined
      ? `'${quoted}' is not a known option (see --help)`
      : code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL" && quoted !== undefined
      ? `${JSON.stringify(quoted)} is not an option, and no positional argument is taken`
      : message;
    throw new UsageError(`Cannot ${declaration.verb} as ${problem}`);
  }
  const raw = parsed.values as Record<string, string | string[] | boolean | undefined>;
  const values: Record<string, unknown> = {};
  const given = new Set<keyof S & string>();
  for (const [name, [key, spec]] of byOption) {
    const text = raw[name.slice(2)];
    if (text === undefined) {
      if (spec.required && !raw.help) {
        throw new UsageError(`Cannot ${declaration.verb} as '${name}' is required`);
      }
      if (spec.default !== undefined) values[key] = spec.default;
      continue;
    }
    given.add(key as keyof S & string);
    if (spec.type === "boolean") {
      values[key] = spec.default === true ? !text : text;
      continue;
    }
    if (spec.type === "strings") {
      const list = text as string[];
      const problem = paramProblem(spec, list);
      if (problem !== undefined) {
        throw new UsageError(new ParamError(declaration.verb, name, problem).message);
      }
      values[key] = list;
      continue;
    }
    const str = text as string;
    const value = spec.type === "integer" || spec.type === "number"
      ? (str.trim() === "" ? NaN : Number(str))
      : str;
    const problem = paramProblem(spec, value, JSON.stringify(str));
    if (problem !== undefined) {
      throw new UsageError(
        new ParamError(declaration.verb, name, problem).message,
      );
    }
    values[key] = value;
  }
  return {
    values: values as ParamValues<S>,
    given,
    positionals: parsed.positionals,
    help: raw.help === true,
  };
}

/** Options of {@link usageText}. */
export interface UsageTextOptions {
  /** The line after `Usage: ` (e.g. `deno task train [options]`). */
  usage: string;
  /** Paragraphs between the usage line and the options. */
  summary?: string;
  /** Extra lines after the options (e.g. examples). */
  epilogue?: string;
}

function metavar(spec: Param): string {
  if (spec.metavar !== undefined) return spec.metavar;
  switch (spec.type) {
    case "integer":
      return "N";
    case "number":
      return "X";
    case "enum": {
      const list = spec.values.join("|");
      return list.length <= 24 ? list : "NAME";
    }
    default:
      return "TEXT";
  }
}

/**
 * The usage text of a job's command line, derived from its declaration: one line per option with
 * its placeholder, help and default (a `--no-…` flag reads "turn off: …").
 *
 * @param declaration The job's parameters.
 * @param options {@link UsageTextOptions}.
 * @returns The text `--help` prints.
 *
 * @example
 * ```ts
 * import { declareParams } from "./declare_params.ts";
 * import { usageText } from "./parse_cli_args.ts";
 * const p = declareParams("train", {
 *   steps: { type: "integer", min: 1, default: 200, help: "training steps" },
 * });
 * console.log(usageText(p, { usage: "deno task train [options]" }).split("\n")[3]);
 * //   --steps N  training steps (default 200)
 * ```
 */
export function usageText<S extends ParamSpecs>(
  declaration: ParamDeclaration<S>,
  options: UsageTextOptions,
): string {
  const rows: [string, string][] = [];
  for (const [key, spec] of Object.entries(declaration.specs)) {
    const name = declaration.name(key as keyof S & string, "option");
    if (name === undefined) continue;
    const left = spec.type === "boolean" ? name : `${name} ${metavar(spec)}`;
    let help = spec.type === "boolean" && spec.default === true
      ? `turn off: ${spec.help}`
      : spec.help;
    if (spec.type === "enum" && metavar(spec) !== spec.values.join("|")) {
      help += `: ${spec.values.join(", ")}`;
    }
    if (spec.type === "strings") help += " (repeatable)";
    if (spec.required) help += " (required)";
    const shown = spec.defaultText ??
      (spec.default !== undefined && spec.type !== "boolean" ? String(spec.default) : undefined);
    if (shown !== undefined) help += ` (default ${shown})`;
    rows.push([left, help]);
  }
  rows.push(["--help", "show this help"]);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  const lines = rows.map(([l, h]) =>
    `  ${l.padEnd(width)}${h.replaceAll("\n", `\n  ${" ".repeat(width)}`)}`
  );
  return [
    `Usage: ${options.usage}`,
    ...(options.summary !== undefined ? ["", options.summary] : []),
    "",
    "Options:",
    ...lines,
    ...(options.epilogue !== undefined ? ["", options.epilogue] : []),
  ].join("\n");
}
