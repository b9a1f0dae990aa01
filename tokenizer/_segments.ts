/**
 * The segmentation a model produces before SentencePiece post-processing: `(start, end, id)`
 * triples over the normalised bytes, in growable typed arrays reused between calls.
 *
 * @module
 */

/** Growable list of `[start, end)` byte ranges with their piece ids. */
export class Segments {
  start = new Int32Array(256);
  end = new Int32Array(256);
  id = new Int32Array(256);
  n = 0;

  /** Empties the list (keeps the storage). */
  clear(): void {
    this.n = 0;
  }

  /**
   * Appends one segment.
   *
   * @param s first byte
   * @param e one past the last byte
   * @param id piece id
   */
  push(s: number, e: number, id: number): void {
    if (this.n === this.start.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.start = grow(this.start);
      this.end = grow(this.end);
      this.id = grow(this.id);
    }
    this.start[this.n] = s;
    this.end[this.n] = e;
    this.id[this.n] = id;
    this.n++;
  }

  /** Reverses the order of the segments in place. */
  reverse(): void {
    for (let i = 0, j = this.n - 1; i < j; i++, j--) {
      let t = this.start[i];
      this.start[i] = this.start[j];
      this.start[j] = t;
      t = this.end[i];
      this.end[i] = this.end[j];
      this.end[j] = t;
      t = this.id[i];
      this.id[i] = this.id[j];
      this.id[j] = t;
    }
  }
}

/** What the segmentation models need to know about the vocabulary. */
export interface Vocab {
  /** Piece type per id. */
  types: Uint8Array;
  /** Piece score per id (float32). */
  scores: Float32Array;
  /** NORMAL, USER_DEFINED and UNUSED pieces (SentencePiece's `pieces_`). */
  pieces: import("./_byte_trie.ts").ByteTrie;
  /** CONTROL, UNKNOWN and BYTE pieces (`reserved_id_map_`). */
  reserved: import("./_byte_trie.ts").ByteTrie;
  /** User-defined symbols, or null. */
  userDefined: import("./_byte_trie.ts").ByteTrie | null;
  unkId: number;
}

/**
 * `ModelInterface::PieceToId` on a byte range: reserved pieces first, then ordinary ones, else unk.
 *
 * @param v vocabulary
 * @param bytes buffer
 * @param s first byte
 * @param e one past the last byte
 * @returns the id
 */
export function pieceToIdBytes(v: Vocab, bytes: Uint8Array, s: number, e: number): number {
  const r = v.reserved.get(bytes, s, e);
  if (r >= 0) return r;
  const p = v.pieces.get(bytes, s, e);
  return p >= 0 ? p : v.unkId;
}
