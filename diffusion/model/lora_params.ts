/**
 * The LoRA options of every trainer, declared once (`deno task train` and `deno task train-sr`
 * spread them into their declarations with `--method lora`; the RPC schemas derive from those).
 * Imports nothing heavy, so the server thread may load it.
 *
 * @module
 */
import type { ParamSpecs } from "../../params/mod.ts";

/**
 * `rank`, `loraAlpha` and `loraTargets` (each only with `--method lora`).
 *
 * @example
 * ```ts
 * import { loraParamSpecs } from "./lora_params.ts";
 * console.log(loraParamSpecs.rank.max); // 256
 * ```
 */
export const loraParamSpecs = {
  rank: {
    type: "integer",
    min: 1,
    max: 256,
    metavar: "R",
    help: "LoRA rank r (--method lora)",
    defaultText: "4",
  },
  loraAlpha: {
    type: "number",
    exclusiveMin: 0,
    max: 1_000_000,
    metavar: "A",
    help: "LoRA alpha: the update is scaled by A / R (--method lora)",
    defaultText: "the rank",
  },
  loraTargets: {
    type: "enum",
    values: ["attn", "attn+conv"],
    metavar: "attn|attn+conv",
    help: "layers with LoRA adapters: attention projections, or those and the convolutions",
    defaultText: "attn",
  },
} as const satisfies ParamSpecs;

/** The names of {@link loraParamSpecs}. */
export const LORA_PARAM_NAMES = ["rank", "loraAlpha", "loraTargets"] as const;
