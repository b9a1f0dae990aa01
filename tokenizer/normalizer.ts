/**
 * SentencePiece text normalisation, exactly as `normalizer.cc` does it.
 *
 * @module
 */
import { DartsTrie } from "./_darts.ts";
import { ByteTrie } from "./_byte_trie.ts";
import { utf8Decoder, utf8Encoder, validCharLength } from "./_utf8.ts";
import type { NormalizerSpec } from "./model_proto.ts";

const SPACE = 0x20;
const REPLACEMENT = new Uint8Array([0xef, 0xbf, 0xbd]);

/** Options of {@linkcode Normalizer}. */
export interface NormalizerOptions {
  /** Put the dummy whitespace after the text instead of before (TrainerSpec field). Default false. */
  treatWhitespaceAsSuffix?: boolean;
  /** User-defined symbols: matched greedily (longest) and copied without normalisation. */
  userDefinedSymbols?: readonly string[];
}

/** The length of `out[0, o)` without its trailing spaces (escaped as U+2581 or plain). */
function trimTrailingSpace(out: Uint8Array, o: number, escaped: boolean): number {
  if (escaped) {
    while (o >= 3 && out[o - 3] === 0xe2 && out[o - 2] === 0x96 && out[o - 1] === 0x81) o -= 3;
  } else {
    while (o >= 1 && out[o - 1] === SPACE) o--;
  }
  return o;
}

/**
 * Normalises text with a model's `NormalizerSpec`: the precompiled charsmap (a darts-clone
 * double-array trie whose values point into a blob of NUL-terminated replacement strings; the
 * longest matching prefix wins), malformed UTF-8 replaced by U+FFFD one byte at a time, leading,
 * trailing and repeated whitespace removed, the dummy `▁` prefix added and spaces escaped as `▁`.
 * User-defined symbols are matched first and bypass the charsmap, as in SentencePiece.
 *
 * @example
 * ```ts
 * import { loadDefaultVocabulary } from "./mod.ts";
 * const sp = await loadDefaultVocabulary();
 * console.log(sp.normalizer.normalize("  Ｈｅｌｌｏ   ﬁne  ")); // "▁Hello▁fine"
 * ```
 */
export class Normalizer {
  /** The spec this normaliser implements. */
  readonly spec: NormalizerSpec;
  readonly #trie: DartsTrie | null = null;
  #blob: Uint8Array = new Uint8Array(0);
  #blobEnd: Int32Array = new Int32Array(0);
  readonly #suffix: boolean;
  readonly #matcher: ByteTrie | null;
  /** Bytes that are copied unchanged without consulting any table (ASCII, not space). */
  readonly #plain = new Uint8Array(256);
  readonly #userFirst = new Uint8Array(256);
  #out = new Uint8Array(1024);
  readonly #res = new Int32Array(2);

  /**
   * Builds a normaliser from a spec.
   *
   * @param spec the model's normalizer spec
   * @param options suffix mode and user-defined symbols
   * @throws {Error} when the precompiled charsmap is broken
   */
  constructor(spec: NormalizerSpec, options: NormalizerOptions = {}) {
    this.spec = spec;
    this.#suffix = options.treatWhitespaceAsSuffix ?? false;
    const symbols = options.userDefinedSymbols ?? [];
    this.#matcher = null;
    if (symbols.length > 0) {
      const trie = new ByteTrie(symbols.reduce((a, u) => a + u.length * 3, 0));
      for (const u of symbols) if (u.length > 0) trie.insert(utf8Encoder.encode(u), 1);
      this.#matcher = trie;
    }
    const blob = spec.precompiledCharsmap;
    if (blob.length > 0) {
      if (blob.length <= 4) throw new Error("the normalization rule blob is broken (too short)");
      const trieSize = new DataView(blob.buffer, blob.byteOffset, 4).getUint32(0, true);
      if (trieSize >= blob.length) {
        throw new Error("the normalization trie size exceeds the rule blob size");
      }
      this.#trie = DartsTrie.fromBytes(blob.subarray(4, 4 + trieSize));
      this.#blob = blob.subarray(4 + trieSize);
      // End (exclusive) of the NUL-terminated string starting at each blob offset.
      const n = this.#blob.length;
      const ends = new Int32Array(n + 1);
      ends[n] = n;
      for (let i = n - 1; i >= 0; i--) ends[i] = this.#blob[i] === 0 ? i : ends[i + 1];
      this.#blobEnd = ends;
    }
    for (let b = 0; b < 0x80; b++) {
      this.#plain[b] = b !== SPACE && !(this.#trie?.hasFirstByte(b) ?? false) ? 1 : 0;
    }
    if (this.#matcher) {
      for (let b = 0; b < 256; b++) this.#userFirst[b] = this.#matcher.next(0, b) >= 0 ? 1 : 0;
    }
  }

  /**
   * Normalises a string.
   *
   * @param text input text
   * @returns the normalised text (with `▁` for spaces when the spec escapes whitespace)
   */
  normalize(text: string): string {
    if (typeof text !== "string") {
      throw new TypeError(
        `Cannot normalize as 'text' must be a string: current value is ${typeof text}`,
      );
    }
    const input = utf8Encoder.encode(text);
    const n = this.normalizeBytes(input, input.length);
    return utf8Decoder.decode(this.#out.subarray(0, n));
  }

  /**
   * The buffer that {@linkcode normalizeBytes} writes to (valid until the next call).
   *
   * @returns the output buffer
   */
  get output(): Uint8Array {
    return this.#out;
  }

  #ensure(n: number): Uint8Array {
    if (n > this.#out.length) {
      const next = new Uint8Array(Math.max(n, this.#out.length * 2));
      next.set(this.#out);
      this.#out = next;
    }
    return this.#out;
  }

  /**
   * Normalises UTF-8 bytes into {@linkcode output}.
   *
   * @param input input bytes
   * @param n number of input bytes to read
   * @returns the number of bytes written to {@linkcode output}
   */
  normalizeBytes(input: Uint8Array, n: number): number {
    if (n === 0) return 0;
    const spec = this.spec;
    const removeExtra = spec.removeExtraWhitespaces;
    const escape = spec.escapeWhitespaces;
    const plain = this.#plain;
    let out = this.#ensure(n * 3 + 16);
    let o = 0;
    let pos = 0;

    // Prefix state, set by `prefix`: bytes [s, e) of `src`; `consumed` input bytes.
    let src: Uint8Array = input;
    let s = 0;
    let e = 0;
    let consumed = 0;
    const prefix = (at: number): void => {
      const b = input[at];
      if (this.#matcher !== null && this.#userFirst[b]) {
        const m = this.#matcher.longestPrefix(input, at, n);
        if (m > 0) {
          src = input;
          s = at;
          e = at + m;
          consumed = m;
          return;
        }
      }
      if (plain[b]) {
        src = input;
        s = at;
        e = at + 1;
        consumed = 1;
        return;
      }
      let longest = 0;
      if (this.#trie !== null) {
        this.#trie.longestPrefix(input, at, n, this.#res);
        longest = this.#res[0];
      }
      if (longest === 0) {
        const len = validCharLength(input, at, n);
        if (len < 0) {
          src = REPLACEMENT;
          s = 0;
          e = 3;
          consumed = 1;
        } else {
          src = input;
          s = at;
          e = at + len;
          consumed = len;
        }
      } else {
        const v = Math.min(this.#res[1], this.#blob.length);
        src = this.#blob;
        s = v;
        e = this.#blobEnd[v];
        consumed = longest;
      }
    };

    // Ignores heading space.
    if (removeExtra) {
      while (pos < n) {
        prefix(pos);
        if (!(e - s === 1 && src[s] === SPACE)) break;
        pos += consumed;
      }
    }
    if (pos >= n) return 0;

    const addWs = () => {
      if (escape) {
        out[o++] = 0xe2;
        out[o++] = 0x96;
        out[o++] = 0x81;
      } else out[o++] = SPACE;
    };
    if (!this.#suffix && spec.addDummyPrefix) addWs();

    let isPrevSpace = removeExtra;
    while (pos < n) {
      const b = input[pos];
      if (plain[b] && (this.#matcher === null || !this.#userFirst[b])) {
        // Fast path: a byte no rule touches.
        if (o + 8 > out.length) out = this.#ensure(o + 8);
        out[o++] = b;
        isPrevSpace = false;
        pos++;
        continue;
      }
      prefix(pos);
      // Removes heading spaces of this piece when the previous one ended with a space.
      if (isPrevSpace) { while (s < e && src[s] === SPACE) s++; }
      if (s < e) {
        if (o + (e - s) * 3 + 8 > out.length) out = this.#ensure(o + (e - s) * 3 + 8);
        for (let i = s; i < e; i++) {
          const c = src[i];
          if (escape && c === SPACE) {
            out[o++] = 0xe2;
            out[o++] = 0x96;
            out[o++] = 0x81;
          } else out[o++] = c;
        }
        isPrevSpace = src[e - 1] === SPACE;
      }
      pos += consumed;
      if (!removeExtra) isPrevSpace = false;
    }

    if (removeExtra) o = trimTrailingSpace(out, o, escape);
    if (this.#suffix && spec.addDummyPrefix) {
      if (o + 4 > out.length) out = this.#ensure(o + 4);
      addWs();
    }
    return o;
  }
}
