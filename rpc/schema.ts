import {
  type Param,
  type ParamDeclaration,
  type ParamFields,
  paramJsonSchema,
  paramProblem,
  type ParamSpecs,
  type ParamValue,
} from "../params/mod.ts";
import { invalidParams } from "./rpc_error.ts";
import { showValue } from "./_show_value.ts";

/** A JSON Schema (draft 2020-12 subset) as plain data, as `rpc.discover` reports it. */
export type JsonSchema = { [key: string]: unknown };

/**
 * A parameter schema: validates and converts a JSON value, and describes itself as JSON Schema.
 * `Opt` is `true` for a field that may be absent and has no default (its type then includes
 * `undefined`); build schemas with {@linkcode s}, not by hand.
 */
export interface Schema<T, Opt extends boolean = false> {
  /** The JSON Schema of the accepted values. */
  readonly jsonSchema: JsonSchema;
  /** Whether an object field of this schema must be present. */
  readonly required: boolean;
  /** Type-level flag only (see `Opt`); always `undefined` at run time. */
  readonly optionalFlag?: Opt;
  /**
   * Validates `value`.
   *
   * @param value The value from the request.
   * @param field Its path in the params, for the error message (`""` for the params themselves).
   * @returns The value, typed (objects are copied, defaults filled in).
   * @throws {RpcError} -32602 Invalid params naming the field.
   */
  parse(value: unknown, field?: string): T;
}

/** The type a schema produces: `Infer<typeof schema>`. */
export type Infer<S> = S extends Schema<infer T, boolean> ? T : never;

/** A record of field schemas, the argument of `s.object`. */
// deno-lint-ignore no-explicit-any
export type Shape = { [key: string]: Schema<any, boolean> };

type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends Schema<unknown, true> ? K : never;
}[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Simplify<T> = { [K in keyof T]: T[K] } & unknown;

/** The object type `s.object(shape)` produces. */
export type ObjectOf<S extends Shape> = Simplify<
  & { [K in RequiredKeys<S>]: Infer<S[K]> }
  & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

/** Options every builder takes. */
export interface Common {
  /** Shown in `rpc.discover`. */
  description?: string;
}

/** Options of `s.string`. */
export interface StringOptions extends Common {
  /** Minimum length in UTF-16 code units (default 0). */
  minLength?: number;
  /** Maximum length in UTF-16 code units (default none). */
  maxLength?: number;
  /** A pattern the whole string must match (give it anchored: `^…$`). */
  pattern?: RegExp;
}

/** Options of `s.integer` and `s.number`. */
export interface NumberOptions extends Common {
  /** Smallest value allowed (inclusive). */
  minimum?: number;
  /** Largest value allowed (inclusive). */
  maximum?: number;
  /** Values must be greater than this. */
  exclusiveMinimum?: number;
}

/** Options of `s.array`. */
export interface ArrayOptions extends Common {
  /** Minimum number of items (default 0). */
  minItems?: number;
  /** Maximum number of items (default none). */
  maxItems?: number;
}

/** Options of `s.object`. */
export interface ObjectOptions extends Common {
  /** Whether absent params (`undefined`) count as `{}` (default `true`). */
  absentIsEmpty?: boolean;
}

function describe(schema: JsonSchema, options: Common): JsonSchema {
  return options.description === undefined
    ? schema
    : { ...schema, description: options.description };
}

function make<T>(jsonSchema: JsonSchema, parse: (value: unknown, field: string) => T): Schema<T> {
  return { jsonSchema, required: true, parse: (value, field = "") => parse(value, field) };
}

function checkNumber(
  kind: "an integer" | "a number",
  options: NumberOptions,
  value: unknown,
  field: string,
): number {
  const { minimum, maximum, exclusiveMinimum } = options;
  const ok = typeof value === "number" && Number.isFinite(value) &&
    (kind === "a number" || Number.isInteger(value));
  const range = [
    minimum !== undefined ? `≥ ${minimum}` : "",
    exclusiveMinimum !== undefined ? `> ${exclusiveMinimum}` : "",
    maximum !== undefined ? `≤ ${maximum}` : "",
  ].filter((x) => x !== "").join(" and ");
  const want = range === "" ? kind : `${kind} ${range}`;
  if (
    !ok || (minimum !== undefined && value < minimum) ||
    (maximum !== undefined && value > maximum) ||
    (exclusiveMinimum !== undefined && value <= exclusiveMinimum)
  ) {
    throw invalidParams(field, `must be ${want}: current value is ${showValue(value)}`);
  }
  return value;
}

function at(field: string, key: string | number): string {
  if (typeof key === "number") return `${field}[${key}]`;
  return field === "" ? key : `${field}.${key}`;
}

/** The type of {@linkcode s}: one builder per kind of value. */
export interface SchemaBuilders {
  /** A string. */
  string(options?: StringOptions): Schema<string>;
  /** An integer (a finite number without fraction). */
  integer(options?: NumberOptions): Schema<number>;
  /** A finite number. */
  number(options?: NumberOptions): Schema<number>;
  /** `true` or `false`. */
  boolean(options?: Common): Schema<boolean>;
  /** One of the given strings. */
  enum<const V extends readonly string[]>(values: V, options?: Common): Schema<V[number]>;
  /** An array whose items all match `item`. */
  array<T>(item: Schema<T, boolean>, options?: ArrayOptions): Schema<T[]>;
  /** An object with exactly the given fields. */
  object<S extends Shape>(shape: S, options?: ObjectOptions): Schema<ObjectOf<S>>;
  /** An optional field without default (its value may be `undefined`). */
  optional<T>(inner: Schema<T, boolean>): Schema<T | undefined, true>;
  /** An optional field with a default filled in when absent. */
  optional<T>(inner: Schema<T, boolean>, defaultValue: T): Schema<T, false>;
  /** Anything JSON. */
  unknown(options?: Common): Schema<unknown>;
  /** One declared parameter (params/), optional, without its default filled in. */
  param<P extends Param>(spec: P): Schema<ParamValue<P> | undefined, true>;
  /** An object of a job's declared parameters (by RPC field name) plus `extra` fields. */
  declared<S extends ParamSpecs, E extends Shape = Record<never, never>>(
    declaration: ParamDeclaration<S>,
    extra?: E,
    options?: DeclaredOptions,
  ): Schema<Simplify<ParamFields<S> & ObjectOf<E>>>;
}

/** Options of `s.declared`. */
export interface DeclaredOptions extends ObjectOptions {
  /** Field names that must be present (the others are optional). */
  required?: readonly string[];
}

/**
 * The schema builders: a tiny validator written for this server instead of an npm one, because
 * it has to (1) name the offending field in a -32602 message the way the rest of the repository
 * words errors, (2) emit the JSON Schema that `rpc.discover` returns from the same definition, (3)
 * infer the handler's parameter type, and (4) import by URL without a build step. Zod 3 needs a
 * second package for (2), Ajv needs the types written twice for (3); ~200 lines do all four.
 *
 * Objects reject unknown fields (a typo such as `lenght` is an error, not silently ignored),
 * numbers must be finite, and every string and array has a length limit where it is used.
 *
 * @example
 * ```ts
 * import { s } from "./schema.ts";
 * const params = s.object({
 *   text: s.string({ maxLength: 100 }),
 *   k: s.optional(s.integer({ minimum: 1, maximum: 5 }), 3),
 * });
 * console.log(params.parse({ text: "hi" })); // { text: "hi", k: 3 }
 * try {
 *   params.parse({ text: "hi", k: 0 });
 * } catch (err) {
 *   console.log((err as Error).message);
 *   // Invalid params: 'k' must be an integer ≥ 1 and ≤ 5: current value is 0
 * }
 * ```
 */
export const s: SchemaBuilders = {
  /**
   * A string.
   *
   * @param options Length limits, pattern, description.
   * @returns The schema.
   */
  string(options: StringOptions = {}): Schema<string> {
    const { minLength, maxLength, pattern } = options;
    const json: JsonSchema = { type: "string" };
    if (minLength !== undefined) json.minLength = minLength;
    if (maxLength !== undefined) json.maxLength = maxLength;
    if (pattern !== undefined) json.pattern = pattern.source;
    return make(describe(json, options), (value, field) => {
      if (typeof value !== "string") {
        throw invalidParams(field, `must be a string: current value is ${showValue(value)}`);
      }
      if (minLength !== undefined && value.length < minLength) {
        throw invalidParams(
          field,
          `must have at least ${minLength} characters: current value is ${showValue(value)}`,
        );
      }
      if (maxLength !== undefined && value.length > maxLength) {
        throw invalidParams(
          field,
          `must have at most ${maxLength} characters: current length is ${value.length}`,
        );
      }
      if (pattern !== undefined && !pattern.test(value)) {
        throw invalidParams(
          field,
          `must match ${pattern.source}: current value is ${showValue(value)}`,
        );
      }
      return value;
    });
  },

  /**
   * An integer (a finite number without fraction).
   *
   * @param options Bounds, description.
   * @returns The schema.
   */
  integer(options: NumberOptions = {}): Schema<number> {
    return make(
      describe({ type: "integer", ...bounds(options) }, options),
      (value, field) => checkNumber("an integer", options, value, field),
    );
  },

  /**
   * A finite number.
   *
   * @param options Bounds, description.
   * @returns The schema.
   */
  number(options: NumberOptions = {}): Schema<number> {
    return make(
      describe({ type: "number", ...bounds(options) }, options),
      (value, field) => checkNumber("a number", options, value, field),
    );
  },

  /**
   * `true` or `false`.
   *
   * @param options Description.
   * @returns The schema.
   */
  boolean(options: Common = {}): Schema<boolean> {
    return make(describe({ type: "boolean" }, options), (value, field) => {
      if (typeof value !== "boolean") {
        throw invalidParams(field, `must be a boolean: current value is ${showValue(value)}`);
      }
      return value;
    });
  },

  /**
   * One of the given strings.
   *
   * @param values The allowed values.
   * @param options Description.
   * @returns The schema.
   */
  enum<const V extends readonly string[]>(values: V, options: Common = {}): Schema<V[number]> {
    return make(describe({ type: "string", enum: [...values] }, options), (value, field) => {
      if (typeof value !== "string" || !values.includes(value)) {
        throw invalidParams(
          field,
          `must be one of ${values.join(", ")}: current value is ${showValue(value)}`,
        );
      }
      return value as V[number];
    });
  },

  /**
   * An array whose items all match `item`.
   *
   * @param item The items' schema.
   * @param options Item count limits, description.
   * @returns The schema.
   */
  array<T>(item: Schema<T, boolean>, options: ArrayOptions = {}): Schema<T[]> {
    const { minItems, maxItems } = options;
    const json: JsonSchema = { type: "array", items: item.jsonSchema };
    if (minItems !== undefined) json.minItems = minItems;
    if (maxItems !== undefined) json.maxItems = maxItems;
    return make(describe(json, options), (value, field) => {
      if (!Array.isArray(value)) {
        throw invalidParams(field, `must be an array: current value is ${showValue(value)}`);
      }
      if (minItems !== undefined && value.length < minItems) {
        throw invalidParams(
          field,
          `must have at least ${minItems} items: current length is ${value.length}`,
        );
      }
      if (maxItems !== undefined && value.length > maxItems) {
        throw invalidParams(
          field,
          `must have at most ${maxItems} items: current length is ${value.length}`,
        );
      }
      return value.map((v, i) => item.parse(v, at(field, i)));
    });
  },

  /**
   * An object with exactly the given fields (unknown fields are an error). As the params of a
   * method, absent params count as `{}` unless `absentIsEmpty` is `false`.
   *
   * @param shape One schema per field; wrap optional ones in `s.optional`.
   * @param options Description, `absentIsEmpty`.
   * @returns The schema.
   */
  object<S extends Shape>(shape: S, options: ObjectOptions = {}): Schema<ObjectOf<S>> {
    const { absentIsEmpty = true } = options;
    const properties: JsonSchema = {};
    const required: string[] = [];
    for (const [key, schema] of Object.entries(shape)) {
      properties[key] = schema.jsonSchema;
      if (schema.required) required.push(key);
    }
    const json: JsonSchema = { type: "object", properties, additionalProperties: false };
    if (required.length > 0) json.required = required;
    return make(describe(json, options), (value, field) => {
      if (value === undefined && absentIsEmpty && field === "") value = {};
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        const what = field === "" ? "must be an object (named params)" : "must be an object";
        throw invalidParams(field, `${what}: current value is ${showValue(value)}`);
      }
      const input = value as Record<string, unknown>;
      for (const key of Object.keys(input)) {
        if (!Object.hasOwn(shape, key)) {
          throw invalidParams(
            at(field, key),
            `is not a known field (known: ${Object.keys(shape).join(", ") || "none"})`,
          );
        }
      }
      const out: Record<string, unknown> = {};
      for (const [key, schema] of Object.entries(shape)) {
        const v = input[key];
        if (v === undefined) {
          if (schema.required) throw invalidParams(at(field, key), "is required");
          const fallback = schema.parse(undefined, at(field, key));
          if (fallback !== undefined) out[key] = fallback;
        } else {
          out[key] = schema.parse(v, at(field, key));
        }
      }
      return out as ObjectOf<S>;
    });
  },

  /**
   * Makes a field optional, with a default value filled in when absent.
   *
   * @param inner The field's schema when present.
   * @param defaultValue The value used when the field is absent.
   * @returns The schema (its type excludes `undefined`: the default fills the gap).
   */
  optional: optional as SchemaBuilders["optional"],

  /**
   * Anything JSON (for test fixtures and pass-through fields); documents itself as `{}`.
   *
   * @param options Description.
   * @returns The schema.
   */
  unknown(options: Common = {}): Schema<unknown> {
    return make(describe({}, options), (value) => value);
  },

  /**
   * One declared parameter (params/): its JSON Schema and its check come from the declaration, so
   * the CLI and the server word a bad value alike. Optional; an absent value stays absent (the job
   * fills the declared default).
   *
   * @param spec The parameter.
   * @returns The schema.
   */
  param<P extends Param>(spec: P): Schema<ParamValue<P> | undefined, true> {
    return {
      jsonSchema: paramJsonSchema(spec),
      required: false,
      parse: (value, field = "") => {
        if (value === undefined) return undefined;
        const problem = paramProblem(spec, value, showValue(value));
        if (problem !== undefined) throw invalidParams(field, problem);
        return value as ParamValue<P>;
      },
    };
  },

  /**
   * The params of a job declared once (params/): one optional field per parameter that has an RPC
   * field name, plus the `extra` fields.
   *
   * @param declaration The job's parameters.
   * @param extra Fields only the server has (e.g. `preset`).
   * @param options As for `s.object`, and `required`: fields that must be present.
   * @returns The schema.
   */
  declared<S extends ParamSpecs, E extends Shape = Record<never, never>>(
    declaration: ParamDeclaration<S>,
    extra?: E,
    options: DeclaredOptions = {},
  ): Schema<Simplify<ParamFields<S> & ObjectOf<E>>> {
    const shape: Shape = {};
    for (const [key, spec] of Object.entries(declaration.specs)) {
      const field = declaration.name(key as keyof S & string, "field");
      if (field === undefined) continue;
      const schema = s.param(spec);
      const required = spec.required === true || options.required?.includes(field) === true;
      shape[field] = required ? { ...schema, required: true } : schema;
    }
    return s.object({ ...shape, ...extra }, options) as unknown as Schema<
      Simplify<ParamFields<S> & ObjectOf<E>>
    >;
  },
};

function optional<T>(inner: Schema<T, boolean>, ...rest: [] | [T]): Schema<T | undefined, boolean> {
  const hasDefault = rest.length > 0;
  const defaultValue = rest[0];
  const json = hasDefault ? { ...inner.jsonSchema, default: defaultValue } : inner.jsonSchema;
  return {
    jsonSchema: json,
    required: false,
    parse: (value, field = "") =>
      value === undefined
        ? (hasDefault ? structuredClone(defaultValue) : undefined)
        : inner.parse(value, field),
  };
}

function bounds(options: NumberOptions): JsonSchema {
  const out: JsonSchema = {};
  if (options.minimum !== undefined) out.minimum = options.minimum;
  if (options.maximum !== undefined) out.maximum = options.maximum;
  if (options.exclusiveMinimum !== undefined) out.exclusiveMinimum = options.exclusiveMinimum;
  return out;
}
