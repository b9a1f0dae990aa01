import { defineMethod } from "../define_method.ts";
import { s } from "../schema.ts";
import { asParamsError, modelParam } from "./_tokenizer_params.ts";

/**
 * `tokenizer.decode {ids, model?}` → `{text}`: the text of SentencePiece ids (control ids such
 * as EOS and padding vanish). An id outside the vocabulary answers -32602 naming it.
 *
 * @example
 * ```ts
 * import { tokenizerDecode } from "./tokenizer_decode.ts";
 * console.log(tokenizerDecode.params.parse({ ids: [3, 9] })); // { ids: [3, 9] }
 * ```
 */
export const tokenizerDecode = defineMethod({
  name: "tokenizer.decode",
  summary: "The text of SentencePiece ids.",
  params: s.object({
    ids: s.array(s.integer({ minimum: 0 }), {
      maxItems: 100_000,
      description: "Piece ids (at most 100 000).",
    }),
    model: modelParam,
  }),
  result: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
  handler: async ({ ids, model }, { services }): Promise<{ text: string }> => {
    const sp = await services.tokenizers.get(model);
    return { text: asParamsError("ids", () => sp.decode(ids)) };
  },
});
