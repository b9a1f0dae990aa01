import assert from "assert";
import { initBackend, tf } from "../deps.ts";
import { createPreset } from "../pipeline/presets.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { readSafetensors, SafetensorsError, writeSafetensors } from "./safetensors.ts";
import type { Cascade } from "../pipeline/cascade.ts";
import { UNet } from "../model/unet.ts";
import { T5Encoder } from "../model/t5_encoder.ts";

await initBackend({ quiet: true });

Deno.test("checkpoint: a cascade saved as float32 reloads from the file alone and samples the same bits", async () => {
  const dir = await Deno.makeTempDir();
  try {
    using cascade = await createPreset("tiny", { seed: 3 });
    // Fresh UNets output zeros (zero-initialised output layers): give those layers weights.
    for (const s of cascade.stages) {
      for (const [name, v] of s.unet.params.vars) {
        if (/(out|conv2|out\.conv)\.weight$/.test(name)) {
          tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.05, "float32", 1)));
        }
      }
    }
    const path = `${dir}/tiny.safetensors`;
    await saveCheckpoint(path, cascade, { metadata: { step: "12" } });
    const entries = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(entries, ["tiny.safetensors"]); // atomic write left no temporary file
    const loaded = await loadCheckpoint(path);
    assert.equal(loaded.kind, "cascade");
    assert.equal(loaded.metadata.step, "12");
    const model = loaded.model as Cascade;
    try {
      assert.equal(model.numParams, cascade.numParams);
      const opts = { prompt: "a photo of a sks dog", seed: 9, steps: [2, 1], guidance: 3 };
      const a = await cascade.sample(opts);
      const b = await model.sample(opts);
      assert.deepEqual(a.images[0].data, b.images[0].data);
      assert.ok(a.images[0].data.some((v) => v !== a.images[0].data[0])); // not a flat image
    } finally {
      model.dispose();
    }
    // float16 storage: half the weight bytes, and the weights within half precision.
    const half = `${dir}/tiny16.safetensors`;
    await saveCheckpoint(half, cascade, { dtype: "F16" });
    const s32 = (await Deno.stat(path)).size;
    const s16 = (await Deno.stat(half)).size;
    assert.ok(s16 < 0.6 * s32, `${s16} vs ${s32}`);
    const h = await loadCheckpoint(half);
    const u16 = (h.model as Cascade).stages[0].unet.params.get("input.weight").dataSync();
    const u32 = cascade.stages[0].unet.params.get("input.weight").dataSync();
    for (let i = 0; i < u32.length; i++) {
      assert.ok(Math.abs(u16[i] - u32[i]) <= Math.abs(u32[i]) * 1e-3 + 1e-7);
    }
    h.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpoint: UNet and T5 checkpoints; a missing or mis-shaped tensor and a plain file fail clearly", async () => {
  const dir = await Deno.makeTempDir();
  const before = tf.memory().numTensors;
  try {
    const cfg = {
      imageSize: 8,
      channels: 8,
      channelMult: [1, 2],
      numResBlocks: [1, 1],
      textDim: 0,
    };
    {
      using net = new UNet(cfg, { seed: 1 });
      await saveCheckpoint(`${dir}/u.safetensors`, net);
      using enc = new T5Encoder({
        vocabSize: 10,
        dModel: 8,
        dKv: 4,
        numHeads: 2,
        dFf: 16,
        numLayers: 1,
      });
      await saveCheckpoint(`${dir}/t.safetensors`, enc);
    }
    const u = await loadCheckpoint(`${dir}/u.safetensors`);
    assert.equal(u.kind, "unet");
    assert.deepEqual((u.model as UNet).config.channelMult, [1, 2]);
    u.model.dispose();
    const t = await loadCheckpoint(`${dir}/t.safetensors`);
    assert.equal(t.kind, "t5");
    t.model.dispose();
    // Remove one tensor and change another's shape.
    const { tensors, metadata } = await readSafetensors(`${dir}/u.safetensors`);
    const missing = new Map(tensors);
    missing.delete("down.0.0.res.conv1.bias");
    await writeSafetensors(`${dir}/m.safetensors`, missing, { metadata });
    await assert.rejects(
      () => loadCheckpoint(`${dir}/m.safetensors`),
      /tensor 'down\.0\.0\.res\.conv1\.bias' is missing/,
    );
    const bad = new Map(tensors);
    bad.set("out.conv.bias", { shape: [4], data: new Float32Array(4) });
    await writeSafetensors(`${dir}/b.safetensors`, bad, { metadata });
    await assert.rejects(
      () => loadCheckpoint(`${dir}/b.safetensors`),
      /tensor 'out\.conv\.bias' has shape \[4\] but the model expects \[3\]/,
    );
    await writeSafetensors(`${dir}/p.safetensors`, tensors);
    await assert.rejects(() => loadCheckpoint(`${dir}/p.safetensors`), SafetensorsError);
    await Deno.writeFile(
      `${dir}/x.safetensors`,
      (await Deno.readFile(`${dir}/u.safetensors`)).subarray(0, 100),
    );
    await assert.rejects(() => loadCheckpoint(`${dir}/x.safetensors`), /truncated/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(tf.memory().numTensors, before);
});
