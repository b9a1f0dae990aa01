/**
 * BPE segmentation: SentencePiece's `bpe::Model::SampleEncode` with no dropout.
 *
 * The text is split into characters (user-defined symbols are matched first and frozen), every
 * adjacent pair whose concatenation is a vocabulary piece goes into a priority queue ordered by
 * the piece's score (higher first) and then by the left position (smaller first); the best pair
 * is merged, stale entries are skipped, and the new neighbour pairs are queued. Merges into an
 * UNUSED piece are undone at the end (`resegment`), as in the reference.
 *
 * @module
 */
import { PieceType } from "./model_proto.ts";
import { ONE_CHAR_LEN } from "./_utf8.ts";
import { pieceToIdBytes, type Segments, type Vocab } from "./_segments.ts";

/** The BPE model over a vocabulary. */
export class BpeModel {
  readonly #v: Vocab;
  // Symbols: byte start and length, linked list, frozen flag.
  #sStart = new Int32Array(256);
  #sLen = new Int32Array(256);
  #prev = new Int32Array(256);
  #next = new Int32Array(256);
  #freeze = new Uint8Array(256);
  // Agenda (binary max-heap).
  #hScore = new Float32Array(256);
  #hLeft = new Int32Array(256);
  #hRight = new Int32Array(256);
  #hSize = new Int32Array(256);
  #hn = 0;

  /**
   * @param v the vocabulary
   */
  constructor(v: Vocab) {
    this.#v = v;
  }

  #before(i: number, j: number): boolean {
    const a = this.#hScore[i];
    const b = this.#hScore[j];
    return a > b || (a === b && this.#hLeft[i] < this.#hLeft[j]);
  }

  #swap(i: number, j: number): void {
    let t = this.#hScore[i];
    this.#hScore[i] = this.#hScore[j];
    this.#hScore[j] = t;
    t = this.#hLeft[i];
    this.#hLeft[i] = this.#hLeft[j];
    this.#hLeft[j] = t;
    t = this.#hRight[i];
    this.#hRight[i] = this.#hRight[j];
    this.#hRight[j] = t;
    t = this.#hSize[i];
    this.#hSize[i] = this.#hSize[j];
    this.#hSize[j] = t;
  }

  #push(score: number, left: number, right: number, size: number): void {
    if (this.#hn === this.#hScore.length) {
      const cap = this.#hn * 2;
      const f = new Float32Array(cap);
      f.set(this.#hScore);
      this.#hScore = f;
      for (const k of ["l", "r", "s"] as const) {
        const a = k === "l" ? this.#hLeft : k === "r" ? this.#hRight : this.#hSize;
        const b = new Int32Array(cap);
        b.set(a);
        if (k === "l") this.#hLeft = b;
        else if (k === "r") this.#hRight = b;
        else this.#hSize = b;
      }
    }
    let i = this.#hn++;
    this.#hScore[i] = score;
    this.#hLeft[i] = left;
    this.#hRight[i] = right;
    this.#hSize[i] = size;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#before(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  #pop(): void {
    const last = --this.#hn;
    if (last > 0) this.#swap(0, last);
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= last) break;
      const r = l + 1;
      const c = r < last && this.#before(r, l) ? r : l;
      if (!this.#before(c, i)) break;
      this.#swap(c, i);
      i = c;
    }
  }

  #ensureSymbols(n: number): void {
    if (this.#sStart.length >= n) return;
    const cap = Math.max(n, this.#sStart.length * 2);
    this.#sStart = new Int32Array(cap);
    this.#sLen = new Int32Array(cap);
    this.#prev = new Int32Array(cap);
    this.#next = new Int32Array(cap);
    this.#freeze = new Uint8Array(cap);
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
    const v = this.#v;
    this.#ensureSymbols(size);
    const sStart = this.#sStart;
    const sLen = this.#sLen;
    const prev = this.#prev;
    const next = this.#next;
    const freeze = this.#freeze;
    const user = v.userDefined;
    // Split into characters (user-defined symbols are one frozen symbol).
    let n = 0;
    for (let pos = 0; pos < size;) {
      let len = 0;
      let frozen = 0;
      if (user !== null) {
        len = user.longestPrefix(norm, pos, size);
        if (len > 0) frozen = 1;
      }
      if (len === 0) len = Math.min(ONE_CHAR_LEN[norm[pos] >>> 4], size - pos);
      sStart[n] = pos;
      sLen[n] = len;
      prev[n] = n - 1;
      pos += len;
      next[n] = pos >= size ? -1 : n + 1;
      freeze[n] = frozen;
      n++;
    }
    this.#hn = 0;
    // rev_merge for UNUSED pieces: id -> [leftStart, leftLen, rightStart, rightLen].
    let revMerge: Map<number, [number, number, number, number]> | null = null;
    const types = v.types;
    const scores = v.scores;
    const pieces = v.pieces;
    const maybeAdd = (left: number, right: number) => {
      if (left === -1 || right === -1 || freeze[left] || freeze[right]) return;
      const s = sStart[left];
      const len = sLen[left] + sLen[right];
      const id = pieces.get(norm, s, s + len);
      if (id < 0) return;
      this.#push(scores[id], left, right, len);
      if (types[id] === PieceType.UNUSED) {
        revMerge ??= new Map();
        revMerge.set(id, [s, sLen[left], sStart[right], sLen[right]]);
      }
    };
    for (let i = 1; i < n; i++) maybeAdd(i - 1, i);

    while (this.#hn > 0) {
      const left = this.#hLeft[0];
      const right = this.#hRight[0];
      const sizeOf = this.#hSize[0];
      this.#pop();
      if (sLen[left] === 0 || sLen[right] === 0 || sLen[left] + sLen[right] !== sizeOf) continue;
      sLen[left] += sLen[right];
      next[left] = next[right];
      if (next[right] >= 0) prev[next[right]] = left;
      sLen[right] = 0;
      maybeAdd(prev[left], left);
      maybeAdd(left, next[left]);
    }

    const resegment = (s: number, len: number) => {
      const id = pieceToIdBytes(v, norm, s, s + len);
      if (revMerge === null || types[id] !== PieceType.UNUSED) {
        out.push(s, s + len, id);
        return;
      }
      const p = revMerge.get(id);
      if (p === undefined) {
        out.push(s, s + len, id);
        return;
      }
      resegment(p[0], p[1]);
      resegment(p[2], p[3]);
    };
    for (let i = 0; i !== -1; i = next[i]) resegment(sStart[i], sLen[i]);
  }
}
