/**
 * Read-only darts-clone double-array trie, as stored in SentencePiece's precompiled charsmap.
 *
 * Each unit is a little-endian uint32: bit 8 = has_leaf, bits 0–7 (plus bit 31) = label, bits 10+
 * (shifted by 8 more when bit 9 is set) = offset to the children, and for a leaf unit (bit 31 set)
 * bits 0–30 = value. The traversal below is darts-clone's `commonPrefixSearch`, reduced to what
 * SentencePiece's normaliser keeps: the longest match.
 *
 * @module
 */

/** A darts-clone double array over a byte alphabet. */
export class DartsTrie {
  readonly units: Uint32Array;

  /**
   * @param units the double-array units
   */
  constructor(units: Uint32Array) {
    this.units = units;
  }

  /**
   * Reads the units from little-endian bytes.
   *
   * @param bytes the trie blob (a multiple of 4 bytes is used; a trailing remainder is ignored)
   * @returns the trie
   */
  static fromBytes(bytes: Uint8Array): DartsTrie {
    const n = bytes.length >>> 2;
    const units = new Uint32Array(n);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) units[i] = view.getUint32(i * 4, true);
    return new DartsTrie(units);
  }

  /**
   * Whether some key starts with byte `b` (the first step of a prefix search succeeds).
   *
   * @param b a byte
   * @returns true when the root has a child labelled `b`
   */
  hasFirstByte(b: number): boolean {
    const units = this.units;
    if (units.length === 0) return false;
    const root = units[0];
    const id = (offsetOf(root) ^ b) >>> 0;
    const unit = units[id] ?? 0;
    return labelOf(unit) === b;
  }

  /**
   * Finds the longest key that is a prefix of `key[start, end)`.
   *
   * `out[0]` receives the length of the longest match (0 when none), `out[1]` its value.
   *
   * @param key bytes to search
   * @param start first byte
   * @param end one past the last byte
   * @param out two-element result
   */
  longestPrefix(key: Uint8Array, start: number, end: number, out: Int32Array): void {
    const units = this.units;
    out[0] = 0;
    out[1] = 0;
    if (units.length === 0) return;
    let id = offsetOf(units[0]);
    for (let i = start; i < end; i++) {
      const c = key[i];
      id = (id ^ c) >>> 0;
      const unit = units[id] ?? 0;
      if (labelOf(unit) !== c) return;
      id = (id ^ offsetOf(unit)) >>> 0;
      if ((unit >>> 8) & 1) {
        out[0] = i + 1 - start;
        out[1] = (units[id] ?? 0) & 0x7fffffff;
      }
    }
  }
}

function offsetOf(unit: number): number {
  return ((unit >>> 10) << ((unit & (1 << 9)) >>> 6)) >>> 0;
}

function labelOf(unit: number): number {
  return (unit & (0x80000000 | 0xff)) >>> 0;
}
