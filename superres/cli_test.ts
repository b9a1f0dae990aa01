import assert from "assert";
import { join } from "node:path";
import { main } from "./cli.ts";
import { createPreset, initBackend, saveCheckpoint, tf } from "./deps.ts";
import { readSafetensors } from "../diffusion/mod.ts";

Deno.test("train-sr CLI: --help is 0, bad usage is 2 and names the option", async () => {
  const errors: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = () => {};
  console.error = (m: string) => errors.push(m);
  try {
    assert.equal(await main(["--help"]), 0);
    assert.equal(await main(["--stage", "2", "--all-stages"]), 2);
    assert.match(errors.pop()!, /'--stage' together with '--all-stages'/);
    assert.equal(await main(["--steps", "x"]), 2);
    assert.match(
      errors.pop()!,
      /Cannot fine-tune as '--steps' must be an integer ≥ 1 and ≤ 10000000: current value is "x"/,
    );
    assert.equal(await main(["--nope"]), 2);
  } finally {
    console.log = log;
    console.error = error;
  }
});

Deno.test("train-sr CLI: --method lora on the tiny preset trains only the SR stage's adapters and writes them", async () => {
  const dir = await Deno.makeTempDir();
  const [log, error] = [console.log, console.error];
  const errors: string[] = [];
  console.log = () => {};
  console.error = (m: string) => errors.push(m);
  try {
    // The tiny preset with random output convolutions (the preset zero-initialises them, which
    // would stop every gradient reaching the adapters).
    await initBackend({ quiet: true });
    const basePath = join(dir, "base.safetensors");
    {
      using base = await createPreset("tiny", { seed: 0 });
      for (const s of base.stages) {
        const w = s.unet.params.get("out.conv.weight");
        tf.tidy(() => w.assign(tf.randomNormal(w.shape, 0, 0.05, "float32", 1)));
      }
      await saveCheckpoint(basePath, base);
    }
    const common = ["--model", basePath, "--steps", "1", "--batch", "1", "--crop", "32"];
    const args = [...common, "--sample-steps", "0", "--run-dir", join(dir, "run")];
    // The LoRA options are refused without --method lora, before any work.
    assert.equal(await main([...args, "--rank", "2"]), 2);
    assert.match(errors.pop()!, /'rank' \(--rank\) needs --method lora: current value is 2/);
    assert.equal(await main([...args, "--method", "lora", "--rank", "0"]), 2);
    assert.equal(await main([...args, "--method", "lora", "--rank", "2"]), 0);
    const lora = await readSafetensors(join(dir, "run", "lora.safetensors"));
    assert.deepEqual(Object.keys(JSON.parse(lora.metadata.lora)), ["stages.1"]);
    assert.equal(lora.metadata.baseModel, basePath);
    assert.equal(JSON.parse(lora.metadata.augLevels)[1], 1e-5);
    // The merged cascade differs from the base model only in the adapted layers of stage 1.
    const adapted = new Set(
      [...lora.tensors.keys()].map((k) => k.replace(/\.lora_(down|up)\.weight$/, ".weight")),
    );
    assert.ok(adapted.size > 0);
    const merged = (await readSafetensors(join(dir, "run", "cascade.safetensors"))).tensors;
    const changed: string[] = [];
    for (const [k, t] of (await readSafetensors(basePath)).tensors) {
      const m = merged.get(k)!;
      assert.ok(m, k);
      if (t.data.some((v, i) => v !== m.data[i])) changed.push(k);
    }
    assert.ok(changed.length > 0, "the adapters changed the model");
    assert.deepEqual(changed.filter((k) => !adapted.has(k)), [], "only adapted layers changed");
  } finally {
    console.log = log;
    console.error = error;
    await Deno.remove(dir, { recursive: true });
  }
});
