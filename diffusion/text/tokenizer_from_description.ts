/**
 * Rebuilds the tokenizer a checkpoint names (see {@link TokenizerDescription}).
 *
 * @module
 */
import type { TextTokenizer, TokenizerDescription } from "./text_tokenizer.ts";
import { WordTokenizer } from "./word_tokenizer.ts";
import { loadT5Tokenizer } from "./t5_tokenizer.ts";

/**
 * Builds a tokenizer from its description: `words` → {@link WordTokenizer}; `t5` → the real T5
 * SentencePiece vocabulary from tokenizer/.
 *
 * @param description What {@link TextTokenizer.describe} returned.
 * @returns The tokenizer.
 *
 * @example
 * ```ts
 * import { tokenizerFromDescription } from "./tokenizer_from_description.ts";
 * const tok = await tokenizerFromDescription({ kind: "words", words: ["dog"] });
 * console.log(tok.vocabSize); // 4
 * ```
 */
export async function tokenizerFromDescription(
  description: TokenizerDescription,
): Promise<TextTokenizer> {
  if (description?.kind === "words" && Array.isArray(description.words)) {
    return new WordTokenizer(description.words);
  }
  if (description?.kind === "t5") return await loadT5Tokenizer();
  throw new RangeError(
    `Cannot build a tokenizer as 'description' must be { kind: "words", words } or { kind: "t5" }: current value is ${
      JSON.stringify(description)
    }`,
  );
}
