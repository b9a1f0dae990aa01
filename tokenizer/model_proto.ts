/**
 * The SentencePiece `ModelProto` (sentencepiece_model.proto) as plain data, and its decoder.
 *
 * The decoder is hand-written on a small wire-format reader (`_protobuf.ts`) rather than built
 * with `protobufjs`: the schema is four small messages, a dependency-free reader keeps
 * `tokenizer/` importable by URL with `--no-config`, needs no generated code or `.proto` at run
 * time, and reports truncated or corrupt files with the byte offset and message involved.
 *
 * @module
 */
import { ProtobufError, ProtoReader, WIRE_FIXED32, WIRE_LEN, WIRE_VARINT } from "./_protobuf.ts";

/** `ModelProto.SentencePiece.Type`: what kind of piece a vocabulary entry is. */
export const PieceType = {
  /** An ordinary piece produced by segmentation. */
  NORMAL: 1,
  /** The unknown piece (`<unk>`). */
  UNKNOWN: 2,
  /** Control symbols (`<s>`, `</s>`, `<pad>`): never produced from text. */
  CONTROL: 3,
  /** User-defined symbols: always kept as one piece, never normalised. */
  USER_DEFINED: 4,
  /** Pieces kept in the vocabulary but never produced. */
  UNUSED: 5,
  /** Byte-fallback pieces `<0x00>` … `<0xFF>`. */
  BYTE: 6,
} as const;

/** One of the values of {@linkcode PieceType}. */
export type PieceTypeValue = typeof PieceType[keyof typeof PieceType];

/** `TrainerSpec.ModelType`. */
export const ModelType = {
  /** Unigram language model (Viterbi segmentation). */
  UNIGRAM: 1,
  /** Byte-pair encoding. */
  BPE: 2,
  /** Whitespace-delimited words. */
  WORD: 3,
  /** Single characters. */
  CHAR: 4,
} as const;

/** One of the values of {@linkcode ModelType}. */
export type ModelTypeValue = typeof ModelType[keyof typeof ModelType];

/** The fields of `TrainerSpec` that a model file carries (defaults as in the .proto). */
export interface TrainerSpec {
  /** Training input files. */
  input: string[];
  /** Input format (`text` or `tsv`). */
  inputFormat: string;
  /** Output prefix used at training time. */
  modelPrefix: string;
  /** Segmentation algorithm, see {@linkcode ModelType}. */
  modelType: ModelTypeValue;
  /** Requested vocabulary size. */
  vocabSize: number;
  /** Languages the model is meant for (informational). */
  acceptLanguage: string[];
  /** Number of self-test samples stored in the model. */
  selfTestSampleSize: number;
  /** Share of characters covered by the alphabet. */
  characterCoverage: number;
  /** Maximum number of training sentences (0 = all). */
  inputSentenceSize: number;
  /** Whether training sentences were sampled at random. */
  shuffleInputSentence: boolean;
  /** Size of the Unigram seed vocabulary. */
  seedSentencepieceSize: number;
  /** Unigram EM pruning factor. */
  shrinkingFactor: number;
  /** Maximum training sentence length in bytes. */
  maxSentenceLength: number;
  /** Training threads. */
  numThreads: number;
  /** Unigram EM sub-iterations. */
  numSubIterations: number;
  /** Maximum piece length in characters. */
  maxSentencepieceLength: number;
  /** Pieces never cross a Unicode script boundary. */
  splitByUnicodeScript: boolean;
  /** Pieces never mix digits and other characters. */
  splitByNumber: boolean;
  /** Pieces never contain an inner whitespace. */
  splitByWhitespace: boolean;
  /** `▁` ends words instead of starting them. */
  treatWhitespaceAsSuffix: boolean;
  /** Runs of whitespace may form pieces. */
  allowWhitespaceOnlyPieces: boolean;
  /** Every digit is its own piece. */
  splitDigits: boolean;
  /** Extra control symbols. */
  controlSymbols: string[];
  /** User-defined symbols (always one piece, never normalised). */
  userDefinedSymbols: string[];
  /** Characters always kept in the alphabet. */
  requiredChars: string;
  /** Unknown characters are encoded as `<0xXX>` byte pieces. */
  byteFallback: boolean;
  /** Whether the .vocab file lists scores. */
  vocabularyOutputPieceScore: boolean;
  /** Whether `vocabSize` was a hard limit. */
  hardVocabLimit: boolean;
  /** Word/char models: use every token as vocabulary. */
  useAllVocab: boolean;
  /** Id of `<unk>` requested at training time. */
  unkId: number;
  /** Id of `<s>` (-1: none). */
  bosId: number;
  /** Id of `</s>` (-1: none). */
  eosId: number;
  /** Id of `<pad>` (-1: none). */
  padId: number;
  /** Text of the unknown piece. */
  unkPiece: string;
  /** Text of the BOS piece. */
  bosPiece: string;
  /** Text of the EOS piece. */
  eosPiece: string;
  /** Text of the padding piece. */
  padPiece: string;
  /** What `<unk>` decodes to (default ` ⁇ `). */
  unkSurface: string;
  /** Training used 64-bit counters. */
  trainExtremelyLargeCorpus: boolean;
}

/** `NormalizerSpec` (also used for the optional denormalizer). */
export interface NormalizerSpec {
  /** Rule name: `nmt_nfkc`, `nfkc`, `nmt_nfkc_cf`, `nfkc_cf`, `identity`, or user-defined. */
  name: string;
  /** The compiled rule: 4-byte trie size, darts-clone double array, NUL-separated outputs. */
  precompiledCharsmap: Uint8Array;
  /** Prepend `▁` so the first word looks like the others. */
  addDummyPrefix: boolean;
  /** Drop leading, trailing and repeated whitespace. */
  removeExtraWhitespaces: boolean;
  /** Write spaces as `▁` (U+2581). */
  escapeWhitespaces: boolean;
  /** Rule file used at training time (informational). */
  normalizationRuleTsv: string;
}

/** One vocabulary entry. */
export interface ModelPiece {
  /** The piece text (`▁` marks a word boundary). */
  piece: string;
  /** The piece's raw UTF-8 bytes as stored in the file. */
  bytes: Uint8Array;
  /** Log probability (unigram) or merge priority (BPE), a float32. */
  score: number;
  /** Piece type, see {@linkcode PieceType}. */
  type: PieceTypeValue;
}

/** A decoded SentencePiece model file. */
export interface ModelProto {
  /** Vocabulary, in id order. */
  pieces: ModelPiece[];
  /** Training options. */
  trainerSpec: TrainerSpec;
  /** Normalisation options. */
  normalizerSpec: NormalizerSpec;
  /** Present only when the model was trained with a denormalization rule. */
  denormalizerSpec?: NormalizerSpec;
}

function defaultTrainerSpec(): TrainerSpec {
  return {
    input: [],
    inputFormat: "",
    modelPrefix: "",
    modelType: ModelType.UNIGRAM,
    vocabSize: 8000,
    acceptLanguage: [],
    selfTestSampleSize: 0,
    characterCoverage: 0.9995,
    inputSentenceSize: 0,
    shuffleInputSentence: true,
    seedSentencepieceSize: 1000000,
    shrinkingFactor: 0.75,
    maxSentenceLength: 4192,
    numThreads: 16,
    numSubIterations: 2,
    maxSentencepieceLength: 16,
    splitByUnicodeScript: true,
    splitByNumber: true,
    splitByWhitespace: true,
    treatWhitespaceAsSuffix: false,
    allowWhitespaceOnlyPieces: false,
    splitDigits: false,
    controlSymbols: [],
    userDefinedSymbols: [],
    requiredChars: "",
    byteFallback: false,
    vocabularyOutputPieceScore: true,
    hardVocabLimit: true,
    useAllVocab: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    unkPiece: "<unk>",
    bosPiece: "<s>",
    eosPiece: "</s>",
    padPiece: "<pad>",
    unkSurface: " \u2047 ",
    trainExtremelyLargeCorpus: false,
  };
}

function defaultNormalizerSpec(): NormalizerSpec {
  return {
    name: "",
    precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
    normalizationRuleTsv: "",
  };
}

type Kind = "string" | "strings" | "int32" | "uint" | "bool" | "float";
const TRAINER_FIELDS: Record<number, [keyof TrainerSpec, Kind]> = {
  1: ["input", "strings"],
  7: ["inputFormat", "string"],
  2: ["modelPrefix", "string"],
  3: ["modelType", "int32"],
  4: ["vocabSize", "int32"],
  5: ["acceptLanguage", "strings"],
  6: ["selfTestSampleSize", "int32"],
  10: ["characterCoverage", "float"],
  11: ["inputSentenceSize", "uint"],
  19: ["shuffleInputSentence", "bool"],
  14: ["seedSentencepieceSize", "int32"],
  15: ["shrinkingFactor", "float"],
  18: ["maxSentenceLength", "int32"],
  16: ["numThreads", "int32"],
  17: ["numSubIterations", "int32"],
  20: ["maxSentencepieceLength", "int32"],
  21: ["splitByUnicodeScript", "bool"],
  23: ["splitByNumber", "bool"],
  22: ["splitByWhitespace", "bool"],
  24: ["treatWhitespaceAsSuffix", "bool"],
  26: ["allowWhitespaceOnlyPieces", "bool"],
  25: ["splitDigits", "bool"],
  30: ["controlSymbols", "strings"],
  31: ["userDefinedSymbols", "strings"],
  36: ["requiredChars", "string"],
  35: ["byteFallback", "bool"],
  32: ["vocabularyOutputPieceScore", "bool"],
  33: ["hardVocabLimit", "bool"],
  34: ["useAllVocab", "bool"],
  40: ["unkId", "int32"],
  41: ["bosId", "int32"],
  42: ["eosId", "int32"],
  43: ["padId", "int32"],
  45: ["unkPiece", "string"],
  46: ["bosPiece", "string"],
  47: ["eosPiece", "string"],
  48: ["padPiece", "string"],
  44: ["unkSurface", "string"],
  49: ["trainExtremelyLargeCorpus", "bool"],
};

function readScalar(r: ProtoReader, tag: number, kind: Kind, name: string): unknown {
  switch (kind) {
    case "string":
    case "strings":
      r.expect(tag, WIRE_LEN, name);
      return r.readString();
    case "int32":
      r.expect(tag, WIRE_VARINT, name);
      return r.readInt32();
    case "uint":
      r.expect(tag, WIRE_VARINT, name);
      return r.readUint();
    case "bool":
      r.expect(tag, WIRE_VARINT, name);
      return r.readBool();
    case "float":
      r.expect(tag, WIRE_FIXED32, name);
      return r.readFloat();
  }
}

function parseTrainerSpec(buf: Uint8Array, start: number, end: number): TrainerSpec {
  const spec = defaultTrainerSpec() as unknown as Record<string, unknown>;
  const r = new ProtoReader(buf, start, end, "TrainerSpec");
  while (r.more()) {
    const tag = r.readTag();
    const known = TRAINER_FIELDS[tag >>> 3];
    if (!known) {
      r.skip(tag);
      continue;
    }
    const [name, kind] = known;
    const v = readScalar(r, tag, kind, name);
    if (kind === "strings") (spec[name] as string[]).push(v as string);
    else spec[name] = v;
  }
  return spec as unknown as TrainerSpec;
}

function parseNormalizerSpec(buf: Uint8Array, start: number, end: number): NormalizerSpec {
  const spec = defaultNormalizerSpec();
  const r = new ProtoReader(buf, start, end, "NormalizerSpec");
  while (r.more()) {
    const tag = r.readTag();
    switch (tag >>> 3) {
      case 1:
        r.expect(tag, WIRE_LEN, "name");
        spec.name = r.readString();
        break;
      case 2: {
        r.expect(tag, WIRE_LEN, "precompiled_charsmap");
        const [s, e] = r.readLen();
        spec.precompiledCharsmap = buf.slice(s, e);
        break;
      }
      case 3:
        r.expect(tag, WIRE_VARINT, "add_dummy_prefix");
        spec.addDummyPrefix = r.readBool();
        break;
      case 4:
        r.expect(tag, WIRE_VARINT, "remove_extra_whitespaces");
        spec.removeExtraWhitespaces = r.readBool();
        break;
      case 5:
        r.expect(tag, WIRE_VARINT, "escape_whitespaces");
        spec.escapeWhitespaces = r.readBool();
        break;
      case 6:
        r.expect(tag, WIRE_LEN, "normalization_rule_tsv");
        spec.normalizationRuleTsv = r.readString();
        break;
      default:
        r.skip(tag);
    }
  }
  return spec;
}

const FIELD_NAMES = [
  "pieces",
  "trainer_spec",
  "normalizer_spec",
  "self_test_data",
  "denormalizer_spec",
];

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

let floatView: DataView | null = null;
let floatBuf: Uint8Array | null = null;

/**
 * Decodes a short UTF-8 string; pure-ASCII pieces (most of them) skip `TextDecoder`.
 */
function decodePieceText(bytes: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii || bytes.length > 64) return decoder.decode(bytes);
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]);
  return out;
}

function parsePiece(buf: Uint8Array, start: number, end: number): ModelPiece {
  // Fast path for the layout SentencePiece writes: piece (tag 0x0a, one-byte length), score
  // (tag 0x15), then optionally type (tag 0x18, one-byte value), and nothing else.
  const n = buf[start + 1];
  if (buf[start] === 0x0a && n < 0x80 && start + 2 + n + 5 <= end && buf[start + 2 + n] === 0x15) {
    let p = start + 2 + n + 5;
    let type = 1;
    if (p + 2 === end && buf[p] === 0x18 && buf[p + 1] < 0x80) {
      type = buf[p + 1];
      p += 2;
    }
    if (p === end) {
      if (floatBuf !== buf) {
        floatView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
        floatBuf = buf;
      }
      const bytes = buf.subarray(start + 2, start + 2 + n);
      const score = floatView!.getFloat32(start + 3 + n, true);
      return { piece: decodePieceText(bytes), bytes, score, type: type as PieceTypeValue };
    }
  }
  return parsePieceGeneric(buf, start, end);
}

function parsePieceGeneric(buf: Uint8Array, start: number, end: number): ModelPiece {
  const r = new ProtoReader(buf, start, end, "SentencePiece");
  let bytes: Uint8Array | undefined;
  let score = 0;
  let type = 1;
  while (r.more()) {
    const tag = r.readTag();
    switch (tag >>> 3) {
      case 1: {
        r.expect(tag, WIRE_LEN, "piece");
        const [s, e] = r.readLen();
        bytes = buf.subarray(s, e);
        break;
      }
      case 2:
        r.expect(tag, WIRE_FIXED32, "score");
        score = r.readFloat();
        break;
      case 3:
        r.expect(tag, WIRE_VARINT, "type");
        type = r.readInt32();
        break;
      default:
        r.skip(tag);
    }
  }
  bytes ??= new Uint8Array(0);
  return { piece: decodePieceText(bytes), bytes, score, type: type as PieceTypeValue };
}

/**
 * Decodes the bytes of a SentencePiece `.model` file (a serialised `ModelProto`). Checks the wire
 * format only; the SentencePiece rules (one `<unk>`, no duplicates, …) are checked when a
 * {@linkcode SentencePieceProcessor} is built from it.
 *
 * @param bytes the file contents
 * @returns the decoded model
 * @throws {ProtobufError} on truncated or corrupt data
 * @example
 * ```ts
 * import { parseModelProto } from "./model_proto.ts";
 * const model = parseModelProto(Deno.readFileSync(new URL("./assets/t5_spiece.model", import.meta.url)));
 * console.log(model.pieces.length); // 32000
 * ```
 */
export function parseModelProto(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot parse a SentencePiece model as 'bytes' must be a Uint8Array: current value is ${typeof bytes}`,
    );
  }
  const pieces: ModelPiece[] = [];
  let trainerSpec = defaultTrainerSpec();
  let normalizerSpec = defaultNormalizerSpec();
  let denormalizerSpec: NormalizerSpec | undefined;
  const r = new ProtoReader(bytes, 0, bytes.length, "ModelProto");
  let unknownFields = 0;
  let specs = 0;
  try {
    while (r.more()) {
      const tag = r.readTag();
      const field = tag >>> 3;
      if (field >= 1 && field <= 5) {
        r.expect(tag, WIRE_LEN, FIELD_NAMES[field - 1]);
        const [s, e] = r.readLen();
        if (field === 1) pieces.push(parsePiece(bytes, s, e));
        else if (field === 2) trainerSpec = parseTrainerSpec(bytes, s, e);
        else if (field === 3) normalizerSpec = parseNormalizerSpec(bytes, s, e);
        else if (field === 5) denormalizerSpec = parseNormalizerSpec(bytes, s, e);
        if (field === 2 || field === 3) specs++;
      } else {
        unknownFields++;
        r.skip(tag);
      }
    }
  } catch (err) {
    // Garbage from the first bytes on: say what the file is not, then why.
    if (err instanceof ProtobufError && pieces.length === 0) {
      throw new ProtobufError(`not a SentencePiece model: ${err.message}`);
    }
    throw err;
  }
  if (pieces.length === 0) {
    throw new ProtobufError(
      unknownFields > 0
        ? "not a SentencePiece model: no vocabulary pieces, only fields a ModelProto does not have"
        : "not a SentencePiece model: the vocabulary is empty",
    );
  }
  if (specs === 0) {
    // Every model SentencePiece writes ends with its trainer and normalizer specs.
    throw new ProtobufError(
      `the file looks truncated: ${pieces.length} pieces but no trainer_spec or normalizer_spec`,
    );
  }
  return { pieces, trainerSpec, normalizerSpec, denormalizerSpec };
}
