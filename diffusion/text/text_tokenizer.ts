/**
 * The small interface the diffusion pipeline needs from a tokenizer, so that the real SentencePiece
 * tokenizer (tokenizer/) and the word-level test tokenizer ({@link WordTokenizer}) are interchangeable.
 *
 * @module
 */

/** Fixed-length token ids and their mask. */
export interface EncodedText {
  /** Token ids, EOS appended, padded with `0` to the requested length. */
  ids: Int32Array;
  /** 1 for real tokens (including EOS), 0 for padding. */
  mask: Uint8Array;
}

/** What the text encoder needs from a tokenizer. */
export interface TextTokenizer {
  /** Number of ids (the embedding table's size must be at least this). */
  readonly vocabSize: number;
  /** Encodes `text` to exactly `length` ids (truncating, EOS appended, padded with 0). */
  encodeFixed(text: string, length: number): EncodedText;
  /** A JSON-serialisable description from which {@link TextTokenizer} can be rebuilt (stored in checkpoints). */
  describe(): TokenizerDescription;
}

/** How to rebuild a tokenizer: `words` (a {@link WordTokenizer} and its word list) or `t5` (the real T5 vocabulary). */
export type TokenizerDescription =
  | { kind: "words"; words: string[] }
  | { kind: "t5" };
