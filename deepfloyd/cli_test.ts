import assert from "assert";
import { TESTDATA } from "./_test_util.ts";
import { main } from "./cli.ts";

Deno.test("deno task sample-if: the tiny stage I + II folders give PNGs of stage II's size", async () => {
  const out = await Deno.makeTempDir();
  try {
    const code = await main([
      "--model",
      `${TESTDATA}if_tiny_i`,
      "--sr-model",
      `${TESTDATA}if_tiny_ii`,
      "--prompt",
      "a photo of sks dog",
      "--steps",
      "2",
      "--sr-steps",
      "2",
      "--variance",
      "fixed_small",
      "--out",
      out,
      "--prompt-cache",
      `${out}/cache`,
    ]);
    assert.equal(code, 0);
    const png = await Deno.readFile(`${out}/000.png`);
    const view = new DataView(png.buffer);
    assert.deepEqual([view.getUint32(16), view.getUint32(20)], [16, 16]); // IHDR width, height
    assert.equal(
      [...Deno.readDirSync(`${out}/cache`)].length,
      2,
      "prompt and negative prompt cached",
    );
    assert.equal(await main(["--prompt", "x"]), 2);
    assert.equal(await main(["--model", `${out}/none`, "--prompt", "x"]), 2);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
