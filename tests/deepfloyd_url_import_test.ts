/**
 * deepfloyd/mod.ts imported by URL from a scratch folder with `--no-config`: builds a tiny IF UNet
 * with random weights, runs it, and steps IF's DDPM scheduler once.
 */
import assert from "assert";
import { explain, withServedCheckout } from "./_url_import.ts";

Deno.test("deepfloyd/mod.ts imports by URL without deno.json and runs a tiny IF UNet", async () => {
  await withServedCheckout(async ({ base, run }) => {
    const r = await run(`import { initBackend, tf } from "${base}backend/mod.ts";
import * as m from "${base}deepfloyd/mod.ts";
await initBackend({ quiet: true });
using unet = m.IFUNet.random({
  in_channels: 3, out_channels: 6, block_out_channels: [8, 8], layers_per_block: 1,
  down_block_types: ["ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"],
  up_block_types: ["SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"],
  mid_block_type: "UNetMidBlock2DSimpleCrossAttn", cross_attention_dim: 32, attention_head_dim: 4,
  norm_num_groups: 4, encoder_hid_dim: 8, addition_embed_type: "text", addition_embed_type_num_heads: 2,
  resnet_time_scale_shift: "scale_shift", act_fn: "gelu", cross_attention_norm: "group_norm",
}, { seed: 1 });
const x = tf.randomNormal([1, 4, 4, 3], 0, 1, "float32", 2);
const out = unet.forward(x, { timesteps: [999], encoderHiddenStates: tf.randomNormal([1, 3, 8], 0, 1, "float32", 3) });
const s = new m.DDPMScheduler({ beta_schedule: "squaredcos_cap_v2", variance_type: "learned_range", thresholding: true });
const r = await s.step(out, s.timesteps(1)[0], x, { steps: 1 });
console.log(out.shape.join() === "1,4,4,6" && r.prevSample.shape.join() === "1,4,4,3" ? "OK" : "bad " + out.shape);
Deno.exit(0);
`);
    assert.ok(r.success && r.lastLine === "OK", explain(r));
  });
});
