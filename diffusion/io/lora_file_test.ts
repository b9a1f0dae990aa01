import assert from "assert";
import { join } from "node:path";
import { initBackend, tf } from "../deps.ts";
import { createPreset } from "../pipeline/presets.ts";
import type { Cascade } from "../pipeline/cascade.ts";
import type { LoRASet } from "../model/lora.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import {
  applyCascadeLoRA,
  exportCascadeLoRA,
  mergeCascadeLoRA,
  readLoRAFile,
  saveLoRAFile,
} from "./lora_file.ts";
import { main } from "../cli.ts";

await initBackend({ quiet: true });

/** Random up-projections (a trained adapter's stand-in: fresh ones are zero). */
function randomUps(set: LoRASet, seed: number): void {
  for (const [name, v] of set.params.vars) {
    if (name.endsWith("lora_up.weight")) {
      tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.2, "float32", seed++)));
    }
  }
}

const sample = async (c: Cascade) =>
  (await c.sample({ prompt: "a photo of a dog", seed: 3, steps: 2, stages: 2 })).images[0].data;

/** The tiny preset with adapters on the base stage, the first SR stage and the text encoder. */
async function adapted(): Promise<Cascade> {
  const c = await createPreset("tiny", { seed: 0 });
  // The preset's zero-initialised output convolutions would hide the adapters: make them random.
  for (const s of c.stages) {
    const w = s.unet.params.get("out.conv.weight");
    tf.tidy(() => w.assign(tf.randomNormal(w.shape, 0, 0.05, "float32", 1)));
  }
  randomUps(c.stages[0].unet.addLoRA({ config: { rank: 2, targets: "attn+conv" }, seed: 1 }), 10);
  randomUps(c.stages[1].unet.addLoRA({ config: { rank: 2 }, seed: 2 }), 100);
  randomUps(c.textEncoder.addLoRA({ config: { rank: 2 }, seed: 3 }), 200);
  return c;
}

Deno.test("LoRA file: merged export samples as the adapters at scale 1; scale 0 is the base; file ≪ model", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const loraPath = join(tmp, "lora.safetensors");
    const basePath = join(tmp, "base.safetensors");
    const mergedPath = join(tmp, "model.safetensors");
    let want: Uint8Array;
    {
      using c = await adapted();
      const { tensors, parts } = await exportCascadeLoRA(c);
      assert.deepEqual(Object.keys(parts).sort(), ["stages.0", "stages.1", "text_encoder"]);
      const bytes = await saveLoRAFile(loraPath, { tensors, parts }, {
        metadata: { baseModel: basePath },
      });
      const scales = [c.stages[0].unet.lora!, c.stages[1].unet.lora!, c.textEncoder.lora!];
      for (const s of scales) s.scale = 0;
      const base = await sample(c);
      for (const s of scales) s.scale = 1;
      want = await sample(c);
      assert.notDeepEqual(want, base, "the adapters change the samples");
      mergeCascadeLoRA(c);
      await saveCheckpoint(mergedPath, c);
      assert.ok(bytes * 5 < (await Deno.stat(mergedPath)).size, "adapters file ≪ full model");
    }
    // Base model: the same preset with the same random output layers, no adapters.
    {
      using c = await adapted();
      for (const m of [c.stages[0].unet, c.stages[1].unet, c.textEncoder]) m.removeLoRA();
      await saveCheckpoint(basePath, c);
      const baseSample = await sample(c);
      const file = await readLoRAFile(loraPath);
      applyCascadeLoRA(c, file, { scale: 0 });
      assert.deepEqual(await sample(c), baseSample, "scale 0 equals the base model");
      applyCascadeLoRA(c, file, { scale: 1 });
      assert.deepEqual(await sample(c), want, "adapters re-applied from the file");
      const loaded = await loadCheckpoint(mergedPath);
      assert.equal(loaded.kind, "cascade");
      const merged = loaded.model as Cascade;
      try {
        const got = await sample(merged);
        const diff = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);
        assert.ok(diff <= 1, `merged export differs from adapter sampling by ${diff}/255`);
        // The denoiser outputs themselves within 1e-5.
        const [a, b] = tf.tidy(() => {
          const zt = tf.randomNormal([1, 32, 32, 3], 0, 1, "float32", 5) as tf.Tensor4D;
          const cond = { logSnr: tf.tensor1d([0.5]), text: null };
          return [c.stages[0].unet.apply(zt, cond), merged.stages[0].unet.apply(zt, cond)];
        });
        const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
        tf.dispose([a, b]);
        assert.ok(d < 1e-5, `merged UNet differs by ${d}`);
      } finally {
        merged.dispose();
      }
    }
    // deno task sample --lora FILE --lora-scale 0 samples the recorded base model.
    const outBase = join(tmp, "base.png"), outLora0 = join(tmp, "lora0.png");
    const common = ["--prompt", "a dog", "--steps", "2", "--stages", "1", "--seed", "1"];
    assert.equal(await main(["sample", "--model", basePath, ...common, "--out", outBase]), 0);
    assert.equal(
      await main(["sample", "--lora", loraPath, "--lora-scale", "0", ...common, "--out", outLora0]),
      0,
    );
    assert.deepEqual(await Deno.readFile(outLora0), await Deno.readFile(outBase));
    assert.equal(await main(["sample", "--preset", "tiny", "--lora-scale", "0.5", ...common]), 2);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
