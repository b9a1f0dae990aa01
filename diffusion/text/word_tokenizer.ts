/**
 * A trivial word-level tokenizer for tests and toy models: lower-cased whitespace-separated words,
 * id 0 = pad, 1 = EOS, 2 = unknown, then the given words in order.
 *
 * @module
 */
import type { EncodedText, TextTokenizer, TokenizerDescription } from "./text_tokenizer.ts";
import { positiveInt } from "../_validate.ts";

/** Word-level {@link TextTokenizer}. */
export class WordTokenizer implements TextTokenizer {
  /** The words, in id order (ids from 3). */
  readonly words: readonly string[];
  readonly #ids: Map<string, number>;

  /**
   * @param words The vocabulary (duplicates are ignored; matched lower-case).
   *
   * @example
   * ```ts
   * import { WordTokenizer } from "./word_tokenizer.ts";
   * const tok = new WordTokenizer(["a", "red", "dog"]);
   * console.log(tok.encodeFixed("a red cat", 5).ids); // Int32Array(5) [ 3, 4, 2, 1, 0 ]
   * ```
   */
  constructor(words: readonly string[]) {
    const uniq = [...new Set(words.map((w) => w.toLowerCase()))];
    this.words = Object.freeze(uniq);
    this.#ids = new Map(uniq.map((w, i) => [w, i + 3]));
  }

  /** Number of ids: 3 special ids plus the words. */
  get vocabSize(): number {
    return this.words.length + 3;
  }

  /**
   * Encodes `text` to exactly `length` ids.
   *
   * @param text Any text.
   * @param length The fixed length (≥ 1); the last real position holds EOS.
   * @returns `{ ids, mask }`.
   *
   * @example
   * ```ts
   * import { WordTokenizer } from "./word_tokenizer.ts";
   * console.log(new WordTokenizer(["dog"]).encodeFixed("dog", 3).mask); // Uint8Array(3) [ 1, 1, 0 ]
   * ```
   */
  encodeFixed(text: string, length: number): EncodedText {
    positiveInt("encode text", "length", length);
    const words = text.toLowerCase().split(/\s+/).filter((w) => w.length > 0);
    const ids = new Int32Array(length);
    const mask = new Uint8Array(length);
    const n = Math.min(words.length, length - 1);
    for (let i = 0; i < n; i++) {
      ids[i] = this.#ids.get(words[i]) ?? 2;
      mask[i] = 1;
    }
    ids[n] = 1;
    mask[n] = 1;
    return { ids, mask };
  }

  /**
   * @returns `{ kind: "words", words }`.
   *
   * @example
   * ```ts
   * import { WordTokenizer } from "./word_tokenizer.ts";
   * console.log(new WordTokenizer(["dog"]).describe()); // { kind: "words", words: [ "dog" ] }
   * ```
   */
  describe(): TokenizerDescription {
    return { kind: "words", words: [...this.words] };
  }
}
