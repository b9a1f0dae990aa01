/**
 * Unigram segmentation: SentencePiece's `unigram::Model::EncodeOptimized` (the default encoder of
 * sentencepiece ≥ 0.1.96), reproduced with its float32 arithmetic and tie-breaking.
 *
 * For each character start position (in order), every vocabulary piece starting there is found by
 * walking the trie; the best path ending at the piece's end is replaced only when the new score is
 * strictly greater, so among equal scores the path whose last piece starts earliest wins (and, for
 * the same start, the shorter piece, found first). A position with no one-character piece gets an
 * `<unk>` candidate scored `min_score - 10`. User-defined symbols score `length * max_score - 0.1`
 * where `max_score` starts at FLT_MIN. Precision matters for ties: in the reference the piece
 * score is a `double` (the `?:` with the user-defined branch promotes it), so a candidate path
 * score is summed and compared in double against the stored float, then stored as float; the
 * `<unk>` candidate is summed in float.
 *
 * @module
 */
import { PieceType } from "./model_proto.ts";
import { ONE_CHAR_LEN } from "./_utf8.ts";
import type { Segments, Vocab } from "./_segments.ts";

const FLT_MAX = 3.4028234663852886e38;
const FLT_MIN = 1.1754943508222875e-38;
const UNK_PENALTY = 10;

/** The unigram model over a vocabulary. */
export class UnigramModel {
  readonly #v: Vocab;
  readonly minScore: number;
  readonly maxScore: number;
  readonly #unkScore: number;
  #score = new Float32Array(256);
  #from = new Int32Array(256);
  #id = new Int32Array(256);

  /**
   * @param v the vocabulary
   */
  constructor(v: Vocab) {
    this.#v = v;
    let min = FLT_MAX;
    let max = FLT_MIN;
    for (let i = 0; i < v.types.length; i++) {
      if (v.types[i] === PieceType.NORMAL) {
        if (v.scores[i] < min) min = v.scores[i];
        if (v.scores[i] > max) max = v.scores[i];
      }
    }
    this.minScore = min;
    this.maxScore = max;
    this.#unkScore = Math.fround(min - UNK_PENALTY);
  }

  /**
   * Segments normalised bytes.
   *
   * @param norm normalised UTF-8
   * @param size number of bytes
   * @param out receives the segments, in order
   */
  encode(norm: Uint8Array, size: number, out: Segments): void {
    out.clear();
    if (size === 0) return;
    if (this.#score.length < size + 1) {
      const cap = Math.max(size + 1, this.#score.length * 2);
      this.#score = new Float32Array(cap);
      this.#from = new Int32Array(cap);
      this.#id = new Int32Array(cap);
    }
    const best = this.#score;
    const from = this.#from;
    const bestId = this.#id;
    from.fill(-1, 0, size + 1);
    best[0] = 0;
    const v = this.#v;
    const trie = v.pieces;
    const value = trie.value;
    const types = v.types;
    const scores = v.scores;
    const unkScore = this.#unkScore;
    const maxScore = this.maxScore;
    const unkId = v.unkId;

    let startsAt = 0;
    while (startsAt < size) {
      const till = best[startsAt];
      let hasSingle = false;
      const mblen = Math.min(ONE_CHAR_LEN[norm[startsAt] >>> 4], size - startsAt);
      let node = 0;
      for (let k = startsAt; k < size; k++) {
        node = trie.next(node, norm[k]);
        if (node < 0) break;
        const id = value[node];
        if (id < 0) continue;
        const type = types[id];
        if (type === PieceType.UNUSED) continue;
        const end = k + 1;
        const length = end - startsAt;
        let candidate: number;
        if (type === PieceType.USER_DEFINED) {
          // (length * max_score_ - 0.1) is a double in C++; the sum stays double.
          candidate = (Math.fround(length * maxScore) - 0.1) + till;
        } else {
          // The conditional expression above is a double in C++, so this sum is too.
          candidate = scores[id] + till;
        }
        if (from[end] === -1 || candidate > best[end]) {
          best[end] = candidate;
          from[end] = startsAt;
          bestId[end] = id;
        }
        if (!hasSingle && length === mblen) hasSingle = true;
      }
      if (!hasSingle) {
        const end = startsAt + mblen;
        const candidate = Math.fround(unkScore + till);
        if (from[end] === -1 || candidate > best[end]) {
          best[end] = candidate;
          from[end] = startsAt;
          bestId[end] = unkId;
        }
      }
      startsAt += mblen;
    }
    // Backtrack.
    let endsAt = size;
    while (endsAt > 0) {
      const s = from[endsAt];
      out.push(s, endsAt, bestId[endsAt]);
      endsAt = s;
    }
    out.reverse();
  }
}
