import { defineMethod } from "../define_method.ts";
import { encodeFixedLength } from "../../tokenizer/mod.ts";
import { s } from "../schema.ts";
import { asParamsError, modelParam } from "./_tokenizer_params.ts";

/** The result of `tokenizer.encode`. */
export interface EncodeResult {
  /** Piece ids (with `length`: EOS-terminated, padded or truncated to `length`). */
  ids: number[];
  /** The pieces (when `pieces: true`; without `length`). */
  pieces?: string[];
  /** 1 for real tokens, 0 for padding (with `length`). */
  mask?: number[];
  /** Whether the text was cut to fit `length` (with `length`). */
  truncated?: boolean;
}

/**
 * `tokenizer.encode {text, pieces?, length?, model?}` → `{ids, pieces?, mask?}`: SentencePiece
 * ids of a prompt; with `length`, the T5-style fixed-length ids and mask the text encoder takes.
 *
 * @example
 * ```ts
 * import { tokenizerEncode } from "./tokenizer_encode.ts";
 * console.log(tokenizerEncode.params.parse({ text: "a dog" })); // { text: "a dog", pieces: false }
 * ```
 */
export const tokenizerEncode = defineMethod({
  name: "tokenizer.encode",
  summary: "SentencePiece ids (and pieces) of a text; with 'length', T5-style fixed-length ids " +
    "and mask.",
  params: s.object({
    text: s.string({ maxLength: 100_000, description: "The text (at most 100 000 characters)." }),
    pieces: s.optional(s.boolean({ description: "Also return the pieces." }), false),
    length: s.optional(s.integer({
      minimum: 1,
      maximum: 4096,
      description: "Fixed length: EOS appended, padded or truncated; returns the mask too.",
    })),
    model: modelParam,
  }),
  result: {
    type: "object",
    properties: {
      ids: { type: "array", items: { type: "integer" } },
      pieces: { type: "array", items: { type: "string" } },
      mask: { type: "array", items: { type: "integer" } },
      truncated: { type: "boolean" },
    },
    required: ["ids"],
  },
  handler: async ({ text, pieces, length, model }, { services }): Promise<EncodeResult> => {
    const sp = await services.tokenizers.get(model);
    if (length !== undefined) {
      const fixed = asParamsError("length", () => encodeFixedLength(sp, text, { length }));
      const out: EncodeResult = {
        ids: Array.from(fixed.ids),
        mask: Array.from(fixed.mask),
        truncated: fixed.truncated,
      };
      if (pieces) out.pieces = out.ids.map((id) => sp.idToPiece(id));
      return out;
    }
    const out: EncodeResult = { ids: sp.encode(text) };
    if (pieces) out.pieces = sp.encodeAsPieces(text);
    return out;
  },
});
