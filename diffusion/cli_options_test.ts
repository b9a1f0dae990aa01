import assert from "assert";
import { backendOption, UsageError } from "./cli_options.ts";

Deno.test("backendOption: auto and undefined choose automatically, a bad name is a UsageError", () => {
  assert.equal(backendOption(undefined), undefined);
  assert.equal(backendOption("auto"), undefined);
  assert.equal(backendOption("cpu"), "cpu");
  assert.throws(
    () => backendOption("tpu"),
    (e) => e instanceof UsageError && /'--backend'/.test(e.message),
  );
});
