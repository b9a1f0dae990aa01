import { JSONRPCErrorException } from "./deps.ts";

/**
 * The error codes this server answers with: the five of the JSON-RPC 2.0 specification, and
 * application codes in the range the specification reserves for servers (-32000 to -32099).
 *
 * | code | name | when |
 * |---|---|---|
 * | -32700 | `ParseError` | the body is not JSON |
 * | -32600 | `InvalidRequest` | not a request object; empty or too large batch |
 * | -32601 | `MethodNotFound` | no such method |
 * | -32602 | `InvalidParams` | a parameter is missing, of the wrong type, out of range, or a path leaves the data root; `data.field` names it |
 * | -32603 | `InternalError` | a bug or a failure inside the server |
 * | -32000 | `Timeout` | a synchronous method ran past its time limit |
 * | -32004 | `NotFound` | an unknown job id (or other named resource) |
 * | -32005 | `Busy` | the job queue is full |
 * | -32009 | `Conflict` | the request does not fit the resource's state (cancelling a finished job) |
 */
export const RpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  Timeout: -32000,
  NotFound: -32004,
  Busy: -32005,
  Conflict: -32009,
} as const;

/** One of the values of {@linkcode RpcErrorCode}, or another application code. */
export type RpcErrorCodeValue = typeof RpcErrorCode[keyof typeof RpcErrorCode] | number;

/**
 * An error a method throws to answer with a JSON-RPC error object (`code`, `message`, `data`).
 * Anything else a method throws becomes -32603 Internal error.
 *
 * @example
 * ```ts
 * import { RpcError, RpcErrorCode } from "./rpc_error.ts";
 * const err = new RpcError(RpcErrorCode.NotFound, "Unknown job 'x'", { id: "x" });
 * console.log(err.code, err.toObject().message); // -32004 Unknown job 'x'
 * console.log(err instanceof RpcError); // true
 * ```
 */
export class RpcError extends JSONRPCErrorException {
  /**
   * @param code The JSON-RPC error code (see {@linkcode RpcErrorCode}).
   * @param message The error message sent to the client.
   * @param data Optional structured detail sent as `error.data`.
   */
  constructor(code: RpcErrorCodeValue, message: string, data?: unknown) {
    super(message, code, data);
    // json-rpc-2.0's constructor resets the prototype to its own class: restore ours.
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = "RpcError";
  }
}

/**
 * Shorthand for an -32602 Invalid params error about one field.
 *
 * @param field The parameter's path (`text`, `range[1]`).
 * @param problem What is wrong, as the end of a sentence (`must be a string: current value is 3`).
 * @returns The error, with `data.field` set.
 *
 * @example
 * ```ts
 * import { invalidParams } from "./rpc_error.ts";
 * console.log(invalidParams("k", "must be an integer: current value is 1.5").message);
 * // Invalid params: 'k' must be an integer: current value is 1.5
 * ```
 */
export function invalidParams(field: string, problem: string): RpcError {
  const where = field === "" ? "params" : `'${field}'`;
  return new RpcError(RpcErrorCode.InvalidParams, `Invalid params: ${where} ${problem}`, { field });
}
