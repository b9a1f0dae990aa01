import { defineMethod } from "../define_method.ts";
import { drawIdentifier, type Identifier } from "../../tokenizer/mod.ts";
import { s } from "../schema.ts";
import { asParamsError, modelParam } from "./_tokenizer_params.ts";

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
    k: s.optional(s.integer({
      minimum: 1,
      maximum: 3,
      description: "Number of rare tokens (default: drawn from {1, 2, 3} with the seed).",
    })),
    seed: s.optional(s.integer({
      minimum: 0,
      maximum: 2 ** 32 - 1,
      description: "Random seed (same seed, same identifier; default 0).",
    })),
    range: s.optional(s.array(s.integer({ minimum: 0 }), {
      minItems: 2,
      maxItems: 2,
      description: "[first, last] piece ids to draw from (default [5000, 10000], the paper's).",
    })),
    model: modelParam,
  }),
  result: {
    type: "object",
    properties: {
      text: { type: "string" },
      ids: { type: "array", items: { type: "integer" } },
      pieces: { type: "array", items: { type: "string" } },
      k: { type: "integer" },
      poolSize: { type: "integer" },
    },
  },
  handler: async (
    { k, seed, range, model },
    { services },
  ): Promise<Pick<Identifier, "text" | "ids" | "pieces" | "k" | "poolSize">> => {
    const sp = await services.tokenizers.get(model);
    const options: { k?: number; seed?: number; range?: [number, number] } = {};
    if (k !== undefined) options.k = k;
    if (seed !== undefined) options.seed = seed;
    if (range !== undefined) options.range = [range[0], range[1]];
    const v = asParamsError("range", () => drawIdentifier(sp, options));
    return { text: v.text, ids: v.ids, pieces: v.pieces, k: v.k, poolSize: v.poolSize };
  },
});
