/**
 * A byte trie for exact and prefix lookups of vocabulary pieces.
 *
 * Nodes are integers; the edge `(node, byte) → child` lives in one open-addressing hash table of
 * typed arrays (no objects per node), and the root's 256 edges in a direct table. This is what the
 * Viterbi search walks once per character position, so it is kept allocation-free.
 *
 * @module
 */

/** A trie over UTF-8 byte strings mapping each key to a non-negative integer. */
export class ByteTrie {
  #root = new Int32Array(256).fill(-1);
  #keys: Int32Array;
  #children: Int32Array;
  #mask: number;
  #edges = 0;
  /** `value[node]`: the id stored at `node`, or -1. */
  value: Int32Array;
  #nodes = 1;
  /** Length in bytes of the longest key. */
  maxKeyLength = 0;

  /**
   * @param expectedBytes total bytes of the keys to be inserted (sizes the tables)
   */
  constructor(expectedBytes = 1024) {
    let cap = 16;
    while (cap < expectedBytes * 2) cap *= 2;
    this.#keys = new Int32Array(cap);
    this.#children = new Int32Array(cap);
    this.#mask = cap - 1;
    this.value = new Int32Array(Math.max(16, expectedBytes + 1)).fill(-1);
  }

  #slot(key: number): number {
    const mask = this.#mask;
    const keys = this.#keys;
    let h = Math.imul(key, 0x9e3779b1) >>> 0;
    h = (h ^ (h >>> 15)) & mask;
    while (keys[h] !== 0 && keys[h] !== key) h = (h + 1) & mask;
    return h;
  }

  #grow(): void {
    const oldKeys = this.#keys;
    const oldChildren = this.#children;
    const cap = oldKeys.length * 2;
    this.#keys = new Int32Array(cap);
    this.#children = new Int32Array(cap);
    this.#mask = cap - 1;
    for (let i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] !== 0) {
        const s = this.#slot(oldKeys[i]);
        this.#keys[s] = oldKeys[i];
        this.#children[s] = oldChildren[i];
      }
    }
  }

  /**
   * Inserts a key; an existing value is kept (first insertion wins).
   *
   * @param key the key bytes
   * @param value a non-negative integer
   * @returns false when the key was already present
   */
  insert(key: Uint8Array, value: number): boolean {
    let node = 0;
    for (let i = 0; i < key.length; i++) {
      const b = key[i];
      let child: number;
      if (node === 0) {
        child = this.#root[b];
        if (child < 0) {
          child = this.#newNode();
          this.#root[b] = child;
        }
      } else {
        const k = node * 256 + b + 1;
        let s = this.#slot(k);
        if (this.#keys[s] === k) child = this.#children[s];
        else {
          child = this.#newNode();
          if ((this.#edges + 1) * 2 > this.#keys.length) {
            this.#grow();
            s = this.#slot(k);
          }
          this.#keys[s] = k;
          this.#children[s] = child;
          this.#edges++;
        }
      }
      node = child;
    }
    if (this.value[node] >= 0) return false;
    this.value[node] = value;
    if (key.length > this.maxKeyLength) this.maxKeyLength = key.length;
    return true;
  }

  #newNode(): number {
    const n = this.#nodes++;
    if (n >= this.value.length) {
      const v = new Int32Array(this.value.length * 2).fill(-1);
      v.set(this.value);
      this.value = v;
    }
    if (n >= 8388000) throw new RangeError("Cannot build the piece trie: more than 8M nodes");
    return n;
  }

  /**
   * Follows one byte from `node`.
   *
   * @param node a node (0 = root)
   * @param b the byte
   * @returns the child, or -1
   */
  next(node: number, b: number): number {
    if (node === 0) return this.#root[b];
    const key = node * 256 + b + 1;
    const mask = this.#mask;
    const keys = this.#keys;
    let h = Math.imul(key, 0x9e3779b1) >>> 0;
    h = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const k = keys[h];
      if (k === key) return this.#children[h];
      if (k === 0) return -1;
      h = (h + 1) & mask;
    }
  }

  /**
   * Exact lookup of `bytes[start, end)`.
   *
   * @param bytes buffer
   * @param start first byte
   * @param end one past the last byte
   * @returns the value, or -1
   */
  get(bytes: Uint8Array, start: number, end: number): number {
    let node = 0;
    for (let i = start; i < end; i++) {
      node = this.next(node, bytes[i]);
      if (node < 0) return -1;
    }
    return end > start ? this.value[node] : -1;
  }

  /**
   * Length of the longest key that is a prefix of `bytes[start, end)`, or 0.
   *
   * @param bytes buffer
   * @param start first byte
   * @param end one past the last byte
   * @returns the match length in bytes
   */
  longestPrefix(bytes: Uint8Array, start: number, end: number): number {
    let node = 0;
    let best = 0;
    for (let i = start; i < end; i++) {
      node = this.next(node, bytes[i]);
      if (node < 0) break;
      if (this.value[node] >= 0) best = i + 1 - start;
    }
    return best;
  }
}
