/**
 * UTF-8 helpers with SentencePiece's exact rules (util.h): the length of a character from its
 * lead byte, and strict decoding that rejects overlong forms, surrogates and values past U+10FFFF.
 *
 * @module
 */

/** `OneCharLen`: the byte length a lead byte announces (1 for stray continuation bytes). */
export const ONE_CHAR_LEN = new Uint8Array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4]);

/**
 * SentencePiece's `OneCharLen`.
 *
 * @param b lead byte
 * @returns 1–4
 */
export function oneCharLen(b: number): number {
  return ONE_CHAR_LEN[b >>> 4];
}

function isTrail(b: number): boolean {
  return (b & 0xc0) === 0x80;
}

function isValidCodepoint(c: number): boolean {
  return c < 0xd800 || (c >= 0xe000 && c <= 0x10ffff);
}

/**
 * SentencePiece's `IsValidDecodeUTF8`: whether `bytes[start, end)` starts with a well-formed
 * character (U+FFFD itself counts as valid).
 *
 * @param bytes buffer
 * @param start first byte
 * @param end one past the last byte
 * @returns the character's byte length when valid, or the negated consumed length (-1) when not
 */
export function validCharLength(bytes: Uint8Array, start: number, end: number): number {
  const len = end - start;
  const b0 = bytes[start];
  if (b0 < 0x80) return 1;
  if (len >= 2 && (b0 & 0xe0) === 0xc0) {
    const b1 = bytes[start + 1];
    const cp = ((b0 & 0x1f) << 6) | (b1 & 0x3f);
    if (isTrail(b1) && cp >= 0x80 && isValidCodepoint(cp)) return 2;
  } else if (len >= 3 && (b0 & 0xf0) === 0xe0) {
    const b1 = bytes[start + 1];
    const b2 = bytes[start + 2];
    const cp = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
    if (isTrail(b1) && isTrail(b2) && cp >= 0x800 && isValidCodepoint(cp)) return 3;
  } else if (len >= 4 && (b0 & 0xf8) === 0xf0) {
    const b1 = bytes[start + 1];
    const b2 = bytes[start + 2];
    const b3 = bytes[start + 3];
    const cp = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
    if (isTrail(b1) && isTrail(b2) && isTrail(b3) && cp >= 0x10000 && isValidCodepoint(cp)) {
      return 4;
    }
  }
  return -1;
}

/** Shared encoder. */
export const utf8Encoder = new TextEncoder();
/** Shared (non-fatal) decoder. */
export const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });
