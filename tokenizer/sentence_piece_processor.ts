/**
 * {@linkcode SentencePieceProcessor}: load a SentencePiece `.model`, encode text to ids or pieces
 * and decode ids back to text, with the same results as the reference C++ library
 * (`spm_encode`/`spm_decode`, sentencepiece 0.1.97).
 *
 * @module
 */
import { ByteTrie } from "./_byte_trie.ts";
import { BpeModel } from "./_bpe.ts";
import { ProtobufError } from "./_protobuf.ts";
import { Segments, type Vocab } from "./_segments.ts";
import { UnigramModel } from "./_unigram.ts";
import { utf8Decoder, utf8Encoder, validCharLength } from "./_utf8.ts";
import { CharModel, WordModel } from "./_word_char.ts";
import {
  type ModelProto,
  ModelType,
  type NormalizerSpec,
  parseModelProto,
  PieceType,
  type TrainerSpec,
} from "./model_proto.ts";
import { Normalizer } from "./normalizer.ts";

/** Name of a piece type, as returned by {@linkcode SentencePieceProcessor.pieceType}. */
export type PieceTypeName = "normal" | "unknown" | "control" | "user_defined" | "unused" | "byte";

const TYPE_NAMES: Record<number, PieceTypeName> = {
  1: "normal",
  2: "unknown",
  3: "control",
  4: "user_defined",
  5: "unused",
  6: "byte",
};

const MODEL_TYPE_NAMES: Record<number, "unigram" | "bpe" | "word" | "char"> = {
  1: "unigram",
  2: "bpe",
  3: "word",
  4: "char",
};

const SPACE_SYMBOL = "\u2581";
const BYTE_PIECE = /^<0x([0-9A-F]{2})>$/;

/** Where a model can be loaded from: a file path, a `file:`/`http(s):` URL, or the bytes. */
export type ModelSource = string | URL | Uint8Array;

interface SegmentModel {
  encode(norm: Uint8Array, size: number, out: Segments): void;
}

/** The segmentation model of the trainer spec's model type (Unigram when it names none). */
function createSegmentModel(vocab: Vocab, ts: TrainerSpec): SegmentModel {
  switch (ts.modelType) {
    case ModelType.BPE:
      return new BpeModel(vocab);
    case ModelType.WORD:
      return new WordModel(vocab, ts.treatWhitespaceAsSuffix, ts.allowWhitespaceOnlyPieces);
    case ModelType.CHAR:
      return new CharModel(vocab);
    default:
      return new UnigramModel(vocab);
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  if (typeof v === "object") return `a ${(v as object).constructor?.name ?? "object"}`;
  return String(v);
}

/**
 * A loaded SentencePiece model: normaliser, vocabulary and segmentation algorithm (Unigram, BPE,
 * word or char), with byte fallback, user-defined symbols and unknown handling as in the
 * reference library.
 *
 * @example
 * ```ts
 * import { SentencePieceProcessor } from "./mod.ts";
 * const sp = await SentencePieceProcessor.load(new URL("./assets/t5_spiece.model", import.meta.url));
 * const ids = sp.encode("a photo of a sks dog");
 * console.log(sp.encodeAsPieces("a photo of a sks dog")); // ["▁", "a", "▁photo", "▁of", "▁", "a", "▁", "s", "k", "s", "▁dog"]
 * console.log(sp.decode(ids)); // "a photo of a sks dog"
 * console.log(sp.vocabSize, sp.padId, sp.eosId, sp.unkId, sp.bosId); // 32000 0 1 2 -1
 * ```
 */
export class SentencePieceProcessor {
  /** The model file's name (path or URL) or `<bytes>`; used in error messages. */
  readonly name: string;
  /** The decoded model file. */
  readonly model: ModelProto;
  /** Training options stored in the model (model type, byte fallback, special ids, …). */
  readonly trainerSpec: TrainerSpec;
  /** Normalisation options stored in the model (rule name, charsmap, whitespace handling). */
  readonly normalizerSpec: NormalizerSpec;
  /** The normaliser built from {@linkcode normalizerSpec}. */
  readonly normalizer: Normalizer;
  /** `unigram`, `bpe`, `word` or `char`. */
  readonly modelType: "unigram" | "bpe" | "word" | "char";
  /** Id of `<unk>`. */
  readonly unkId: number;
  /** Id of `<s>`, or -1 when the model has none. */
  readonly bosId: number;
  /** Id of `</s>`, or -1 when the model has none. */
  readonly eosId: number;
  /** Id of `<pad>`, or -1 when the model has none. */
  readonly padId: number;

  readonly #pieces: string[];
  readonly #types: Uint8Array;
  readonly #scores: Float32Array;
  readonly #vocab: Vocab;
  readonly #reserved: ByteTrie;
  readonly #ordinary: ByteTrie;
  readonly #unk: number;
  /** `PieceToId(IdToPiece(id))`: differs from `id` only when a reserved piece shadows it. */
  readonly #canonical: Int32Array;
  /** Byte value of each BYTE piece, or -1. */
  readonly #byteValue: Int16Array;
  readonly #seg: SegmentModel;
  readonly #byteFallback: boolean;
  readonly #byteIds = new Int32Array(256).fill(-1);
  readonly #denormalizer: Normalizer | null;
  readonly #segments = new Segments();
  #inBuf = new Uint8Array(1024);

  /**
   * Builds a processor from a decoded model, checking it as SentencePiece does.
   *
   * @param model the decoded `ModelProto`
   * @param name file name for error messages
   * @throws {Error} when the model breaks a SentencePiece rule (duplicate or empty piece, no or
   *   several `<unk>`, byte pieces without byte fallback, unknown model type, broken charsmap)
   */
  constructor(model: ModelProto, name = "<bytes>") {
    this.name = name;
    this.model = model;
    this.trainerSpec = model.trainerSpec;
    this.normalizerSpec = model.normalizerSpec;
    const fail = (problem: string): never => {
      throw new Error(`Cannot load SentencePiece model '${name}': ${problem}`);
    };
    const ts = model.trainerSpec;
    const typeName = MODEL_TYPE_NAMES[ts.modelType];
    if (typeName === undefined) fail(`unknown model type ${ts.modelType}`);
    this.modelType = typeName;
    const n = model.pieces.length;
    this.#pieces = new Array(n);
    this.#types = new Uint8Array(n);
    this.#scores = new Float32Array(n);
    let totalBytes = 0;
    for (const p of model.pieces) totalBytes += p.bytes.length;
    const pieces = new ByteTrie(totalBytes);
    const reserved = new ByteTrie(1024);
    const userSymbols: Uint8Array[] = [];
    let unkId = -1;
    const byteFound = new Uint8Array(256);
    for (let i = 0; i < n; i++) {
      const p = model.pieces[i];
      if (TYPE_NAMES[p.type] === undefined) fail(`piece ${i} has unknown type ${p.type}`);
      if (p.bytes.length === 0) fail(`piece ${i} is empty (a piece must not be empty)`);
      if (p.bytes.includes(0)) fail(`piece ${i} contains a NUL character`);
      this.#pieces[i] = p.piece;
      this.#types[i] = p.type;
      this.#scores[i] = p.score;
      const normal = p.type === PieceType.NORMAL || p.type === PieceType.USER_DEFINED ||
        p.type === PieceType.UNUSED;
      if (!(normal ? pieces : reserved).insert(p.bytes, i)) {
        fail(`piece ${i} ${JSON.stringify(p.piece)} is already defined`);
      }
      if (p.type === PieceType.USER_DEFINED) userSymbols.push(p.bytes);
      if (p.type === PieceType.UNKNOWN) {
        if (unkId >= 0) fail(`piece ${i}: <unk> is already defined (as piece ${unkId})`);
        unkId = i;
      }
      if (p.type === PieceType.BYTE) {
        if (!ts.byteFallback) {
          fail(`byte piece ${p.piece} is found although 'byte_fallback' is false`);
        }
        const m = BYTE_PIECE.exec(p.piece);
        if (m === null) fail(`byte piece ${JSON.stringify(p.piece)} is invalid`);
        byteFound[parseInt(m![1], 16)] = 1;
      }
    }
    this.#byteValue = new Int16Array(n).fill(-1);
    this.#canonical = new Int32Array(n);
    for (let i = 0; i < n; i++) this.#canonical[i] = i;
    for (let i = 0; i < n; i++) {
      const t = this.#types[i];
      if (t === PieceType.CONTROL || t === PieceType.UNKNOWN || t === PieceType.BYTE) {
        // Reserved pieces take precedence over ordinary ones with the same text.
        const shadowed = pieces.get(model.pieces[i].bytes, 0, model.pieces[i].bytes.length);
        if (shadowed >= 0) this.#canonical[shadowed] = i;
        const m = BYTE_PIECE.exec(this.#pieces[i]);
        if (m !== null) this.#byteValue[i] = parseInt(m[1], 16);
      }
    }
    if (unkId < 0) fail("<unk> is not defined (no piece of type UNKNOWN)");
    this.#reserved = reserved;
    this.#ordinary = pieces;
    this.#unk = unkId;
    this.#byteFallback = ts.byteFallback;
    if (ts.byteFallback) {
      if (byteFound.includes(0)) {
        fail("there are not 256 byte pieces although 'byte_fallback' is true");
      }
      for (let b = 0; b < 256; b++) {
        this.#byteIds[b] = this.pieceToId(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
      }
    }
    const userSymbolText = userSymbols.map((u) => utf8Decoder.decode(u));
    let userDefined: ByteTrie | null = null;
    if (userSymbols.length > 0) {
      userDefined = new ByteTrie(userSymbols.reduce((a, b) => a + b.length, 0));
      for (const u of userSymbols) userDefined.insert(u, 1);
    }
    this.#vocab = {
      types: this.#types,
      scores: this.#scores,
      pieces,
      reserved,
      userDefined,
      unkId,
    };
    const buildNormalizer = (spec: NormalizerSpec, options = {}): Normalizer => {
      try {
        return new Normalizer(spec, options);
      } catch (err) {
        return fail((err as Error).message);
      }
    };
    this.normalizer = buildNormalizer(model.normalizerSpec, {
      treatWhitespaceAsSuffix: ts.treatWhitespaceAsSuffix,
      userDefinedSymbols: userSymbolText,
    });
    this.#denormalizer =
      model.denormalizerSpec && model.denormalizerSpec.precompiledCharsmap.length > 0
        ? buildNormalizer(model.denormalizerSpec)
        : null;
    this.#seg = createSegmentModel(this.#vocab, ts);
    const special = (piece: string, type: number) => {
      const id = this.pieceToId(piece);
      return this.#types[id] === type ? id : -1;
    };
    this.unkId = special(ts.unkPiece || "<unk>", PieceType.UNKNOWN);
    this.bosId = special(ts.bosPiece || "<s>", PieceType.CONTROL);
    this.eosId = special(ts.eosPiece || "</s>", PieceType.CONTROL);
    this.padId = special(ts.padPiece || "<pad>", PieceType.CONTROL);
  }

  /**
   * Loads a model from a file path, a `file:` or `http(s):` URL (string or {@linkcode URL}), or
   * the file's bytes.
   *
   * @param source where the `.model` file is
   * @returns the processor
   * @throws {TypeError} when `source` is of the wrong type
   * @throws {Error} naming the file when it is missing, unreadable, truncated, corrupt or not a
   *   SentencePiece model
   * @example
   * ```ts
   * import { SentencePieceProcessor } from "./mod.ts";
   * const sp = await SentencePieceProcessor.load(new URL("./assets/t5_spiece.model", import.meta.url));
   * console.log(sp.modelType, sp.vocabSize); // "unigram" 32000
   * ```
   */
  static async load(source: ModelSource): Promise<SentencePieceProcessor> {
    if (source instanceof Uint8Array) return SentencePieceProcessor.fromBytes(source);
    let url: URL | null = null;
    let name: string;
    if (source instanceof URL) {
      url = source;
      name = source.href;
    } else if (typeof source === "string") {
      if (source.length === 0) {
        throw new TypeError("Cannot load SentencePiece model as 'source' is an empty string");
      }
      if (/^(https?|file):/i.test(source)) url = new URL(source);
      name = source;
    } else {
      throw new TypeError(
        `Cannot load SentencePiece model as 'source' must be a path, URL or Uint8Array: current value is ${
          describe(source)
        }`,
      );
    }
    const bytes = await readSource(url ?? name, name);
    return SentencePieceProcessor.fromBytes(bytes, name);
  }

  /**
   * Builds a processor from the bytes of a `.model` file.
   *
   * @param bytes the file contents
   * @param name a name for error messages (default `<bytes>`)
   * @returns the processor
   * @throws {TypeError} when `bytes` is not a Uint8Array
   * @throws {Error} when the bytes are not a valid SentencePiece model
   * @example
   * ```ts
   * import { SentencePieceProcessor } from "./mod.ts";
   * const bytes = Deno.readFileSync(new URL("./assets/t5_spiece.model", import.meta.url));
   * console.log(SentencePieceProcessor.fromBytes(bytes, "t5").encode("Hello")); // [8774]
   * ```
   */
  static fromBytes(bytes: Uint8Array, name = "<bytes>"): SentencePieceProcessor {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot load SentencePiece model as 'bytes' must be a Uint8Array: current value is ${
          describe(bytes)
        }`,
      );
    }
    if (bytes.length === 0) {
      throw new Error(`Cannot load SentencePiece model '${name}': the file is empty`);
    }
    let model: ModelProto;
    try {
      model = parseModelProto(bytes);
    } catch (err) {
      if (err instanceof ProtobufError) {
        const problem = /^(not a SentencePiece model|the file looks truncated)/.test(err.message)
          ? err.message
          : `truncated or corrupt protobuf: ${err.message}`;
        throw new Error(`Cannot load SentencePiece model '${name}': ${problem}`, { cause: err });
      }
      throw err;
    }
    return new SentencePieceProcessor(model, name);
  }

  /** Number of pieces in the vocabulary. */
  get vocabSize(): number {
    return this.#pieces.length;
  }

  #checkId(id: number, what: string): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.#pieces.length) {
      throw new RangeError(
        `Cannot ${what} as 'id' must be an integer in [0, ${this.#pieces.length}): current value is ${
          describe(id)
        }`,
      );
    }
  }

  /**
   * The text of a piece.
   *
   * @param id a piece id
   * @returns the piece text (e.g. `▁dog`)
   * @throws {RangeError} when the id is out of range
   * @example
   * ```ts
   * import { loadDefaultVocabulary } from "./mod.ts";
   * console.log((await loadDefaultVocabulary()).idToPiece(1782)); // "▁dog"
   * ```
   */
  idToPiece(id: number): string {
    this.#checkId(id, "look up piece");
    return this.#pieces[id];
  }

  /**
   * The id of a piece (reserved pieces first, as in the reference).
   *
   * @param piece a piece text
   * @returns its id, or {@linkcode unkId} when it is not in the vocabulary
   * @example
   * ```ts
   * import { loadDefaultVocabulary } from "./mod.ts";
   * const sp = await loadDefaultVocabulary();
   * console.log(sp.pieceToId("▁dog"), sp.pieceToId("no such piece") === sp.unkId); // 1782 true
   * ```
   */
  pieceToId(piece: string): number {
    if (typeof piece !== "string") {
      throw new TypeError(
        `Cannot look up piece id as 'piece' must be a string: current value is ${describe(piece)}`,
      );
    }
    const bytes = utf8Encoder.encode(piece);
    const r = this.#reserved.get(bytes, 0, bytes.length);
    if (r >= 0) return r;
    const p = this.#ordinary.get(bytes, 0, bytes.length);
    return p >= 0 ? p : this.#unk;
  }

  /**
   * The score stored for a piece.
   *
   * @param id a piece id
   * @returns the piece's score (a float32: log probability for Unigram, merge rank for BPE)
   * @example
   * ```ts
   * import { loadDefaultVocabulary } from "./mod.ts";
   * console.log((await loadDefaultVocabulary()).score(3) < 0); // true
   * ```
   */
  score(id: number): number {
    this.#checkId(id, "look up score");
    return this.#scores[id];
  }

  /**
   * The type of a piece.
   *
   * @param id a piece id
   * @returns the piece's type
   * @example
   * ```ts
   * import { loadDefaultVocabulary } from "./mod.ts";
   * const sp = await loadDefaultVocabulary();
   * console.log(sp.pieceType(0), sp.pieceType(2), sp.pieceType(100)); // "control" "unknown" "normal"
   * ```
   */
  pieceType(id: number): PieceTypeName {
    this.#checkId(id, "look up piece type");
    return TYPE_NAMES[this.#types[id]];
  }

  /**
   * Whether a piece is one of the control symbols (`<s>`, `</s>`, `<pad>`, …).
   *
   * @param id a piece id
   * @returns true for control symbols (`<s>`, `</s>`, `<pad>`, …)
   * @example
   * ```ts
   * import { loadDefaultVocabulary } from "./mod.ts";
   * const sp = await loadDefaultVocabulary();
   * console.log(sp.isControl(1)); // true
   * ```
   */
  isControl(id: number): boolean {
    return this.pieceType(id) === "control";
  }

  /**
   * Whether a piece is one of the `<unk>`.
   *
   * @param id a piece id
   * @returns true for `<unk>`
   * @example
   * ```ts
   * import { loadDefaultVocabulary } from "./mod.ts";
   * const sp = await loadDefaultVocabulary();
   * console.log(sp.isUnknown(2)); // true
   * ```
   */
  isUnknown(id: number): boolean {
    return this.pieceType(id) === "unknown";
  }

  /**
   * Whether a piece is one of the byte-fallback pieces `<0xXX>`.
   *
   * @param id a piece id
   * @returns true for byte-fallback pieces `<0xXX>`
   * @example
   * ```ts
   * import { loadDefaultVocabulary } from "./mod.ts";
   * const sp = await loadDefaultVocabulary();
   * console.log(sp.isByte(2) === false); // true
   * ```
   */
  isByte(id: number): boolean {
    return this.pieceType(id) === "byte";
  }

  #toBytes(text: string | Uint8Array): [Uint8Array, number] {
    if (text instanceof Uint8Array) return [text, text.length];
    if (typeof text !== "string") {
      throw new TypeError(
        `Cannot encode as 'text' must be a string or UTF-8 bytes: current value is ${
          describe(text)
        }`,
      );
    }
    const need = text.length * 3;
    if (need > this.#inBuf.length) {
      this.#inBuf = new Uint8Array(Math.max(need, this.#inBuf.length * 2));
    }
    return [this.#inBuf, utf8Encoder.encodeInto(text, this.#inBuf).written];
  }

  /** Normalises and segments `text`; the result is in `#segments` over `normalizer.output`. */
  #segment(text: string | Uint8Array): Uint8Array {
    const [bytes, n] = this.#toBytes(text);
    const size = this.normalizer.normalizeBytes(bytes, n);
    const norm = this.normalizer.output;
    this.#seg.encode(norm, size, this.#segments);
    return norm;
  }

  /**
   * Encodes text to piece ids, exactly as `spm_encode --output_format=id`.
   *
   * @param text the text, or its UTF-8 bytes (malformed bytes then count as U+FFFD one byte at a
   *   time, as in the reference; lone surrogates in a string become U+FFFD, as `TextEncoder` does)
   * @returns the ids
   * @throws {TypeError} when `text` is neither a string nor a Uint8Array
   * @example
   * ```ts
   * import { loadDefaultVocabulary } from "./mod.ts";
   * const sp = await loadDefaultVocabulary();
   * console.log(sp.encode("a dog on the beach")); // [3, 9, 1782, 30, 8, 2608]
   * ```
   */
  encode(text: string | Uint8Array): number[] {
    const norm = this.#segment(text);
    const seg = this.#segments;
    const ids: number[] = [];
    const types = this.#types;
    const unkId = this.#vocab.unkId;
    let prevUnk = false;
    for (let i = 0; i < seg.n; i++) {
      const id = seg.id[i];
      const isUnk = id === unkId;
      if (types[id] === PieceType.CONTROL) ids.push(id);
      else if (isUnk && this.#byteFallback) {
        for (let k = seg.start[i]; k < seg.end[i]; k++) ids.push(this.#byteIds[norm[k]]);
      } else if (!(prevUnk && isUnk)) ids.push(id);
      prevUnk = isUnk;
    }
    return ids;
  }

  /**
   * Encodes text to pieces, exactly as `spm_encode --output_format=piece`. Unknown text appears
   * as its normalised surface (consecutive unknown characters merged into one piece); with byte
   * fallback it appears as `<0xXX>` byte pieces.
   *
   * @param text the text, or its UTF-8 bytes
   * @returns the pieces
   * @throws {TypeError} when `text` is neither a string nor a Uint8Array
   * @example
   * ```ts
   * import { loadDefaultVocabulary } from "./mod.ts";
   * const sp = await loadDefaultVocabulary();
   * console.log(sp.encodeAsPieces("Ｈｅｌｌｏ, world")); // ["▁Hello", ",", "▁world"]
   * ```
   */
  encodeAsPieces(text: string | Uint8Array): string[] {
    const norm = this.#segment(text);
    const seg = this.#segments;
    const pieces: string[] = [];
    const types = this.#types;
    const unkId = this.#vocab.unkId;
    let prevUnk = false;
    for (let i = 0; i < seg.n; i++) {
      const id = seg.id[i];
      const isUnk = id === unkId;
      if (types[id] === PieceType.CONTROL) pieces.push(this.#pieces[id]);
      else if (isUnk && this.#byteFallback) {
        for (let k = seg.start[i]; k < seg.end[i]; k++) {
          pieces.push(this.#pieces[this.#byteIds[norm[k]]]);
        }
      } else {
        const surface = isUnk
          ? utf8Decoder.decode(norm.subarray(seg.start[i], seg.end[i]))
          : this.#pieces[id];
        if (prevUnk && isUnk) pieces[pieces.length - 1] += surface;
        else pieces.push(surface);
      }
      prevUnk = isUnk;
    }
    return pieces;
  }

  /**
   * Decodes ids to text, exactly as `spm_decode --input_format=id`: control symbols vanish,
   * `<unk>` becomes the model's unk surface (` ⁇ `), runs of byte pieces are decoded as UTF-8
   * (each malformed byte becomes U+FFFD), `▁` becomes a space and the leading one is dropped.
   *
   * @param ids piece ids (an array or typed array)
   * @returns the text
   * @throws {RangeError} when an id is not an integer in `[0, vocabSize)`
   * @example
   * ```ts
   * import { loadDefaultVocabulary } from "./mod.ts";
   * const sp = await loadDefaultVocabulary();
   * console.log(sp.decode([3, 9, 1782, 30, 8, 2608, 1])); // "a dog on the beach"
   * ```
   */
  decode(ids: ArrayLike<number>): string {
    if (ids === null || typeof ids !== "object" || typeof ids.length !== "number") {
      throw new TypeError(
        `Cannot decode as 'ids' must be an array of piece ids: current value is ${describe(ids)}`,
      );
    }
    const canonical = new Array<number>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.#pieces.length) {
        throw new RangeError(
          `Cannot decode as 'ids[${i}]' must be an integer in [0, ${this.#pieces.length}): current value is ${
            describe(id)
          }`,
        );
      }
      canonical[i] = this.#canonical[id];
    }
    return this.#decode(canonical, null);
  }

  /**
   * Decodes pieces to text (see {@linkcode decode}); pieces are looked up with
   * {@linkcode pieceToId}, so unknown strings decode as themselves.
   *
   * @param pieces piece strings
   * @returns the text
   * @example
   * ```ts
   * import { loadDefaultVocabulary } from "./mod.ts";
   * const sp = await loadDefaultVocabulary();
   * console.log(sp.decodePieces(["▁Hello", ",", "▁world"])); // "Hello, world"
   * ```
   */
  decodePieces(pieces: readonly string[]): string {
    if (!Array.isArray(pieces)) {
      throw new TypeError(
        `Cannot decode as 'pieces' must be an array of strings: current value is ${
          describe(pieces)
        }`,
      );
    }
    return this.#decode(pieces.map((p) => this.pieceToId(p)), pieces);
  }

  /** `SentencePieceProcessor::Decode` on ids (`pieces`: the given strings, or null for ids). */
  #decode(ids: readonly number[], pieces: readonly string[] | null): string {
    const types = this.#types;
    const unkSurface = this.trainerSpec.unkSurface;
    const parts: string[] = [];
    let textEmpty = true;
    const emit = (s: string) => {
      if (s.length > 0) {
        parts.push(s);
        textEmpty = false;
      }
    };
    let byteStart = 0;
    const flushBytes = (begin: number, end: number) => {
      if (begin >= end) return;
      const bytes = new Uint8Array(end - begin);
      for (let i = begin; i < end; i++) {
        bytes[i - begin] = this.#byteValue[ids[i]];
      }
      let offset = 0;
      while (offset < bytes.length) {
        const len = validCharLength(bytes, offset, bytes.length);
        if (len < 0) {
          emit("\ufffd");
          offset += 1;
        } else {
          emit(utf8Decoder.decode(bytes.subarray(offset, offset + len)));
          offset += len;
        }
      }
    };
    // A leading `▁` is dropped from the first piece (the dummy prefix). When extra whitespace is
    // not removed, only one is dropped; otherwise every `▁` piece before the first text is.
    const { addDummyPrefix, removeExtraWhitespaces } = this.normalizerSpec;
    let isBosWs = true;
    let bosWsSeen = false;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const type = types[id];
      if (type === PieceType.BYTE) continue;
      flushBytes(byteStart, i);
      byteStart = i + 1;
      if (bosWsSeen || !textEmpty) isBosWs = false;
      bosWsSeen = false;
      if (type === PieceType.CONTROL) continue;
      let piece = pieces === null ? this.#pieces[id] : pieces[i];
      if (type === PieceType.UNKNOWN) {
        emit(this.#pieces[id] === piece ? unkSurface : piece);
        continue;
      }
      if (isBosWs && (addDummyPrefix || removeExtraWhitespaces)) {
        if (piece.startsWith(SPACE_SYMBOL)) {
          piece = piece.slice(1);
          bosWsSeen = !removeExtraWhitespaces;
        }
      }
      emit(piece.replaceAll(SPACE_SYMBOL, " "));
    }
    flushBytes(byteStart, ids.length);
    const text = parts.join("");
    return this.#denormalizer ? this.#denormalizer.normalize(text) : text;
  }
}

async function readSource(source: string | URL, name: string): Promise<Uint8Array> {
  const fail = (problem: string, cause?: unknown): never => {
    throw new Error(`Cannot load SentencePiece model '${name}': ${problem}`, { cause });
  };
  if (source instanceof URL && source.protocol !== "file:") {
    if (source.protocol !== "http:" && source.protocol !== "https:") {
      fail(`unsupported URL scheme '${source.protocol}' (use a path, file:, http: or https:)`);
    }
    let res: Response;
    try {
      res = await fetch(source);
    } catch (err) {
      return fail(`fetch failed: ${(err as Error).message}`, err);
    }
    if (!res.ok) {
      await res.body?.cancel();
      fail(`HTTP ${res.status} ${res.statusText}`);
    }
    return new Uint8Array(await res.arrayBuffer());
  }
  // deno-lint-ignore no-explicit-any
  const deno = (globalThis as any).Deno;
  try {
    if (deno?.readFile) return await deno.readFile(source);
    const fs = await import("node:fs/promises");
    return new Uint8Array(await fs.readFile(source));
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.name === "NotFound" || e.code === "ENOENT") return fail("file not found", err);
    if (e.name === "PermissionDenied" || e.code === "EACCES") {
      return fail("permission denied", err);
    }
    if (e.name === "IsADirectory" || e.code === "EISDIR") return fail("is a directory", err);
    return fail(e.message, err);
  }
}

/**
 * Loads a SentencePiece model; the same as {@linkcode SentencePieceProcessor.load}.
 *
 * @param source a file path, a `file:`/`http(s):` URL, or the file's bytes
 * @returns the processor
 * @example
 * ```ts
 * import { loadSentencePiece } from "./mod.ts";
 * const sp = await loadSentencePiece(new URL("./assets/t5_spiece.model", import.meta.url));
 * console.log(sp.encodeAsPieces("dreambooth")); // ["▁dream", "boo", "th"]
 * ```
 */
export function loadSentencePiece(source: ModelSource): Promise<SentencePieceProcessor> {
  return SentencePieceProcessor.load(source);
}
