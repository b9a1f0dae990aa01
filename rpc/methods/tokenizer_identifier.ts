import { defineMethod } from "../define_method.ts";
import { RpcError, RpcErrorCode } from "../rpc_error.ts";
import { s } from "../schema.ts";
import { asParamsError, drawIdentifier, modelParam } from "./_tokenizer_extras.ts";

/**
 * `tokenizer.identifier {k?, seed?, range?, model?}` → `{text, ids, k}`: a rare-token identifier
 * `[V]` (DreamBooth §4.1: `k` rare tokens drawn from a range of the vocabulary, decoded to text),
 * deterministic for a seed. Omitted options take tokenizer/'s defaults.
 *
 * @example
 * ```ts
 * import { tokenizerIdentifier } from "./tokenizer_identifier.ts";
 * console.log(tokenizerIdentifier.params.parse({ k: 3, seed: 7 })); // { k: 3, seed: 7 }
 * ```
 */
export const tokenizerIdentifier = defineMethod({
  name: "tokenizer.identifier",
  summary: "Draws a rare-token identifier [V] (k rare tokens from a vocabulary range), by seed.",
  params: s.object({
    k: s.optional(s.integer({ minimum: 1, maximum: 16, description: "Number of tokens." })),
    seed: s.optional(s.integer({
      minimum: 0,
      maximum: 2 ** 32 - 1,
      description: "Random seed (same seed, same identifier).",
    })),
    range: s.optional(s.array(s.integer({ minimum: 0 }), {
      minItems: 2,
      maxItems: 2,
      description: "[first, last] piece ids to draw from.",
    })),
    model: modelParam,
  }),
  result: {
    type: "object",
    properties: {
      text: { type: "string" },
      ids: { type: "array", items: { type: "integer" } },
      k: { type: "integer" },
    },
  },
  handler: async ({ k, seed, range, model }, { services }) => {
    if (drawIdentifier === undefined) {
      throw new RpcError(RpcErrorCode.InternalError, "tokenizer/ has no drawIdentifier yet");
    }
    const sp = await services.tokenizers.get(model);
    const options: { k?: number; seed?: number; range?: [number, number] } = {};
    if (k !== undefined) options.k = k;
    if (seed !== undefined) options.seed = seed;
    if (range !== undefined) options.range = [range[0], range[1]];
    const v = asParamsError("range", () => drawIdentifier!(sp, options));
    return { text: v.text, ids: Array.from(v.ids), k: v.k };
  },
});
