import type { JsonSchema, Schema } from "./schema.ts";
import type { RpcServices } from "./rpc_services.ts";

/** What a method handler gets besides its params. */
export interface MethodContext {
  /**
   * Aborted when the call runs past its time limit or the client goes away; long handlers
   * should check it.
   */
  readonly signal: AbortSignal;
  /** The server's shared state: data root, job queue, tokenizers, backend choice. */
  readonly services: RpcServices;
}

/**
 * A JSON-RPC method: name, documented and validated params, handler. Params are by name (an
 * object) unless the schema says otherwise; absent params count as `{}`.
 */
// deno-lint-ignore no-explicit-any
export interface MethodSpec<P = any, R = unknown> {
  /** The method name (`tokenizer.encode`). Names starting with `rpc.` are reserved. */
  readonly name: string;
  /** One line for `rpc.discover`. */
  readonly summary: string;
  /** The params' schema; failures answer -32602 naming the field. */
  readonly params: Schema<P, boolean>;
  /** The result's JSON Schema, for `rpc.discover` (documentation only). */
  readonly result?: JsonSchema;
  /**
   * Time limit in ms for one call (default: the server's, 30 s); `Infinity` for none. A handler
   * that blocks the event loop cannot be interrupted: keep synchronous work short.
   */
  readonly timeoutMs?: number;
  /**
   * Answers one call.
   *
   * @param params The validated params.
   * @param context Signal and services.
   * @returns The result (JSON-serialisable); throw an `RpcError` to answer with an error.
   */
  handler(params: P, context: MethodContext): R | Promise<R>;
}

/**
 * Identity function that infers a method's param and result types from its schema and handler.
 *
 * @param spec The method.
 * @returns The same object.
 *
 * @example
 * ```ts
 * import { defineMethod } from "./define_method.ts";
 * import { s } from "./schema.ts";
 * const echo = defineMethod({
 *   name: "echo",
 *   summary: "Returns its text.",
 *   params: s.object({ text: s.string({ maxLength: 1000 }) }),
 *   handler: ({ text }) => ({ text }),
 * });
 * console.log(echo.name); // echo
 * ```
 */
export function defineMethod<P, R>(spec: MethodSpec<P, R>): MethodSpec<P, R> {
  return spec;
}
