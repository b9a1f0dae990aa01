/**
 * The default vocabulary: the T5 SentencePiece model shipped in `tokenizer/assets/`.
 *
 * @module
 */
import { SentencePieceProcessor } from "./sentence_piece_processor.ts";

/** Location of the shipped T5 vocabulary, relative to this module (works for file: and http:). */
export const DEFAULT_VOCABULARY_URL: URL = new URL("./assets/t5_spiece.model", import.meta.url);

let cached: Promise<SentencePieceProcessor> | null = null;

/**
 * Loads the T5 vocabulary (32,000 Unigram pieces, `nmt_nfkc` normalisation; pad 0, eos 1, unk 2)
 * shipped at `tokenizer/assets/t5_spiece.model`. The file is found relative to this module, so
 * this works from a checkout and when the module is imported by URL. The processor is loaded once
 * and shared by later calls (it is immutable).
 *
 * @returns the processor
 * @example
 * ```ts
 * import { loadDefaultVocabulary } from "./mod.ts";
 * const sp = await loadDefaultVocabulary();
 * console.log(sp.vocabSize, sp.modelType); // 32000 "unigram"
 * ```
 */
export function loadDefaultVocabulary(): Promise<SentencePieceProcessor> {
  cached ??= SentencePieceProcessor.load(DEFAULT_VOCABULARY_URL).catch((err) => {
    cached = null;
    throw err;
  });
  return cached;
}
