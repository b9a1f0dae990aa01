/**
 * tokenizer/: SentencePiece for DreamBooth prompts, in TypeScript with no dependencies. Parses a
 * `.model` file, normalises and encodes text exactly as the reference library (Unigram Viterbi,
 * BPE, byte fallback, user-defined symbols), decodes ids, builds T5-style fixed-length inputs and
 * draws the paper's rare-token identifiers `[V]`.
 *
 * @example
 * ```ts
 * import { drawIdentifier, encodeFixedLength, loadDefaultVocabulary } from "./mod.ts";
 * const sp = await loadDefaultVocabulary();
 * const v = drawIdentifier(sp, { seed: 0 });
 * const { ids, mask } = encodeFixedLength(sp, `a ${v.text} dog on the beach`, { length: 16 });
 * console.log(ids.length, mask.length); // 16 16
 * ```
 *
 * @module
 */
export {
  loadSentencePiece,
  type ModelSource,
  type PieceTypeName,
  SentencePieceProcessor,
} from "./sentence_piece_processor.ts";
export { DEFAULT_VOCABULARY_URL, loadDefaultVocabulary } from "./default_vocabulary.ts";
export { Normalizer, type NormalizerOptions } from "./normalizer.ts";
export {
  type ModelPiece,
  type ModelProto,
  ModelType,
  type ModelTypeValue,
  type NormalizerSpec,
  parseModelProto,
  PieceType,
  type PieceTypeValue,
  type TrainerSpec,
} from "./model_proto.ts";
export { encodeFixedLength, type FixedLengthIds, type FixedLengthOptions } from "./fixed_length.ts";
export {
  drawIdentifier,
  type DrawIdentifierOptions,
  type Identifier,
  identifierCandidates,
  type IdentifierCandidatesOptions,
  isIdentifierPiece,
} from "./identifier.ts";
