/**
 * T5-style conditioning input: a fixed number of ids with EOS, padding and an attention mask.
 *
 * @module
 */
import { SentencePieceProcessor } from "./sentence_piece_processor.ts";

/** Options of {@linkcode encodeFixedLength}. */
export interface FixedLengthOptions {
  /** Number of positions (ids and mask entries). Default 64. */
  length?: number;
  /** Id used for padding. Default: the model's `<pad>` id (an error when it has none). */
  padId?: number;
}

/** Result of {@linkcode encodeFixedLength}. */
export interface FixedLengthIds {
  /** `[length]` piece ids: the text's ids, EOS, then padding. */
  ids: Int32Array;
  /** `[length]` 1 on real tokens (EOS included), 0 on padding. */
  mask: Uint8Array;
  /** True when the text's ids had to be cut to fit (EOS is always kept last). */
  truncated: boolean;
}

/**
 * Encodes a prompt as the T5 text encoder expects it: the text's ids, then EOS; cut so that EOS
 * stays the last real token when the text is too long; padded with the pad id up to `length`;
 * and a mask with 1 on every real token including EOS.
 *
 * @param sp the vocabulary
 * @param text the prompt
 * @param options `length` (default 64) and `padId` (default the model's `<pad>`)
 * @returns ids, mask and whether the text was truncated
 * @throws {TypeError} when `sp` is not a processor or `text` not a string
 * @throws {RangeError} when `length` is not a positive integer, or the model has no EOS or pad id
 * @example
 * ```ts
 * import { encodeFixedLength, loadDefaultVocabulary } from "./mod.ts";
 * const sp = await loadDefaultVocabulary();
 * const { ids, mask } = encodeFixedLength(sp, "a dog", { length: 6 });
 * console.log(Array.from(ids), Array.from(mask)); // [3, 9, 1782, 1, 0, 0] [1, 1, 1, 1, 0, 0]
 * ```
 */
export function encodeFixedLength(
  sp: SentencePieceProcessor,
  text: string,
  options: FixedLengthOptions = {},
): FixedLengthIds {
  if (!(sp instanceof SentencePieceProcessor)) {
    throw new TypeError(
      `Cannot encode to fixed length as 'sp' must be a SentencePieceProcessor: current value is ${
        sp === null ? "null" : typeof sp
      }`,
    );
  }
  if (typeof text !== "string") {
    throw new TypeError(
      `Cannot encode to fixed length as 'text' must be a string: current value is ${typeof text}`,
    );
  }
  const { length = 64 } = options;
  if (!Number.isInteger(length) || length < 1) {
    throw new RangeError(
      `Cannot encode to fixed length as 'length' must be a positive integer: current value is ${length}`,
    );
  }
  const padId = options.padId ?? sp.padId;
  if (!Number.isInteger(padId) || padId < 0 || padId >= sp.vocabSize) {
    throw new RangeError(
      `Cannot encode to fixed length as 'padId' must be an id in [0, ${sp.vocabSize}) (the model has no <pad>; pass { padId }): current value is ${padId}`,
    );
  }
  if (sp.eosId < 0) {
    throw new RangeError(
      `Cannot encode to fixed length as the model '${sp.name}' has no EOS piece: current value of eosId is ${sp.eosId}`,
    );
  }
  const tokens = sp.encode(text);
  const keep = Math.min(tokens.length, length - 1);
  const ids = new Int32Array(length).fill(padId);
  const mask = new Uint8Array(length);
  for (let i = 0; i < keep; i++) ids[i] = tokens[i];
  ids[keep] = sp.eosId;
  mask.fill(1, 0, keep + 1);
  return { ids, mask, truncated: keep < tokens.length };
}
