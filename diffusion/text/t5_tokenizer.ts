/**
 * The real T5 SentencePiece vocabulary (tokenizer/) behind the {@link TextTokenizer} interface.
 *
 * @module
 */
import { encodeFixedLength, loadDefaultVocabulary } from "../../tokenizer/mod.ts";
import type { EncodedText, TextTokenizer, TokenizerDescription } from "./text_tokenizer.ts";

/**
 * Loads tokenizer/'s shipped T5 vocabulary (32000 pieces; pad 0, EOS 1) and adapts it: fixed-length
 * encoding appends EOS and pads with 0. `vocabSize` is 32100, T5's pieces plus its 100 sentinel ids
 * (HF T5 checkpoints have 32128 embedding rows), so any T5 encoder's table is large enough.
 *
 * @returns A {@link TextTokenizer} describing itself as `{ kind: "t5" }`.
 *
 * @example
 * ```ts
 * import { loadT5Tokenizer } from "./t5_tokenizer.ts";
 * const tok = await loadT5Tokenizer();
 * console.log(tok.encodeFixed("a dog", 8).mask); // Uint8Array(8) [ 1, 1, 1, 0, 0, 0, 0, 0 ]
 * ```
 */
export async function loadT5Tokenizer(): Promise<TextTokenizer> {
  const sp = await loadDefaultVocabulary();
  return {
    vocabSize: sp.vocabSize + 100,
    encodeFixed(text: string, length: number): EncodedText {
      const { ids, mask } = encodeFixedLength(sp, text, { length });
      return { ids, mask };
    },
    describe(): TokenizerDescription {
      return { kind: "t5" };
    },
  };
}
