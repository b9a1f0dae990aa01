import assert from "assert";
import { initBackend, tf } from "../deps.ts";
import { UNet } from "./unet.ts";
import { T5Encoder } from "./t5_encoder.ts";
import { createLoRAConfig, type LoRASet } from "./lora.ts";

await initBackend({ quiet: true });

const NET = {
  imageSize: 8,
  channels: 8,
  channelMult: [1, 2],
  numResBlocks: [1, 1],
  attentionResolutions: [4],
  crossAttentionResolutions: [4],
  headChannels: 8,
  textDim: 12,
  groups: 4,
};
const ENC = { vocabSize: 12, dModel: 12, dKv: 6, numHeads: 2, dFf: 24, numLayers: 2 };

/** A seeded input and condition (text included). */
function inputs() {
  return {
    zt: tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 3) as tf.Tensor4D,
    cond: {
      logSnr: tf.tensor1d([-2, 3]),
      text: {
        tokens: tf.randomNormal([2, 4, 12], 0, 1, "float32", 4) as tf.Tensor3D,
        pooled: tf.randomNormal([2, 12], 0, 1, "float32", 5) as tf.Tensor2D,
        mask: tf.tensor2d([1, 1, 1, 0, 1, 1, 0, 0], [2, 4]),
      },
    },
  };
}

/** A UNet whose zero-initialised output layers are random, so every layer reaches the output. */
function net(seed = 1): UNet {
  const n = new UNet(NET, { seed });
  for (const [name, v] of n.params.vars) {
    if (/(out\.conv|conv2|\.out)\.weight$/.test(name)) {
      tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.2, "float32", 7)));
    }
  }
  return n;
}

/** Sets every up-projection to random values (a trained adapter's stand-in). */
function randomUps(set: LoRASet): void {
  let s = 11;
  for (const [name, v] of set.params.vars) {
    if (name.endsWith("lora_up.weight")) {
      tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.3, "float32", s++)));
    }
  }
}

const run = (n: UNet) =>
  tf.tidy(() => {
    const { zt, cond } = inputs();
    return n.apply(zt, cond).dataSync() as Float32Array;
  });
const maxDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

Deno.test("LoRA: zero-initialised up-projection gives the base output at step 0", () => {
  using n = net();
  const base = run(n);
  n.addLoRA({ config: { rank: 2, targets: "attn+conv" }, seed: 3 });
  assert.deepEqual(run(n), base);
});

Deno.test("LoRA: scale 0 equals the base model; scale 1 differs; merged equals adapted within 1e-5", () => {
  const before = tf.memory().numTensors;
  {
    using n = net();
    const base = run(n);
    const set = n.addLoRA({ config: { rank: 3, alpha: 6, targets: "attn+conv" }, seed: 3 });
    randomUps(set);
    const adapted = run(n);
    assert.ok(maxDiff(adapted, base) > 1e-3, "a non-zero adapter changes the output");
    set.scale = 0;
    assert.deepEqual(run(n), base);
    set.scale = 1;
    n.mergeLoRA();
    assert.equal(n.lora, null);
    assert.ok(maxDiff(run(n), adapted) < 1e-5, `merged differs by ${maxDiff(run(n), adapted)}`);
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("LoRA: attn+conv adapts more layers than attn, far fewer parameters than the model", () => {
  using n = net();
  const attn = n.addLoRA({ config: { rank: 2 } });
  const attnCount = attn.targets.size, attnParams = attn.numParams;
  assert.ok([...attn.targets.keys()].every((k) => /\.(self|cross)\.(q|k|v|out)$/.test(k)));
  const both = n.addLoRA({ config: { rank: 2, targets: "attn+conv" } });
  assert.ok(both.targets.size > attnCount, `${both.targets.size} > ${attnCount}`);
  assert.ok(both.numParams > attnParams);
  assert.ok(both.numParams < n.numParams / 4, `${both.numParams} ≪ ${n.numParams}`);
});

Deno.test("LoRA: export and load round-trip through the UNet's weights", async () => {
  using a = net();
  randomUps(a.addLoRA({ config: { rank: 2 }, seed: 1 }));
  const w = await a.exportWeights();
  assert.ok([...w.keys()].some((k) => k.startsWith("lora.")));
  using b = net(5);
  assert.throws(() => b.loadWeights(w), /LoRA adapters .* none are attached/);
  b.addLoRA({ config: { rank: 2 }, seed: 9 });
  b.loadWeights(w);
  assert.deepEqual(run(b), run(a));
});

Deno.test("LoRA: text-encoder adapters change its output and merge exactly", () => {
  using enc = new T5Encoder(ENC, { seed: 2 });
  const ids = Int32Array.from([3, 4, 5, 1]), mask = Uint8Array.from([1, 1, 1, 1]);
  const out = () =>
    tf.tidy(() => enc.encode(ids, mask).tokens.dataSync() as Float32Array) as Float32Array;
  const base = out();
  const set = enc.addLoRA({ config: { rank: 2 }, seed: 1 });
  assert.equal(set.targets.size, 4 * ENC.numLayers);
  assert.deepEqual(out(), base);
  randomUps(set);
  const adapted = out();
  assert.ok(maxDiff(adapted, base) > 1e-3);
  enc.mergeLoRA();
  assert.ok(maxDiff(out(), adapted) < 1e-5);
});

Deno.test("LoRA config: bad rank, alpha and targets are refused naming the value", () => {
  assert.throws(
    () => createLoRAConfig({ rank: 0 }),
    /'rank' must be a positive integer: current value is 0/,
  );
  assert.throws(() => createLoRAConfig({ rank: 1.5 }), /'rank'.*1\.5/);
  assert.throws(
    () => createLoRAConfig({ alpha: 0 }),
    /'alpha' must be a finite number > 0: current value is 0/,
  );
  assert.throws(
    () => createLoRAConfig({ targets: "mlp" as "attn" }),
    /'targets'.*"mlp"/,
  );
  assert.equal(createLoRAConfig({ rank: 8, alpha: 4 }).alpha, 4);
});
