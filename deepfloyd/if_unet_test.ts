import assert from "assert";
import { initBackend, tf } from "./deps.ts";
import { fixture, maxRelativeError, nhwc, readFixture, TESTDATA } from "./_test_util.ts";
import { IFUNet } from "./if_unet.ts";
import { ifUNetConfigFromDiffusers } from "./if_unet_config.ts";
import { readDiffusersWeights, readJsonFile } from "./diffusers_folder.ts";

await initBackend({ quiet: true });

async function checkStage(folder: string, io: string): Promise<number> {
  const config = await readJsonFile(`${TESTDATA}${folder}/unet/config.json`);
  using unet = new IFUNet(config, await readDiffusersWeights(`${TESTDATA}${folder}/unet`));
  const f = await readFixture(io);
  const sample = nhwc(fixture(f, "sample"));
  const e = fixture(f, "encoder_hidden_states");
  const enc = tf.tensor3d(e.data as Float32Array, e.shape as [number, number, number]);
  const labels = f.get("class_labels")?.data;
  const before = tf.memory().numTensors;
  const out = unet.forward(sample, {
    timesteps: fixture(f, "timestep").data,
    encoderHiddenStates: enc,
    classLabels: labels,
  });
  assert.equal(tf.memory().numTensors, before + 1, "forward leaked tensors");
  const want = nhwc(fixture(f, "out"));
  assert.deepEqual(out.shape, want.shape);
  const err = maxRelativeError(out.dataSync(), want.dataSync());
  tf.dispose([sample, enc, out, want]);
  return err;
}

Deno.test("IF stage I UNet (fp16 shards) equals diffusers v0.21.4 within 1e-4", async () => {
  const err = await checkStage("if_tiny_i", "unet_i_io.safetensors");
  console.log(`stage I max relative error ${err.toExponential(2)}`);
  assert.ok(err < 1e-4, `max relative error ${err}`);
});

Deno.test("IF stage II UNet (noise level, 6 input channels, text-only attention) equals diffusers within 1e-4", async () => {
  const err = await checkStage("if_tiny_ii", "unet_ii_io.safetensors");
  console.log(`stage II max relative error ${err.toExponential(2)}`);
  assert.ok(err < 1e-4, `max relative error ${err}`);
});

Deno.test("IF UNet config: unimplemented fields are refused by name and value", () => {
  const base = {
    in_channels: 3,
    out_channels: 6,
    block_out_channels: [8, 16],
    down_block_types: ["ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"],
    up_block_types: ["SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"],
    mid_block_type: "UNetMidBlock2DSimpleCrossAttn",
    cross_attention_dim: 32,
    attention_head_dim: 8,
  };
  assert.equal(ifUNetConfigFromDiffusers(base).timeEmbeddingDim, 32);
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { down_block_types: ["DownBlock2D", "SimpleCrossAttnDownBlock2D"] },
      /'down_block_types\[0\]'.*"DownBlock2D"/,
    ],
    [{ mid_block_type: "UNetMidBlock2DCrossAttn" }, /'mid_block_type'.*"UNetMidBlock2DCrossAttn"/],
    [{ class_embed_type: "projection" }, /'class_embed_type'.*"projection"/],
    [{ addition_embed_type: "text_time" }, /'addition_embed_type'.*"text_time"/],
    [{ class_embeddings_concat: true }, /'class_embeddings_concat'.*true/],
    [{ time_embedding_type: "fourier" }, /'time_embedding_type'.*"fourier"/],
    [
      { encoder_hid_dim: 16, encoder_hid_dim_type: "image_proj" },
      /'encoder_hid_dim_type'.*"image_proj"/,
    ],
    [{ resnet_time_scale_shift: "ada_group" }, /'resnet_time_scale_shift'.*"ada_group"/],
    [{ cross_attention_norm: "layer_norm" }, /'cross_attention_norm'.*"layer_norm"/],
    [{ some_future_field: 3 }, /'some_future_field'.*3/],
    [{ layers_per_block: [1] }, /'layers_per_block'/],
    [{ act_fn: "tanh" }, /'act_fn'.*"tanh"/],
  ];
  for (const [patch, re] of cases) {
    assert.throws(() => ifUNetConfigFromDiffusers({ ...base, ...patch }), re);
  }
});

Deno.test("IF UNet: a missing, extra or misshapen tensor is named", async () => {
  const dir = `${TESTDATA}if_tiny_ii/unet`;
  const config = await readJsonFile(`${dir}/config.json`);
  const w = await readDiffusersWeights(dir);
  const missing = new Map(w);
  missing.delete("mid_block.attentions.0.add_k_proj.weight");
  assert.throws(
    () => new IFUNet(config, missing),
    /'mid_block.attentions.0.add_k_proj.weight' is missing/,
  );
  const extra = new Map(w);
  extra.set("mid_block.attentions.0.to_k.weight", {
    shape: [32, 32],
    data: new Float32Array(1024),
  });
  assert.throws(
    () => new IFUNet(config, extra),
    /'mid_block.attentions.0.to_k.weight' is not a parameter/,
  );
  const bad = new Map(w);
  bad.set("conv_in.bias", { shape: [3], data: new Float32Array(3) });
  assert.throws(() => new IFUNet(config, bad), /'conv_in.bias' has shape \[3\], expected \[16\]/);
  const before = tf.memory().numTensors;
  assert.throws(() => new IFUNet(config, missing));
  assert.equal(tf.memory().numTensors, before, "a failed load leaked tensors");
});

Deno.test("LoRA from diffusers' train_dreambooth_lora file format: adapted forward equals diffusers within 1e-4", async () => {
  const dir = `${TESTDATA}if_tiny_i/unet`;
  using unet = new IFUNet(
    await readJsonFile(`${dir}/config.json`),
    await readDiffusersWeights(dir),
  );
  const lora = await readFixture("if_tiny_i_lora/pytorch_lora_weights.safetensors");
  const io = await readFixture("unet_i_io.safetensors");
  const want = nhwc(fixture(await readFixture("unet_i_lora_io.safetensors"), "out"));
  const sample = nhwc(fixture(io, "sample"));
  const e = fixture(io, "encoder_hidden_states");
  const enc = tf.tensor3d(e.data as Float32Array, e.shape as [number, number, number]);
  const inputs = { timesteps: fixture(io, "timestep").data, encoderHiddenStates: enc };
  const run = () => {
    const out = unet.forward(sample, inputs);
    const err = maxRelativeError(out.dataSync(), want.dataSync());
    out.dispose();
    return err;
  };
  unet.loadLoRA(lora, { scale: 0.6 });
  assert.equal(unet.loraCount, 66);
  const err = run();
  console.log(`LoRA stage I max relative error ${err.toExponential(2)}`);
  assert.ok(err < 1e-4, `max relative error ${err}`);
  // The exported file uses the same names; reloading it in the converted ("pure") format works too.
  const exported = await unet.exportLoRA();
  assert.deepEqual([...exported.keys()].sort(), [...lora.keys()].sort());
  const pure = new Map(
    [...exported].map(([k, v]) => [
      k.replace(".processor", "").replace("to_out_lora", "to_out.0.lora").replace("_lora", ".lora"),
      v,
    ]),
  );
  unet.loadLoRA(pure, { scale: 0.6 });
  assert.ok(run() < 1e-4);
  unet.unloadLoRA();
  assert.ok(run() > 1e-2, "unloading LoRA restores the base model");
  assert.throws(
    () => unet.loadLoRA(new Map([["unet.conv_in.lora.down.weight", lora.values().next().value!]])),
    /'unet.conv_in.lora.down.weight': not a LoRA weight of an attention projection/,
  );
  const half = new Map([...lora].filter(([k]) => !k.endsWith("up.weight")));
  assert.throws(() => unet.loadLoRA(half), /its up weight is missing/);
  tf.dispose([want, sample, enc]);
});
