import assert from "assert";
import { initBackend, tf } from "../deps.ts";
import { T5Encoder } from "./t5_encoder.ts";
import { type NamedTensor, readSafetensors, writeSafetensors } from "../io/safetensors.ts";
import { relativePositionBucket } from "./relative_position_bucket.ts";
import { WordTokenizer } from "../text/word_tokenizer.ts";

await initBackend({ quiet: true });

const CFG = { vocabSize: 11, dModel: 8, dKv: 3, numHeads: 2, dFf: 5, numLayers: 2, maxLength: 4 };

/** HF T5 encoder tensors, written by hand: names, [out, in] layouts, deterministic values. */
function hfTensors(extra: Record<string, NamedTensor> = {}): Record<string, NamedTensor> {
  let seed = 1;
  const rand = (n: number) =>
    Float32Array.from(
      { length: n },
      () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5),
    );
  const t = (shape: number[]): NamedTensor => ({
    shape,
    data: rand(shape.reduce((a, b) => a * b, 1)),
  });
  const inner = CFG.numHeads * CFG.dKv;
  const out: Record<string, NamedTensor> = {
    "shared.weight": t([CFG.vocabSize, CFG.dModel]),
    "encoder.final_layer_norm.weight": t([CFG.dModel]),
    "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight": t([32, CFG.numHeads]),
    // A full T5 file also holds these; the encoder ignores them.
    "encoder.embed_tokens.weight": t([CFG.vocabSize, CFG.dModel]),
    "decoder.final_layer_norm.weight": t([CFG.dModel]),
  };
  for (let i = 0; i < CFG.numLayers; i++) {
    const a = `encoder.block.${i}.layer.0.`;
    for (const k of ["q", "k", "v"]) out[`${a}SelfAttention.${k}.weight`] = t([inner, CFG.dModel]);
    out[`${a}SelfAttention.o.weight`] = t([CFG.dModel, inner]);
    out[`${a}layer_norm.weight`] = t([CFG.dModel]);
    const f = `encoder.block.${i}.layer.1.`;
    out[`${f}DenseReluDense.wi_0.weight`] = t([CFG.dFf, CFG.dModel]);
    out[`${f}DenseReluDense.wi_1.weight`] = t([CFG.dFf, CFG.dModel]);
    out[`${f}DenseReluDense.wo.weight`] = t([CFG.dModel, CFG.dFf]);
    out[`${f}layer_norm.weight`] = t([CFG.dModel]);
  }
  return { ...out, ...extra };
}

/** A plain-JS T5 encoder forward, straight from the HF definition, for one sequence. */
function reference(w: Record<string, NamedTensor>, ids: number[], mask: number[]): number[][] {
  const D = CFG.dModel, H = CFG.numHeads, K = CFG.dKv, L = ids.length;
  const W = (n: string) => w[n].data as Float32Array;
  const lin = (x: number[], name: string, outDim: number) =>
    // y = W x with W [out, in]
    Array.from({ length: outDim }, (_, o) =>
      x.reduce((s, v, i) => s + W(name)[o * x.length + i] * v, 0));
  const rms = (x: number[], name: string) => {
    const r = 1 / Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length + 1e-6);
    return x.map((v, i) => v * r * W(name)[i]);
  };
  const gelu = (x: number) =>
    0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  let h = ids.map((id) => Array.from(W("shared.weight").subarray(id * D, (id + 1) * D)));
  const rel = W("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
  for (let l = 0; l < CFG.numLayers; l++) {
    const a = `encoder.block.${l}.layer.0.`;
    const n = h.map((x) => rms(x, `${a}layer_norm.weight`));
    const q = n.map((x) => lin(x, `${a}SelfAttention.q.weight`, H * K));
    const k = n.map((x) => lin(x, `${a}SelfAttention.k.weight`, H * K));
    const v = n.map((x) => lin(x, `${a}SelfAttention.v.weight`, H * K));
    const att = Array.from({ length: L }, () => new Array(H * K).fill(0));
    for (let hd = 0; hd < H; hd++) {
      for (let i = 0; i < L; i++) {
        const s = Array.from({ length: L }, (_, j) => {
          let dot = 0;
          for (let c = 0; c < K; c++) dot += q[i][hd * K + c] * k[j][hd * K + c];
          return dot + rel[relativePositionBucket(j - i) * H + hd] + (mask[j] ? 0 : -1e9);
        });
        const m = Math.max(...s);
        const e = s.map((x) => Math.exp(x - m));
        const z = e.reduce((x, y) => x + y, 0);
        for (let j = 0; j < L; j++) {
          for (let c = 0; c < K; c++) att[i][hd * K + c] += (e[j] / z) * v[j][hd * K + c];
        }
      }
    }
    h = h.map((x, i) => lin(att[i], `${a}SelfAttention.o.weight`, D).map((y, d) => x[d] + y));
    const f = `encoder.block.${l}.layer.1.`;
    h = h.map((x) => {
      const nn = rms(x, `${f}layer_norm.weight`);
      const g0 = lin(nn, `${f}DenseReluDense.wi_0.weight`, CFG.dFf);
      const g1 = lin(nn, `${f}DenseReluDense.wi_1.weight`, CFG.dFf);
      return lin(g0.map((g, i) => gelu(g) * g1[i]), `${f}DenseReluDense.wo.weight`, D).map((y, d) =>
        x[d] + y
      );
    });
  }
  return h.map((x) => rms(x, "encoder.final_layer_norm.weight"));
}

Deno.test("T5Encoder: loads a safetensors file with HF names and matches a plain-JS T5 forward", async () => {
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  const tensors = hfTensors();
  await writeSafetensors(path, tensors);
  const before = tf.memory().numTensors;
  try {
    using enc = new T5Encoder(CFG);
    enc.loadWeights((await readSafetensors(path)).tensors);
    const ids = [4, 7, 1, 0];
    const mask = [1, 1, 1, 0];
    const out = enc.encode(new Int32Array(ids), new Uint8Array(mask));
    const got = out.tokens.arraySync()[0];
    const ref = reference(tensors, ids, mask);
    for (let i = 0; i < 3; i++) {
      for (let d = 0; d < CFG.dModel; d++) {
        assert.ok(
          Math.abs(got[i][d] - ref[i][d]) < 1e-4,
          `token ${i} dim ${d}: ${got[i][d]} vs ${ref[i][d]}`,
        );
      }
    }
    // pooled = mean of the 3 real tokens
    const pooled = out.pooled.arraySync()[0];
    for (let d = 0; d < CFG.dModel; d++) {
      assert.ok(Math.abs(pooled[d] - (ref[0][d] + ref[1][d] + ref[2][d]) / 3) < 1e-4);
    }
    out.tokens.dispose();
    out.pooled.dispose();
    out.mask.dispose();
  } finally {
    await Deno.remove(path);
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("T5Encoder: a missing name, an extra encoder name or a wrong shape fails naming the tensor", () => {
  using enc = new T5Encoder(CFG);
  const missing = new Map(Object.entries(hfTensors()));
  missing.delete("encoder.block.1.layer.0.SelfAttention.k.weight");
  assert.throws(
    () => enc.loadWeights(missing),
    /tensor 'encoder\.block\.1\.layer\.0\.SelfAttention\.k\.weight' is missing/,
  );
  const wrong = new Map(Object.entries(hfTensors({
    "encoder.block.0.layer.1.DenseReluDense.wo.weight": {
      shape: [CFG.dFf, CFG.dModel],
      data: new Float32Array(40),
    },
  })));
  assert.throws(
    () => enc.loadWeights(wrong),
    /tensor 'encoder\.block\.0\.layer\.1\.DenseReluDense\.wo\.weight' has shape \[5,8\] but the model expects \[8,5\]/,
  );
  const extra = new Map(Object.entries(hfTensors({
    "encoder.block.2.layer.0.layer_norm.weight": { shape: [CFG.dModel], data: new Float32Array(8) },
  })));
  assert.throws(
    () => enc.loadWeights(extra),
    /tensor 'encoder\.block\.2\.layer\.0\.layer_norm\.weight' is not a parameter/,
  );
});

Deno.test("T5Encoder: padding does not change the real tokens' outputs; no tensor leaks", () => {
  using enc = new T5Encoder({ ...CFG, maxLength: 6 }, { seed: 3 });
  const tok = new WordTokenizer(["a", "red", "dog", "cat"]);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const a = enc.encode(new Int32Array([3, 4, 5, 1, 0, 0]), new Uint8Array([1, 1, 1, 1, 0, 0]));
    const b = enc.encode(new Int32Array([3, 4, 5, 1]), new Uint8Array([1, 1, 1, 1]));
    const ta = tf.slice(a.tokens, [0, 0, 0], [1, 4, CFG.dModel]);
    assert.ok(tf.max(tf.abs(tf.sub(ta, b.tokens))).dataSync()[0] < 1e-5);
    assert.ok(tf.max(tf.abs(tf.sub(a.pooled, b.pooled))).dataSync()[0] < 1e-5);
    const e = enc.encodePrompts(tok, ["a red dog", "a cat"]);
    assert.deepEqual(e.tokens.shape, [2, 6, CFG.dModel]);
    assert.deepEqual(Array.from(e.mask.dataSync()), [1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0]);
  });
  assert.equal(tf.memory().numTensors, before);
  assert.throws(
    () => enc.encode(new Int32Array([99]), new Uint8Array([1])),
    /token id 99 is outside the vocabulary \[0, 11\)/,
  );
});

Deno.test("T5Encoder.storeHalf: half the bytes, outputs within 16-bit rounding, export/load, no leaks", async () => {
  const cfg = { ...CFG, dModel: 32, dKv: 8, numHeads: 4, dFf: 64, numLayers: 2, maxLength: 6 };
  const ids = new Int32Array([3, 4, 5, 1, 0, 0]), mask = new Uint8Array([1, 1, 1, 1, 0, 0]);
  for (const [dtype, tol] of [["float16", 2e-3], ["bfloat16", 2e-2]] as const) {
    using ref = new T5Encoder(cfg, { seed: 4 });
    const want = ref.encode(ids, mask);
    const enc = new T5Encoder(cfg, { seed: 4 });
    const before = tf.memory();
    await enc.storeHalf(dtype);
    const after = tf.memory();
    // Every tensor has an even size here: exactly half of the float32 bytes are freed.
    assert.equal(before.numBytes - after.numBytes, enc.numParams * 2);
    assert.equal(after.numBytes - (before.numBytes - enc.numParams * 4), enc.numParams * 2);
    assert.ok(enc.isHalf);
    const got = enc.encode(ids, mask);
    assert.equal(tf.memory().numTensors, after.numTensors + 3);
    for (const k of ["tokens", "pooled"] as const) {
      const err = tf.tidy(() =>
        tf.div(tf.max(tf.abs(tf.sub(got[k], want[k]))), tf.max(tf.abs(want[k]))).dataSync()[0]
      );
      assert.ok(err < tol, `${dtype} ${k}: ${err}`);
    }
    // Export widens; loading them back into a half encoder rounds to the same 16-bit values.
    const exported = await enc.exportWeights();
    assert.equal(exported.get("shared.weight")!.data.length, cfg.vocabSize * cfg.dModel);
    enc.loadWeights(exported);
    const again = enc.encode(ids, mask);
    assert.deepEqual(Array.from(again.tokens.dataSync()), Array.from(got.tokens.dataSync()));
    tf.dispose([want.tokens, want.pooled, want.mask, got.tokens, got.pooled, got.mask]);
    tf.dispose([again.tokens, again.pooled, again.mask]);
    assert.equal(tf.memory().numTensors, after.numTensors - 3); // `want` was counted in `after`
    enc.dispose();
  }
  using enc = new T5Encoder(CFG);
  await assert.rejects(
    () => enc.storeHalf("half" as "float16"),
    /'dtype' must be bfloat16 or float16: current value is "half"/,
  );
});
