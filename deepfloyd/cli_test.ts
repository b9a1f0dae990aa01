import assert from "assert";
import { TESTDATA } from "./_test_util.ts";
import { main } from "./cli.ts";
import { ifModelKind } from "./if_model.ts";

Deno.test("deno task sample --model <IF folder>: the tiny stage I + II folders give PNGs of stage II's size", async () => {
  const out = await Deno.makeTempDir();
  try {
    const args = (more: string[]) => [
      "sample",
      "--model",
      `${TESTDATA}if_tiny_i`,
      "--prompt",
      "a photo of sks dog",
      "--steps",
      "2",
      ...more,
    ];
    const code = await main(
      args(["--sr-model", `${TESTDATA}if_tiny_ii`, "--sr-steps", "2", "--out", `${out}/x.png`]),
    );
    assert.equal(code, 0);
    const png = await Deno.readFile(`${out}/x.png`);
    const view = new DataView(png.buffer);
    assert.deepEqual([view.getUint32(16), view.getUint32(20)], [16, 16]); // IHDR width, height
    // Two images of stage I only.
    assert.equal(await main(args(["--count", "2", "--out", `${out}/y.png`])), 0);
    for (const f of ["y-000.png", "y-001.png"]) {
      const v = new DataView((await Deno.readFile(`${out}/${f}`)).buffer);
      assert.deepEqual([v.getUint32(16), v.getUint32(20)], [8, 8]);
    }
    // Stage II given as stage I, and a stage I given as stage II: clear errors (exit 2).
    assert.equal(
      await main(["sample", "--model", `${TESTDATA}if_tiny_ii`, "--prompt", "x", "--out", out]),
      2,
    );
    assert.equal(
      await main(args(["--sr-model", `${TESTDATA}if_tiny_i`, "--out", `${out}/z.png`])),
      2,
    );
    // Not an IF folder: diffusion/'s command line says what it needs.
    assert.equal(await main(["sample", "--model", `${out}`, "--prompt", "x"]), 2);
    // A cascade checkpoint file goes to diffusion/'s command line (not an IF model).
    const ckpt = `${out}/x.safetensors`;
    await Deno.writeTextFile(ckpt, "");
    assert.equal(await ifModelKind(ckpt), null);
    assert.equal(await main(["sample", "--model", ckpt, "--prompt", "x", "--count", "2"]), 2);
    // Cascade-only options (LoRA adapters of this project's cascades) with an IF model are refused.
    assert.equal(await main(args(["--lora-scale", "0.5", "--out", `${out}/w.png`])), 2);
    // IF-only options with a cascade are refused.
    assert.equal(await main(["sample", "--preset", "tiny", "--prompt", "x", "--count", "2"]), 2);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
