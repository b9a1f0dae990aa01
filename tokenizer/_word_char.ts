/**
 * The two simple SentencePiece models: WORD (split at `▁`, look each word up) and CHAR (one piece
 * per character, user-defined symbols kept whole).
 *
 * @module
 */
import { ONE_CHAR_LEN } from "./_utf8.ts";
import { pieceToIdBytes, type Segments, type Vocab } from "./_segments.ts";

function isSpaceSymbol(b: Uint8Array, i: number, len: number): boolean {
  return len === 3 && b[i] === 0xe2 && b[i + 1] === 0x96 && b[i + 2] === 0x81;
}

/** `word::Model`: `SplitIntoWords` then `PieceToId`. */
export class WordModel {
  readonly #v: Vocab;
  readonly #suffix: boolean;
  readonly #wsOnly: boolean;

  /**
   * @param v vocabulary
   * @param treatWsAsSuffix TrainerSpec.treat_whitespace_as_suffix
   * @param allowWsOnlyPieces TrainerSpec.allow_whitespace_only_pieces
   */
  constructor(v: Vocab, treatWsAsSuffix: boolean, allowWsOnlyPieces: boolean) {
    this.#v = v;
    this.#suffix = treatWsAsSuffix;
    this.#wsOnly = allowWsOnlyPieces;
  }

  /**
   * @param norm normalised bytes
   * @param size byte count
   * @param out receives the segments
   */
  encode(norm: Uint8Array, size: number, out: Segments): void {
    out.clear();
    const words: number[] = []; // start, end pairs
    let begin = 0;
    let inWs = false;
    if (this.#suffix) {
      if (begin < size) words.push(begin, begin);
      while (begin < size) {
        const mblen = Math.min(ONE_CHAR_LEN[norm[begin] >>> 4], size - begin);
        const isWs = isSpaceSymbol(norm, begin, mblen);
        if (isWs) inWs = true;
        else if (inWs) {
          if (this.#wsOnly) words.push(begin, begin);
          inWs = false;
        }
        words[words.length - 1] += mblen;
        begin += mblen;
        if (begin < size && isWs && !this.#wsOnly) words.push(begin, begin);
      }
    } else {
      while (begin < size) {
        const mblen = Math.min(ONE_CHAR_LEN[norm[begin] >>> 4], size - begin);
        const isWs = isSpaceSymbol(norm, begin, mblen);
        if (begin === 0 || (isWs && (!inWs || !this.#wsOnly))) {
          words.push(begin, begin);
          inWs = true;
        }
        if (inWs && !isWs) inWs = false;
        words[words.length - 1] += mblen;
        begin += mblen;
      }
    }
    for (let i = 0; i < words.length; i += 2) {
      out.push(words[i], words[i + 1], pieceToIdBytes(this.#v, norm, words[i], words[i + 1]));
    }
  }
}

/** `character::Model`: one piece per character. */
export class CharModel {
  readonly #v: Vocab;

  /**
   * @param v vocabulary
   */
  constructor(v: Vocab) {
    this.#v = v;
  }

  /**
   * @param norm normalised bytes
   * @param size byte count
   * @param out receives the segments
   */
  encode(norm: Uint8Array, size: number, out: Segments): void {
    out.clear();
    const user = this.#v.userDefined;
    for (let pos = 0; pos < size;) {
      let len = user !== null ? user.longestPrefix(norm, pos, size) : 0;
      if (len === 0) len = Math.min(ONE_CHAR_LEN[norm[pos] >>> 4], size - pos);
      out.push(pos, pos + len, pieceToIdBytes(this.#v, norm, pos, pos + len));
      pos += len;
    }
  }
}
