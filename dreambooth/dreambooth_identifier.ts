/**
 * The rare-token identifier `[V]` of a DreamBooth run: drawn by the paper's rule (tokenizer/'s
 * `drawIdentifier`: k ≤ 3 rare SentencePiece pieces of ids 5000–10000 of the T5 vocabulary) or
 * given, in which case it must round-trip through the model's tokenizer.
 *
 * @module
 */
import { drawIdentifier, loadDefaultVocabulary } from "../tokenizer/mod.ts";
import { type TokenizerDescription, WordTokenizer } from "../diffusion/mod.ts";

/** A resolved identifier. */
export interface DreamBoothIdentifier {
  /** The identifier's text, e.g. "sks" or the decoded rare pieces. */
  text: string;
  /** Its token ids in the model's tokenizer. */
  ids: number[];
  /** "drawn" (paper's rule) or "given". */
  source: "drawn" | "given";
}

/** Thrown when a given identifier does not round-trip through the tokenizer. */
export class IdentifierError extends RangeError {
  /**
   * @param message What is wrong.
   */
  constructor(message: string) {
    super(message);
    this.name = "IdentifierError";
  }
}

/**
 * Resolves the identifier for a model's tokenizer: draws one (seeded) when `identifier` is not
 * given, else checks that it round-trips: its ids decode to the same text, and encoding
 * "a [V] [class noun]" contains exactly those ids (the pieces do not merge with their
 * neighbours). Word tokenizers (the `tiny` preset) need a word of their vocabulary: default
 * "sks".
 *
 * @param tokenizer The model's tokenizer description (from its cascade config).
 * @param options `identifier` (default: drawn), `classNoun` (default "dog"), `seed` of the draw (default 0).
 * @returns The {@link DreamBoothIdentifier}.
 * @throws {IdentifierError} When a given identifier does not round-trip.
 *
 * @example
 * ```ts
 * import { resolveIdentifier } from "./dreambooth_identifier.ts";
 * const v = await resolveIdentifier({ kind: "words", words: ["a", "sks", "dog"] });
 * console.log(v.text, v.ids); // "sks" [ 4 ]
 * ```
 */
export async function resolveIdentifier(
  tokenizer: TokenizerDescription,
  options: { identifier?: string | null; classNoun?: string; seed?: number } = {},
): Promise<DreamBoothIdentifier> {
  const { classNoun = "dog", seed = 0 } = options;
  const given = options.identifier ?? null;
  if (given !== null && (typeof given !== "string" || given.trim() === "")) {
    throw new IdentifierError(
      `Cannot use the identifier as 'identifier' must be a non-empty string: current value is ${
        JSON.stringify(given)
      }`,
    );
  }
  if (tokenizer.kind === "words") {
    const tok = new WordTokenizer(tokenizer.words);
    const text = (given ?? "sks").trim().toLowerCase();
    const words = text.split(/\s+/);
    const { ids } = tok.encodeFixed(text, words.length + 1);
    const out = Array.from(ids.subarray(0, words.length));
    const unknown = words.filter((_, i) => out[i] === 2);
    if (unknown.length > 0) {
      throw new IdentifierError(
        `Cannot use the identifier ${
          JSON.stringify(text)
        } as it does not round-trip through the model's word tokenizer: ${
          unknown.map((w) => JSON.stringify(w)).join(", ")
        } is not in its vocabulary (choose one of its words, e.g. "sks")`,
      );
    }
    return { text, ids: out, source: given === null ? "drawn" : "given" };
  }
  const sp = await loadDefaultVocabulary();
  if (given === null) {
    const v = drawIdentifier(sp, { seed });
    return { text: v.text, ids: [...v.ids], source: "drawn" };
  }
  const text = given.trim();
  const ids = sp.encode(text);
  const decoded = sp.decode(ids);
  const prompt = sp.encode(`a ${text}${classNoun ? ` ${classNoun}` : ""}`);
  const contained = prompt.some((_, i) => ids.every((id, k) => prompt[i + k] === id));
  if (ids.some((id) => sp.isUnknown(id)) || decoded !== text || !contained) {
    throw new IdentifierError(
      `Cannot use the identifier ${
        JSON.stringify(given)
      } as it does not round-trip through the T5 tokenizer ` +
        `(ids [${ids.join(", ")}] decode to ${JSON.stringify(decoded)}${
          contained ? "" : `, and "a ${text} ${classNoun}" encodes it differently`
        }); leave --identifier out to draw one by the paper's rule`,
    );
  }
  return { text, ids, source: "given" };
}
