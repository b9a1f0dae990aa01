import assert from "assert";
import { promptFit } from "./prompt_fit.ts";
import { WordTokenizer } from "../text/word_tokenizer.ts";

const tokenizer = new WordTokenizer(["a", "dog", "on", "the", "beach"]);

Deno.test("promptFit: a blank prompt is refused, a fitting one passes (issue 36 item 6)", () => {
  for (const blank of ["", "   ", "\n\t"]) {
    assert.throws(
      () => promptFit(blank, { tokenizer, length: 8 }),
      (e: Error) =>
        e instanceof RangeError && e.message === "Cannot sample as 'prompt' must not be empty",
    );
  }
  assert.deepEqual(promptFit("a dog on the beach", { tokenizer, length: 6 }), {
    tokens: 6,
    length: 6,
    dropped: 0,
  });
});

Deno.test("promptFit: a long prompt is warned about, saying how much is dropped (issue 36 item 6)", () => {
  const fit = promptFit("a dog on the beach a dog on the beach", { tokenizer, length: 6 });
  assert.equal(fit.tokens, 11);
  assert.equal(fit.dropped, 5);
  assert.equal(
    fit.warning,
    'the prompt is 11 tokens long but the text encoder reads 6: the last 5 tokens are dropped (from "a dog on the beach")',
  );
  const long = promptFit("a dog ".repeat(2000), { tokenizer, length: 6 });
  assert.equal(long.dropped, 4001 - 6);
  assert.match(
    long.warning!,
    /the last 3995 tokens are dropped \(from "dog a dog.*\.\.\.", \d+ characters\)/,
  );
});
