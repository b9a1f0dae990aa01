/**
 * The real T5 SentencePiece vocabulary (tokenizer/) behind the {@link TextTokenizer} interface.
 *
 * @module
 */
import type { EncodedText, TextTokenizer, TokenizerDescription } from "./text_tokenizer.ts";

/**
 * Loads tokenizer/'s default T5 vocabulary (32000 pieces + T5's 100 sentinel ids: vocabSize 32100)
 * and adapts it. Fixed-length encoding appends EOS (id 1) and pads with 0.
 *
 * @returns A {@link TextTokenizer} describing itself as `{ kind: "t5" }`.
 *
 * @example
 * ```ts ignore
 * import { loadT5Tokenizer } from "./t5_tokenizer.ts";
 * const tok = await loadT5Tokenizer();
 * console.log(tok.encodeFixed("a dog", 8).ids.length); // 8
 * ```
 */
export async function loadT5Tokenizer(): Promise<TextTokenizer> {
  const mod = await import("../tokenizer/mod.ts") as Record<string, unknown>;
  const load = mod.loadDefaultVocabulary as (() => Promise<unknown>) | undefined;
  if (typeof load !== "function") {
    throw new Error(
      "Cannot load the T5 tokenizer as tokenizer/mod.ts has no 'loadDefaultVocabulary'",
    );
  }
  const sp = await load() as {
    encodeIds?: (text: string) => number[] | Int32Array;
    encode?: (text: string) => number[] | Int32Array;
    vocabSize?: number;
    getPieceSize?: () => number;
    pieceSize?: number;
  };
  const encodeFixedLength = mod.encodeFixedLength as
    | ((sp: unknown, text: string, options: { length: number }) => EncodedText)
    | undefined;
  const size = typeof sp.getPieceSize === "function"
    ? sp.getPieceSize()
    : (sp.vocabSize ?? sp.pieceSize ?? 32000);
  return {
    vocabSize: Math.max(size, 32000) + 100, // T5 adds 100 sentinel ids after the pieces
    encodeFixed(text: string, length: number): EncodedText {
      if (encodeFixedLength) return encodeFixedLength(sp, text, { length });
      const enc = sp.encodeIds ?? sp.encode;
      if (!enc) throw new Error("Cannot encode text as the T5 tokenizer has no encode method");
      const raw = Array.from(enc.call(sp, text)).slice(0, length - 1);
      const ids = new Int32Array(length);
      const mask = new Uint8Array(length);
      ids.set(raw);
      ids[raw.length] = 1;
      mask.fill(1, 0, raw.length + 1);
      return { ids, mask };
    },
    describe(): TokenizerDescription {
      return { kind: "t5" };
    },
  };
}
