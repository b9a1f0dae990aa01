import assert from "assert";
import { explain, withServedCheckout } from "./_url_import.ts";

Deno.test("common/mod.ts works when imported by URL without this repository's deno.json", async () => {
  await withServedCheckout(async ({ base, scratch, run }) => {
    const r = await run(`
      import { encodePng, writeJsonAtomic } from "${base}common/mod.ts";
      const png = encodePng({ width: 1, height: 1, data: new Uint8Array([1, 2, 3]) });
      await writeJsonAtomic(${JSON.stringify(scratch)} + "/a.json", { n: png.length > 0 });
      console.log(JSON.stringify(JSON.parse(await Deno.readTextFile(${
      JSON.stringify(scratch)
    } + "/a.json"))));
    `);
    assert.ok(r.success, explain(r));
    assert.deepEqual(JSON.parse(r.lastLine), { n: true });
  });
});
