import assert from "assert";
import { retryCommand, shellQuote } from "./_retry_command.ts";

Deno.test("retryCommand: replaces the option in both spellings, adds or drops --resume, quotes for sh", () => {
  const args = ["--lr", "10", "--out", "/tmp/my run", "--lr=3", "--resume", "--prompt", "it's"];
  assert.equal(
    retryCommand("deno task train", args, { set: { "--lr": "0.0001" }, resume: false }),
    `deno task train --out '/tmp/my run' --prompt 'it'\\''s' --lr 0.0001`,
  );
  assert.equal(
    retryCommand("deno task train", ["--steps", "20", "--", "x"], {
      set: { "--lr": "1" },
      resume: true,
    }),
    "deno task train --steps 20 --lr 1 --resume -- x",
  );
  assert.equal(shellQuote("a$b"), "'a$b'");
  assert.equal(shellQuote("/tmp/p/lr10"), "/tmp/p/lr10");
});
