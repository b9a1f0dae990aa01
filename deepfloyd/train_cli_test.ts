import assert from "assert";
import { TESTDATA } from "./_test_util.ts";
import { main } from "./train_cli.ts";
import { readSafetensors } from "./deps.ts";

Deno.test("deno task train-if: LoRA DreamBooth on the tiny stage I with generated class images, then samples", async () => {
  const out = await Deno.makeTempDir();
  try {
    const args = [
      "--model",
      `${TESTDATA}if_tiny_i`,
      "--subject-dir",
      new URL("../data/subjects/dog", import.meta.url).pathname,
      "--class-images",
      "2",
      "--class-steps",
      "2",
      "--steps",
      "3",
      "--lr",
      "0.01",
      "--samples",
      "1",
      "--sample-steps",
      "2",
      "--out",
      out,
    ];
    assert.equal(await main(args), 0);
    const { tensors } = await readSafetensors(`${out}/pytorch_lora_weights.safetensors`);
    assert.ok(
      [...tensors.keys()].every((k) =>
        /^unet\..+\.processor\.\w+_lora\.(down|up)\.weight$/.test(k)
      ),
    );
    assert.equal(tensors.size, 132);
    assert.equal([...Deno.readDirSync(`${out}/class-images`)].length, 2);
    assert.ok((await Deno.stat(`${out}/samples/000.png`)).size > 0);
    // Class images are reused on a second run.
    const before = (await Deno.stat(`${out}/class-images/0000.png`)).mtime;
    assert.equal(await main([...args, "--steps", "1", "--samples", "0"]), 0);
    assert.deepEqual((await Deno.stat(`${out}/class-images/0000.png`)).mtime, before);
    assert.equal(
      await main(["--model", `${TESTDATA}if_tiny_i`, "--subject-dir", `${out}/samples/none`]),
      2,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
