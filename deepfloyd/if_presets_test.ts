import assert from "assert";
import {
  IF_PRESET_NAMES,
  ifPreset,
  ifUNetParameterCount,
  t5EncoderParameterCount,
} from "./if_presets.ts";
import { ifUNetConfigFromDiffusers } from "./if_unet_config.ts";

Deno.test("IF presets: parameter counts (from the configs, nothing allocated) match the published sizes", () => {
  const m = ifPreset("if-i-m"), ii = ifPreset("if-ii-m"), t5 = ifPreset("t5-v1_1-xxl");
  const nI = ifUNetParameterCount(m.config);
  const nII = ifUNetParameterCount(ii.config);
  const nT5 = t5EncoderParameterCount(t5.config);
  // Pinned exact counts of these configs, and the published figure each rounds to.
  assert.equal(nI, 371_605_830);
  assert.equal(nII, 448_878_374);
  assert.equal(nT5, 4_762_310_656);
  assert.equal(Number((nI / 1e9).toFixed(1)), 0.4); // deep-floyd/IF README: IF-I-M 400M
  assert.ok(Math.abs(nII / ii.publishedParams - 1) < 0.01, `${nII}`); // IF-II-M 450M
  assert.equal(Number((nT5 / 1e9).toFixed(1)), 4.8); // "4.7 B": 4.76 B, T5-XXL encoder
  assert.ok(Math.abs(nT5 / t5.publishedParams - 1) < 0.02, `${nT5}`);
});

Deno.test("IF presets: UNet configs validate; copies are independent; unknown names are refused", () => {
  for (const name of IF_PRESET_NAMES) {
    const p = ifPreset(name);
    if (p.kind === "unet") {
      const c = ifUNetConfigFromDiffusers(p.config);
      assert.equal(c.outChannels, 6);
      assert.equal(c.encoderHidDim, 4096);
    }
  }
  assert.equal(ifUNetConfigFromDiffusers(ifPreset("if-ii-m").config).classEmbedType, "timestep");
  const a = ifPreset("if-i-m");
  (a.config.block_out_channels as number[])[0] = 1;
  assert.deepEqual(ifPreset("if-i-m").config.block_out_channels, [192, 384, 576, 768]);
  assert.throws(() => ifPreset("if-i-xl" as "if-i-m"), /'name' "if-i-xl"/);
  assert.throws(() => t5EncoderParameterCount({ d_model: 0 }), /'d_model'/);
});
