/**
 * Rare-token identifiers `[V]` (DreamBooth, Ruiz et al. 2022, §4.1): a short sequence of rare
 * vocabulary pieces that the text encoder has a weak prior for, bound to the subject by
 * fine-tuning.
 *
 * @module
 */
import { tokenizerRng } from "./_random.ts";
import { SentencePieceProcessor } from "./sentence_piece_processor.ts";

const SPACE_SYMBOL = "\u2581";
const WHITESPACE = /[\s\u2581]/u;

/** Options of {@linkcode identifierCandidates}. */
export interface IdentifierCandidatesOptions {
  /** Inclusive id range `[lo, hi]` to draw from. Default `[5000, 10000]` (the paper's, for T5). */
  range?: readonly [number, number];
}

/** Options of {@linkcode drawIdentifier}. */
export interface DrawIdentifierOptions extends IdentifierCandidatesOptions {
  /** Number of pieces, 1, 2 or 3. Default: drawn uniformly from {1, 2, 3} with the seed. */
  k?: number;
  /** Seed of the draw. Default 0. */
  seed?: number;
  /** Draws to try before giving up. Default 1000. */
  maxAttempts?: number;
}

/** A drawn identifier. */
export interface Identifier {
  /** The identifier as text, to put in prompts (`a ${text} dog`). */
  text: string;
  /** Its piece ids; `sp.encode(text)` returns exactly these. */
  ids: number[];
  /** Its pieces. */
  pieces: string[];
  /** Number of pieces. */
  k: number;
  /** Size of the candidate pool it was drawn from. */
  poolSize: number;
  /** How many draws were needed (1 when the first one re-encoded exactly). */
  attempts: number;
}

function checkSp(sp: unknown, what: string): asserts sp is SentencePieceProcessor {
  if (!(sp instanceof SentencePieceProcessor)) {
    throw new TypeError(
      `Cannot ${what} as 'sp' must be a SentencePieceProcessor: current value is ${
        sp === null ? "null" : typeof sp
      }`,
    );
  }
}

/**
 * Whether a piece obeys the paper's rule: after dropping a leading word-boundary marker `▁`, it is
 * 1 to 3 Unicode characters with no whitespace (and no further `▁`).
 *
 * @param piece a vocabulary piece
 * @returns true when it may be part of an identifier
 * @example
 * ```ts
 * import { isIdentifierPiece } from "./identifier.ts";
 * console.log(isIdentifierPiece("▁sks"), isIdentifierPiece("▁dogs"), isIdentifierPiece("▁")); // true false false
 * ```
 */
export function isIdentifierPiece(piece: string): boolean {
  const body = piece.startsWith(SPACE_SYMBOL) ? piece.slice(1) : piece;
  const chars = Array.from(body).length;
  return chars >= 1 && chars <= 3 && !WHITESPACE.test(body);
}

/**
 * The candidate pool of rare pieces: ids in `range` (inclusive) of NORMAL pieces that obey
 * {@linkcode isIdentifierPiece}.
 *
 * @param sp the vocabulary
 * @param options `range`, default `[5000, 10000]`
 * @returns candidate ids in ascending order
 * @throws {TypeError} when `sp` is not a processor
 * @throws {RangeError} when `range` is not `[lo, hi]` with `0 ≤ lo ≤ hi < vocabSize`
 * @example
 * ```ts
 * import { identifierCandidates, loadDefaultVocabulary } from "./mod.ts";
 * const sp = await loadDefaultVocabulary();
 * console.log(identifierCandidates(sp).length > 1000); // true
 * ```
 */
export function identifierCandidates(
  sp: SentencePieceProcessor,
  options: IdentifierCandidatesOptions = {},
): number[] {
  checkSp(sp, "list identifier candidates");
  const { range = [5000, 10000] } = options;
  if (
    !Array.isArray(range) || range.length !== 2 || !Number.isInteger(range[0]) ||
    !Number.isInteger(range[1]) || range[0] < 0 || range[0] > range[1] || range[1] >= sp.vocabSize
  ) {
    throw new RangeError(
      `Cannot list identifier candidates as 'range' must be [lo, hi] with 0 <= lo <= hi < ${sp.vocabSize}: current value is ${
        JSON.stringify(range)
      }`,
    );
  }
  const out: number[] = [];
  for (let id = range[0]; id <= range[1]; id++) {
    if (sp.pieceType(id) === "normal" && isIdentifierPiece(sp.idToPiece(id))) out.push(id);
  }
  return out;
}

/**
 * Draws a rare-token identifier as in the DreamBooth paper: k ∈ {1, 2, 3} pieces sampled
 * uniformly without replacement from {@linkcode identifierCandidates}, turned into text with
 * `sp.decode`, and drawn again when that text does not re-encode to exactly the same ids. The
 * same seed gives the same identifier.
 *
 * @param sp the vocabulary
 * @param options `k`, `seed` (default 0), `range` (default `[5000, 10000]`), `maxAttempts`
 * @returns the identifier text, ids, pieces, k, pool size and attempts
 * @throws {TypeError} when `sp` is not a processor
 * @throws {RangeError} on a bad `k`, `seed`, `range` or `maxAttempts`, or a pool smaller than k
 * @throws {Error} when no draw re-encodes exactly within `maxAttempts`
 * @example
 * ```ts
 * import { drawIdentifier, loadDefaultVocabulary } from "./mod.ts";
 * const sp = await loadDefaultVocabulary();
 * const v = drawIdentifier(sp, { k: 1, seed: 0 });
 * console.log(v.k, sp.encode(v.text).join() === v.ids.join()); // 1 true
 * ```
 */
export function drawIdentifier(
  sp: SentencePieceProcessor,
  options: DrawIdentifierOptions = {},
): Identifier {
  checkSp(sp, "draw identifier");
  const { seed = 0, maxAttempts = 1000 } = options;
  if (!Number.isInteger(seed)) {
    throw new RangeError(
      `Cannot draw identifier as 'seed' must be an integer: current value is ${seed}`,
    );
  }
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(
      `Cannot draw identifier as 'maxAttempts' must be a positive integer: current value is ${maxAttempts}`,
    );
  }
  if (options.k !== undefined && ![1, 2, 3].includes(options.k)) {
    throw new RangeError(
      `Cannot draw identifier as 'k' must be 1, 2 or 3: current value is ${options.k}`,
    );
  }
  const pool = identifierCandidates(sp, { range: options.range });
  const rng = tokenizerRng(seed);
  const k = options.k ?? 1 + rng.int(3);
  if (pool.length < k) {
    throw new RangeError(
      `Cannot draw identifier as the candidate pool has ${pool.length} pieces, fewer than 'k': current value is ${k}`,
    );
  }
  const scratch = pool.slice();
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    // Partial Fisher–Yates: the first k entries become a uniform sample without replacement.
    for (let i = 0; i < k; i++) {
      const j = i + rng.int(scratch.length - i);
      const t = scratch[i];
      scratch[i] = scratch[j];
      scratch[j] = t;
    }
    const ids = scratch.slice(0, k);
    const text = sp.decode(ids);
    const again = sp.encode(text);
    if (text.length > 0 && again.length === k && again.every((id, i) => id === ids[i])) {
      return {
        text,
        ids,
        pieces: ids.map((id) => sp.idToPiece(id)),
        k,
        poolSize: pool.length,
        attempts: attempt,
      };
    }
  }
  throw new Error(
    `Cannot draw identifier: no draw of ${k} pieces re-encoded to the same ids in ${maxAttempts} attempts (seed ${seed})`,
  );
}
