import assert from "assert";
import { t5ConfigFromHf } from "./t5_config_from_hf.ts";
import { initBackend } from "../deps.ts";
import { T5Encoder } from "./t5_encoder.ts";

await initBackend({ quiet: true });

Deno.test("t5ConfigFromHf: t5-v1_1-small's config.json; original T5 'relu' builds wi; bad values are named", async () => {
  // google/t5-v1_1-small config.json (the fields that matter).
  const v11 = t5ConfigFromHf({
    d_ff: 1024,
    d_kv: 64,
    d_model: 512,
    feed_forward_proj: "gated-gelu",
    num_heads: 6,
    num_layers: 8,
    relative_attention_num_buckets: 32,
    layer_norm_epsilon: 1e-6,
    vocab_size: 32128,
  });
  assert.deepEqual([v11.dModel, v11.numHeads, v11.dFf, v11.numLayers, v11.feedForwardProj], [
    512,
    6,
    1024,
    8,
    "gated-gelu",
  ]);
  const small = {
    vocab_size: 20,
    d_model: 8,
    d_kv: 4,
    num_heads: 2,
    d_ff: 16,
    num_layers: 1,
    feed_forward_proj: "relu",
  };
  using enc = new T5Encoder(t5ConfigFromHf(small));
  assert.ok(enc.params.vars.has("encoder.block.0.layer.1.DenseReluDense.wi.weight"));
  // A file holding only the tied embedding under encoder.embed_tokens.weight loads too.
  const w = await enc.exportWeights();
  w.set("encoder.embed_tokens.weight", w.get("shared.weight")!);
  w.delete("shared.weight");
  enc.loadWeights(w);
  assert.throws(
    () => t5ConfigFromHf({ ...small, feed_forward_proj: "swish" }),
    /'feed_forward_proj' must be "gated-gelu" or "relu": current value is "swish"/,
  );
  assert.throws(
    () => t5ConfigFromHf({ ...small, d_model: 0 }),
    /'dModel' must be a positive integer: current value is 0/,
  );
});
