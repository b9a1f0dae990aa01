/**
 * Shared pieces of the `tokenizer.*` methods: the `model` param and the mapping of tokenizer/'s
 * argument errors to -32602.
 *
 * @module
 */
import { RpcError, RpcErrorCode } from "../rpc_error.ts";
import { s } from "../schema.ts";

/** The `model` param every `tokenizer.*` method takes. */
export const modelParam = s.optional(s.string({
  maxLength: 4096,
  description: "A SentencePiece .model file relative to the data root (default: the shipped T5 " +
    "vocabulary).",
}));

/**
 * Runs a tokenizer call whose arguments come from the request, turning its `TypeError`s and
 * `RangeError`s (which name the bad value, by the repository's convention) into the message of
 * an -32602 error.
 *
 * @param field The parameter the arguments came from.
 * @param fn The call.
 * @returns Its result.
 */
export function asParamsError<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) {
      throw invalidParamsFrom(field, err.message);
    }
    throw err;
  }
}

function invalidParamsFrom(field: string, message: string): RpcError {
  return new RpcError(RpcErrorCode.InvalidParams, `Invalid params: ${message}`, { field });
}
