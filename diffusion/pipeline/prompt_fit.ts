/**
 * The one prompt rule of `deno task sample` and the RPC `sample` job: an empty (or blank) prompt
 * is refused; a prompt longer than the text encoder reads is sampled from its first tokens with a
 * warning that says how much was dropped, worded the same on both.
 *
 * @module
 */
import type { TextTokenizer } from "../text/text_tokenizer.ts";

/** What {@link promptFit} found. */
export interface PromptFit {
  /** Tokens of the whole prompt, EOS included. */
  tokens: number;
  /** Tokens the text encoder reads (its `maxLength`), EOS included. */
  length: number;
  /** Tokens dropped from the end (0 when the prompt fits). */
  dropped: number;
  /** The warning to show when tokens are dropped (without a `warning: ` prefix). */
  warning?: string;
}

function countTokens(tokenizer: TextTokenizer, text: string): number {
  // Byte fallback may spend up to 4 ids on one UTF-16 unit; + EOS + one padding id.
  const e = tokenizer.encodeFixed(text, 4 * text.length + 2);
  let n = 0;
  for (const m of e.mask) n += m;
  return n;
}

/**
 * Applies the prompt rule: refuses a blank prompt, and measures how much of a long one the text
 * encoder drops.
 *
 * @param prompt The prompt.
 * @param options `tokenizer` and `length` (the text encoder's `maxLength`: `cascade.tokenizer`,
 * `cascade.textEncoder.config.maxLength`).
 * @returns {@link PromptFit}: counts, and a warning when tokens are dropped.
 * @throws {RangeError} `Cannot sample as 'prompt' must not be empty` for an empty or blank prompt.
 *
 * @example
 * ```ts
 * import { promptFit } from "./prompt_fit.ts";
 * import { WordTokenizer } from "../text/word_tokenizer.ts";
 * const tokenizer = new WordTokenizer(["a", "dog"]);
 * console.log(promptFit("a dog", { tokenizer, length: 8 }).dropped); // 0
 * console.log(promptFit("a dog a dog a dog a dog", { tokenizer, length: 4 }).warning);
 * // the prompt is 9 tokens long but the text encoder reads 4: the last 5 tokens are dropped (from "dog a dog a dog")
 * ```
 */
export function promptFit(
  prompt: string,
  options: { tokenizer: TextTokenizer; length: number },
): PromptFit {
  const { tokenizer, length } = options;
  if (typeof prompt !== "string" || prompt.trim() === "") {
    throw new RangeError(`Cannot sample as 'prompt' must not be empty`);
  }
  const tokens = countTokens(tokenizer, prompt);
  if (tokens <= length) return { tokens, length, dropped: 0 };
  const dropped = tokens - length;
  // The longest prefix that still fits (binary search on characters): where the cut falls.
  let lo = 0, hi = prompt.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (countTokens(tokenizer, prompt.slice(0, mid)) <= length) lo = mid;
    else hi = mid - 1;
  }
  const rest = prompt.slice(lo).trim();
  const shown = rest.length > 40 ? `${rest.slice(0, 37)}...` : rest;
  const chars = rest.length > 40 ? `, ${rest.length} characters` : "";
  return {
    tokens,
    length,
    dropped,
    warning: `the prompt is ${tokens} tokens long but the text encoder reads ${length}: the last ` +
      `${dropped} tokens are dropped (from ${JSON.stringify(shown)}${chars})`,
  };
}
