import type { MethodSpec } from "./define_method.ts";
import type { JsonSchema } from "./schema.ts";
import { showValue } from "./_show_value.ts";

/** One method in the {@linkcode OpenRpcDocument} that `rpc.discover` returns. */
export interface OpenRpcMethod {
  /** The method name. */
  name: string;
  /** Its one-line summary. */
  summary: string;
  /** `by-name` for object params (every method of this server), `either` otherwise. */
  paramStructure: "by-name" | "either";
  /** One content descriptor per field: name, whether required, JSON Schema. */
  params: { name: string; required: boolean; schema: JsonSchema; description?: string }[];
  /** The result's schema, when documented. */
  result: { name: "result"; schema: JsonSchema };
  /** The whole params object as one JSON Schema (extension field). */
  "x-params-schema": JsonSchema;
}

/** The service description `rpc.discover` returns (OpenRPC 1.2.6). */
export interface OpenRpcDocument {
  /** The OpenRPC version. */
  openrpc: "1.2.6";
  /** Title and version of this server. */
  info: { title: string; version: string };
  /** The methods, sorted by name. */
  methods: OpenRpcMethod[];
}

const namePattern = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** The built-in `rpc.discover` method (its handler is supplied by the registry). */
const discoverSpec = {
  name: "rpc.discover",
  summary: "Lists the methods and their parameter schemas (an OpenRPC 1.2.6 document).",
  params: { jsonSchema: { type: "object", properties: {}, additionalProperties: false } },
  result: { type: "object", description: "OpenRPC document" },
} as const;

/**
 * The methods a server answers, by name. Always contains `rpc.discover`; names starting with
 * `rpc.` are otherwise reserved (JSON-RPC 2.0 §4.2), and each name is taken once.
 *
 * @example
 * ```ts
 * import { MethodRegistry } from "./method_registry.ts";
 * import { defineMethod } from "./define_method.ts";
 * import { s } from "./schema.ts";
 * const registry = new MethodRegistry([defineMethod({
 *   name: "echo",
 *   summary: "Returns its text.",
 *   params: s.object({ text: s.string() }),
 *   handler: ({ text }) => text,
 * })]);
 * console.log(registry.discover().methods.map((m) => m.name)); // ["echo", "rpc.discover"]
 * ```
 */
export class MethodRegistry {
  private readonly methods = new Map<string, MethodSpec>();

  /**
   * @param methods Initial methods.
   */
  constructor(methods: Iterable<MethodSpec> = []) {
    for (const m of methods) this.add(m);
  }

  /**
   * Adds a method.
   *
   * @param spec The method.
   * @returns This registry.
   * @throws {RangeError} When the name is malformed, reserved or taken.
   */
  add(spec: MethodSpec): this {
    const name = spec?.name;
    if (typeof name !== "string" || !namePattern.test(name)) {
      throw new RangeError(
        `Cannot add the method as 'name' must be dotted identifiers: current value is ${
          showValue(name)
        }`,
      );
    }
    if (name.startsWith("rpc.")) {
      throw new RangeError(
        `Cannot add the method as 'name' starts with the reserved 'rpc.': current value is ${
          showValue(name)
        }`,
      );
    }
    if (this.methods.has(name)) {
      throw new RangeError(
        `Cannot add the method as 'name' is taken: current value is ${showValue(name)}`,
      );
    }
    this.methods.set(name, spec);
    return this;
  }

  /**
   * One method.
   *
   * @param name The method name.
   * @returns The method, or `undefined`.
   */
  get(name: string): MethodSpec | undefined {
    return this.methods.get(name);
  }

  /**
   * Every method added (not `rpc.discover`), in order of addition.
   *
   * @returns The methods.
   */
  list(): MethodSpec[] {
    return [...this.methods.values()];
  }

  /**
   * The OpenRPC description of every method, `rpc.discover` included.
   *
   * @param info Title and version (default `dreambooth-ts`, `0.1.0`).
   * @returns The document.
   */
  discover(info = { title: "dreambooth-ts", version: "0.1.0" }): OpenRpcDocument {
    const specs: { name: string; summary: string; schema: JsonSchema; result?: JsonSchema }[] = [
      ...this.list().map((m) => ({
        name: m.name,
        summary: m.summary,
        schema: m.params.jsonSchema,
        result: m.result,
      })),
      {
        name: discoverSpec.name,
        summary: discoverSpec.summary,
        schema: discoverSpec.params.jsonSchema,
        result: discoverSpec.result,
      },
    ];
    const methods = specs.map((m): OpenRpcMethod => {
      const isObject = m.schema.type === "object" && typeof m.schema.properties === "object";
      const required = new Set((m.schema.required as string[] | undefined) ?? []);
      const params = isObject
        ? Object.entries(m.schema.properties as Record<string, JsonSchema>).map(
          ([name, schema]) => {
            const p: OpenRpcMethod["params"][number] = {
              name,
              required: required.has(name),
              schema,
            };
            if (typeof schema.description === "string") p.description = schema.description;
            return p;
          },
        )
        : [{ name: "params", required: false, schema: m.schema }];
      return {
        name: m.name,
        summary: m.summary,
        paramStructure: isObject ? "by-name" : "either",
        params,
        result: { name: "result", schema: m.result ?? {} },
        "x-params-schema": m.schema,
      };
    });
    methods.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { openrpc: "1.2.6", info, methods };
  }
}
