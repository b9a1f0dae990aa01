/**
 * The tokenizer functions the `tokenizer.*` methods need beyond `SentencePieceProcessor`, looked
 * up at run time: `encodeFixedLength` and `drawIdentifier` are being added to tokenizer/ while
 * this package is written. A method whose function is missing is left out of the served registry
 * (see `served_methods.ts`) rather than stubbed.
 *
 * @module
 */
import * as tokenizer from "../../tokenizer/mod.ts";
import type { SentencePieceProcessor } from "../../tokenizer/mod.ts";
import { RpcError, RpcErrorCode } from "../rpc_error.ts";
import { s } from "../schema.ts";

/** The `model` param every `tokenizer.*` method takes. */
export const modelParam = s.optional(s.string({
  maxLength: 4096,
  description: "A SentencePiece .model file relative to the data root (default: the shipped T5 " +
    "vocabulary).",
}));

/** `encodeFixedLength(sp, text, { length })`: T5-style ids with EOS and padding, and the mask. */
export type EncodeFixedLength = (
  sp: SentencePieceProcessor,
  text: string,
  options: { length: number },
) => { ids: ArrayLike<number>; mask: ArrayLike<number> };

/** `drawIdentifier(sp, { k, seed, range })`: a rare-token identifier `[V]`. */
export type DrawIdentifier = (
  sp: SentencePieceProcessor,
  options: { k?: number; seed?: number; range?: [number, number] },
) => { text: string; ids: ArrayLike<number>; k: number };

const exported = tokenizer as unknown as Record<string, unknown>;

/** tokenizer/'s `encodeFixedLength`, or `undefined` while it does not exist. */
export const encodeFixedLength: EncodeFixedLength | undefined =
  typeof exported.encodeFixedLength === "function"
    ? exported.encodeFixedLength as EncodeFixedLength
    : undefined;

/** tokenizer/'s `drawIdentifier`, or `undefined` while it does not exist. */
export const drawIdentifier: DrawIdentifier | undefined =
  typeof exported.drawIdentifier === "function"
    ? exported.drawIdentifier as DrawIdentifier
    : undefined;

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
