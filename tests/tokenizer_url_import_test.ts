/**
 * tokenizer/ imported by URL without deno.json: the default vocabulary is fetched relative to the
 * module's own URL (over HTTP here).
 */
import assert from "assert";
import { explain, withServedCheckout } from "./_url_import.ts";

Deno.test("tokenizer/mod.ts imports by URL without deno.json and loads its default vocabulary", async () => {
  await withServedCheckout(async ({ base, run }) => {
    const r = await run(`import * as m from "${base}tokenizer/mod.ts";
const sp = await m.loadDefaultVocabulary();
const ids = sp.encode("a dog on the beach");
console.log(ids.length >= 3 && sp.decode(ids) === "a dog on the beach" ? "OK" : "bad " + ids);
`);
    assert.ok(r.success && r.lastLine === "OK", explain(r));
  });
});
