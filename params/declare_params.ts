/**
 * A job's parameters declared once: type, default, bounds, help text, command-line option name and
 * RPC field name of each. The CLI parser and usage text ({@link parseCliArgs}, {@link usageText}),
 * the RPC schema (rpc/schema.ts derives it through {@link paramJsonSchema} and
 * {@link paramProblem}) and the library's own check ({@link resolveParams}) all read the same
 * declaration, so a bound or a default is written in one place and every front end words a bad
 * value the same way: `'<name>' must be an integer ≥ 1: current value is "0"`, with the name the
 * user typed (`--batch` on the command line, `instanceBatch` over RPC and in code).
 *
 * @module
 */

/** What every parameter declares. */
export interface ParamCommon<T> {
  /** One line of help (usage text, `rpc.discover`). */
  help: string;
  /** The default, filled in by {@link resolveParams} and {@link parseCliArgs} when absent. */
  default?: T;
  /** How the usage text shows a default that is not a constant (e.g. "the built-in dog"). */
  defaultText?: string;
  /**
   * The command-line option without dashes (default: the key in kebab case; `false`: not on the
   * command line). A boolean whose default is `true` is written `--no-<option>`.
   */
  option?: string | false;
  /** The RPC field name (default: the key; `false`: not settable over RPC). */
  field?: string | false;
  /** The value's placeholder in the usage text (default N, X, TEXT or the enum's values). */
  metavar?: string;
  /** The caller must give it (`is required`); otherwise it is optional. */
  required?: boolean;
}

/** An integer or a finite number, with optional bounds. */
export interface NumberParam extends ParamCommon<number> {
  /** `integer` or `number` (finite). */
  type: "integer" | "number";
  /** Smallest value allowed (inclusive). */
  min?: number;
  /** Values must be greater than this. */
  exclusiveMin?: number;
  /** Largest value allowed (inclusive). */
  max?: number;
  /** Values must be less than this. */
  exclusiveMax?: number;
}

/** A string, with optional length limits and pattern. */
export interface StringParam extends ParamCommon<string> {
  /** `string`. */
  type: "string";
  /** Minimum length in UTF-16 code units. */
  minLength?: number;
  /** Maximum length in UTF-16 code units. */
  maxLength?: number;
  /** A pattern the whole string must match (anchored: `^…$`). */
  pattern?: RegExp;
  /** Refuse a string of only white space (and the empty one): "must not be empty". */
  notBlank?: boolean;
}

/** `true` or `false` (a flag on the command line). */
export interface BooleanParam extends ParamCommon<boolean> {
  /** `boolean`. */
  type: "boolean";
}

/** One of a fixed list of strings. */
export interface EnumParam<V extends string = string> extends ParamCommon<V> {
  /** `enum`. */
  type: "enum";
  /** The allowed values. */
  values: readonly V[];
}

/**
 * A list of strings: on the command line the option is repeated (`--validation-prompt A
 * --validation-prompt B`), over RPC it is a JSON array.
 */
export interface StringListParam extends ParamCommon<readonly string[]> {
  /** `strings`. */
  type: "strings";
  /** Minimum length of each item in UTF-16 code units. */
  minLength?: number;
  /** Maximum length of each item in UTF-16 code units. */
  maxLength?: number;
  /** Most items allowed. */
  maxItems?: number;
}

/** One declared parameter. */
export type Param = NumberParam | StringParam | BooleanParam | EnumParam | StringListParam;

/** The parameters of one job, by key (the name in code, e.g. `priorLossWeight`). */
export type ParamSpecs = { readonly [key: string]: Param };

/** The value type of one parameter. */
export type ParamValue<P> = P extends { type: "integer" | "number" } ? number
  : P extends { type: "boolean" } ? boolean
  : P extends { type: "enum"; values: readonly (infer V)[] } ? V
  : P extends { type: "strings" } ? readonly string[]
  : string;

type Simplify<T> = { [K in keyof T]: T[K] } & unknown;

/** The values a caller may give: every parameter optional. */
export type ParamInput<S extends ParamSpecs> = {
  [K in keyof S]?: ParamValue<S[K]>;
};

type Present = { default: unknown } | { required: true };

/** The values after defaults are filled in: parameters with a default are present. */
export type ParamValues<S extends ParamSpecs> = Simplify<
  & {
    -readonly [K in keyof S as S[K] extends Present ? K : never]: ParamValue<S[K]>;
  }
  & {
    -readonly [K in keyof S as S[K] extends Present ? never : K]?: ParamValue<S[K]>;
  }
>;

type FieldName<P, K> = P extends { field: false } ? never
  : P extends { field: infer F extends string } ? F
  : K;

/** The values as RPC fields: each parameter under its field name, every one optional. */
export type ParamFields<S extends ParamSpecs> = {
  -readonly [K in keyof S as FieldName<S[K], K>]?: ParamValue<S[K]>;
};

/** Which name a message uses for a parameter. */
export type ParamNaming = "key" | "option" | "field";

/** A job's parameters, declared once (build it with {@link declareParams}). */
export interface ParamDeclaration<S extends ParamSpecs = ParamSpecs> {
  /** What the job does, for messages: `Cannot ${verb} as …`. */
  readonly verb: string;
  /** The parameters by key. */
  readonly specs: S;
  /**
   * The user-facing name of a parameter.
   *
   * @param key The key.
   * @param naming `key` (code), `option` (`--batch`, `--no-flip`) or `field` (RPC).
   * @returns The name, or `undefined` when the parameter has none in that front end.
   */
  name(key: keyof S & string, naming: ParamNaming): string | undefined;
}

/**
 * A bad parameter value: names the parameter as the caller wrote it. rpc/ turns it into a -32602
 * error from {@link ParamError.field} and {@link ParamError.problem}; the CLIs print the message.
 */
export class ParamError extends RangeError {
  override name = "ParamError";
  /** The parameter's name as the caller wrote it (`--batch`, `instanceBatch`). */
  readonly field: string;
  /** What is wrong: `must be an integer ≥ 1: current value is 0`. */
  readonly problem: string;

  /**
   * @param verb What failed (`train`).
   * @param field The parameter's user-facing name.
   * @param problem What is wrong with it.
   */
  constructor(verb: string, field: string, problem: string) {
    super(`Cannot ${verb} as '${field}' ${problem}`);
    this.field = field;
    this.problem = problem;
  }
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Shows a value in a message: JSON, cut to 60 characters.
 *
 * @param value Any value.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { showValue } from "./declare_params.ts";
 * console.log(showValue("0"), showValue(0), showValue(NaN)); // "0" 0 NaN
 * ```
 */
export function showValue(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) {
    return String(value);
  }
  if (value === undefined) return "undefined";
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * What a parameter's values must be, in words: `an integer ≥ 1 and ≤ 64`, `one of ddim, ancestral`.
 *
 * @param spec The parameter.
 * @returns The phrase (after "must be").
 *
 * @example
 * ```ts
 * import { describeParam } from "./declare_params.ts";
 * console.log(describeParam({ type: "number", exclusiveMin: 0, max: 10, help: "lr" }));
 * // a number > 0 and ≤ 10
 * ```
 */
export function describeParam(spec: Param): string {
  switch (spec.type) {
    case "integer":
    case "number": {
      const range = [
        spec.min !== undefined ? `≥ ${spec.min}` : "",
        spec.exclusiveMin !== undefined ? `> ${spec.exclusiveMin}` : "",
        spec.max !== undefined ? `≤ ${spec.max}` : "",
        spec.exclusiveMax !== undefined ? `< ${spec.exclusiveMax}` : "",
      ].filter((x) => x !== "").join(" and ");
      const kind = spec.type === "integer" ? "an integer" : "a finite number";
      return range === "" ? kind : `${kind} ${range}`;
    }
    case "boolean":
      return "true or false";
    case "enum":
      return `one of ${spec.values.join(", ")}`;
    case "strings": {
      const items = spec.maxItems !== undefined ? `at most ${spec.maxItems} ` : "";
      const len = spec.maxLength !== undefined
        ? ` of ${spec.minLength ?? 0} to ${spec.maxLength} characters`
        : "";
      return `a list of ${items}strings${len}`;
    }
    case "string": {
      const { minLength, maxLength } = spec;
      if (minLength !== undefined && maxLength !== undefined) {
        return `a string of ${minLength} to ${maxLength} characters`;
      }
      if (minLength !== undefined) {
        return `a string of at least ${minLength} characters`;
      }
      if (maxLength !== undefined) {
        return `a string of at most ${maxLength} characters`;
      }
      return "a string";
    }
  }
}

/**
 * Checks one value against its parameter.
 *
 * @param spec The parameter.
 * @param value The value (already typed: a number for numbers).
 * @param shown How the message shows the value (default: {@link showValue} of `value`); the CLI
 * passes the string the user typed.
 * @returns `undefined` when the value is allowed, else the problem: `must be … : current value is …`.
 *
 * @example
 * ```ts
 * import { paramProblem } from "./declare_params.ts";
 * const batch = { type: "integer", min: 1, help: "batch" } as const;
 * console.log(paramProblem(batch, 4)); // undefined
 * console.log(paramProblem(batch, 0)); // must be an integer ≥ 1: current value is 0
 * ```
 */
export function paramProblem(
  spec: Param,
  value: unknown,
  shown?: string,
): string | undefined {
  const bad = () => `must be ${describeParam(spec)}: current value is ${shown ?? showValue(value)}`;
  switch (spec.type) {
    case "integer":
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) return bad();
      if (spec.type === "integer" && !Number.isInteger(value)) return bad();
      if (spec.min !== undefined && value < spec.min) return bad();
      if (spec.exclusiveMin !== undefined && value <= spec.exclusiveMin) {
        return bad();
      }
      if (spec.max !== undefined && value > spec.max) return bad();
      if (spec.exclusiveMax !== undefined && value >= spec.exclusiveMax) return bad();
      return undefined;
    }
    case "boolean":
      return typeof value === "boolean" ? undefined : bad();
    case "enum":
      return typeof value === "string" && spec.values.includes(value) ? undefined : bad();
    case "strings": {
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) return bad();
      if (spec.maxItems !== undefined && value.length > spec.maxItems) {
        return `must have at most ${spec.maxItems} items: current count is ${value.length}`;
      }
      for (const [i, v] of value.entries()) {
        if (
          (spec.minLength !== undefined && v.length < spec.minLength) ||
          (spec.maxLength !== undefined && v.length > spec.maxLength)
        ) {
          return `item ${i + 1} must have ${spec.minLength ?? 0} to ${
            spec.maxLength ?? "any number of"
          } characters: current length is ${v.length}`;
        }
      }
      return undefined;
    }
    case "string": {
      if (typeof value !== "string") return bad();
      if (spec.notBlank && value.trim() === "") return "must not be empty";
      if (spec.minLength !== undefined && value.length < spec.minLength) {
        return spec.minLength === 1
          ? "must not be empty"
          : `must have at least ${spec.minLength} characters: current value is ${
            shown ?? showValue(value)
          }`;
      }
      if (spec.maxLength !== undefined && value.length > spec.maxLength) {
        return `must have at most ${spec.maxLength} characters: current length is ${value.length}`;
      }
      if (spec.pattern !== undefined && !spec.pattern.test(value)) {
        return `must match ${spec.pattern.source}: current value is ${shown ?? showValue(value)}`;
      }
      return undefined;
    }
  }
}

/**
 * Declares a job's parameters. Checks the declaration itself: every default is allowed by its own
 * bounds, and option and field names are unique.
 *
 * @param verb What the job does, for messages (`Cannot ${verb} as …`).
 * @param specs The parameters by key.
 * @returns The declaration.
 * @throws {TypeError} For a default its own bounds refuse, or a name used twice.
 *
 * @example
 * ```ts
 * import { declareParams } from "./declare_params.ts";
 * const params = declareParams("train", {
 *   instanceBatch: { type: "integer", min: 1, default: 4, option: "batch", help: "batch size" },
 * });
 * console.log(params.name("instanceBatch", "option"), params.name("instanceBatch", "field"));
 * // --batch instanceBatch
 * ```
 */
export function declareParams<const S extends ParamSpecs>(
  verb: string,
  specs: S,
): ParamDeclaration<S> {
  const options = new Map<string, string>();
  const fields = new Map<string, string>();
  const name = (key: string, naming: ParamNaming): string | undefined => {
    const spec = specs[key];
    if (spec === undefined) return undefined;
    if (naming === "key") return key;
    if (naming === "field") {
      return spec.field === false ? undefined : spec.field ?? key;
    }
    if (spec.option === false) return undefined;
    const option = spec.option ?? kebab(key);
    return spec.type === "boolean" && spec.default === true ? `--no-${option}` : `--${option}`;
  };
  for (const [key, spec] of Object.entries(specs)) {
    if (spec.default !== undefined) {
      const problem = paramProblem(spec, spec.default);
      if (problem !== undefined) {
        throw new TypeError(
          `Cannot declare '${key}' as its default ${problem}`,
        );
      }
    }
    for (
      const [naming, seen] of [["option", options], ["field", fields]] as const
    ) {
      const n = name(key, naming);
      if (n === undefined) continue;
      const other = seen.get(n);
      if (other !== undefined) {
        throw new TypeError(
          `Cannot declare '${key}' as ${naming} '${n}' is also '${other}''s`,
        );
      }
      seen.set(n, key);
    }
  }
  return { verb, specs, name: name as ParamDeclaration<S>["name"] };
}

/**
 * Checks the values a caller gave and fills in the defaults: the one place a job's values are
 * checked. `undefined` and `null` count as absent; keys the declaration does not know are left out
 * of the result (options objects carry callbacks and signals beside the parameters).
 *
 * @param declaration The job's parameters.
 * @param input The given values.
 * @param options `naming`: which name the error uses (default `key`, the name in code); `verb`:
 * what failed, for the message (default the declaration's).
 * @returns The values with defaults filled in.
 * @throws {ParamError} For the first value its parameter refuses.
 *
 * @example
 * ```ts
 * import { declareParams, resolveParams } from "./declare_params.ts";
 * const p = declareParams("train", {
 *   steps: { type: "integer", min: 1, default: 200, help: "steps" },
 *   seed: { type: "integer", min: 0, help: "seed" },
 * });
 * console.log(resolveParams(p, { seed: 3 })); // { steps: 200, seed: 3 }
 * try {
 *   resolveParams(p, { steps: 0 });
 * } catch (e) {
 *   console.log((e as Error).message);
 *   // Cannot train as 'steps' must be an integer ≥ 1: current value is 0
 * }
 * ```
 */
export function resolveParams<S extends ParamSpecs>(
  declaration: ParamDeclaration<S>,
  input: { readonly [K in keyof S]?: ParamValue<S[K]> | null },
  options: { naming?: ParamNaming; verb?: string } = {},
): ParamValues<S> {
  const { naming = "key", verb = declaration.verb } = options;
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(declaration.specs)) {
    const value = (input as Record<string, unknown>)[key];
    if (value === undefined || value === null) {
      if (spec.required) {
        throw new ParamError(verb, declaration.name(key, naming) ?? key, "is required");
      }
      if (spec.default !== undefined) out[key] = spec.default;
      continue;
    }
    const problem = paramProblem(spec, value);
    if (problem !== undefined) {
      throw new ParamError(verb, declaration.name(key, naming) ?? key, problem);
    }
    out[key] = value;
  }
  return out as ParamValues<S>;
}

/**
 * A parameter as JSON Schema (draft 2020-12 subset), as `rpc.discover` reports it.
 *
 * @param spec The parameter.
 * @returns The schema: type, bounds, enum, default, description.
 *
 * @example
 * ```ts
 * import { paramJsonSchema } from "./declare_params.ts";
 * console.log(paramJsonSchema({ type: "integer", min: 1, default: 4, help: "Batch." }));
 * // { type: "integer", minimum: 1, default: 4, description: "Batch." }
 * ```
 */
export function paramJsonSchema(spec: Param): { [key: string]: unknown } {
  const out: { [key: string]: unknown } = {};
  switch (spec.type) {
    case "integer":
    case "number":
      out.type = spec.type;
      if (spec.min !== undefined) out.minimum = spec.min;
      if (spec.exclusiveMin !== undefined) {
        out.exclusiveMinimum = spec.exclusiveMin;
      }
      if (spec.max !== undefined) out.maximum = spec.max;
      if (spec.exclusiveMax !== undefined) out.exclusiveMaximum = spec.exclusiveMax;
      break;
    case "boolean":
      out.type = "boolean";
      break;
    case "enum":
      out.type = "string";
      out.enum = [...spec.values];
      break;
    case "string":
      out.type = "string";
      if (spec.minLength !== undefined) out.minLength = spec.minLength;
      if (spec.maxLength !== undefined) out.maxLength = spec.maxLength;
      if (spec.pattern !== undefined) out.pattern = spec.pattern.source;
      break;
    case "strings": {
      out.type = "array";
      const items: { [key: string]: unknown } = { type: "string" };
      if (spec.minLength !== undefined) items.minLength = spec.minLength;
      if (spec.maxLength !== undefined) items.maxLength = spec.maxLength;
      out.items = items;
      if (spec.maxItems !== undefined) out.maxItems = spec.maxItems;
      break;
    }
  }
  if (spec.default !== undefined) out.default = spec.default;
  const help = spec.defaultText === undefined
    ? spec.help
    : `${spec.help} (default ${spec.defaultText})`;
  out.description = help;
  return out;
}

/**
 * Maps values keyed by RPC field name (as a client sends them) to the declaration's keys; fields the
 * declaration does not know are left out.
 *
 * @param declaration The job's parameters.
 * @param fields The values by field name.
 * @returns The values by key.
 *
 * @example
 * ```ts
 * import { declareParams, fromFields } from "./declare_params.ts";
 * const p = declareParams("train", { instanceDir: { type: "string", field: "subject", help: "photos" } });
 * console.log(fromFields(p, { subject: "dogs" })); // { instanceDir: "dogs" }
 * ```
 */
export function fromFields<S extends ParamSpecs>(
  declaration: ParamDeclaration<S>,
  fields: ParamFields<S>,
): ParamInput<S> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(declaration.specs)) {
    const field = declaration.name(key as keyof S & string, "field");
    if (field === undefined) continue;
    const value = (fields as Record<string, unknown>)[field];
    if (value !== undefined) out[key] = value;
  }
  return out as ParamInput<S>;
}
