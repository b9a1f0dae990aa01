import assert from "assert";
import { initBackend, tf } from "../deps.ts";
import { UNet } from "./unet.ts";

await initBackend({ quiet: true });

const BASE = {
  imageSize: 16,
  channels: 8,
  channelMult: [1, 2, 2],
  numResBlocks: [1, 2, 1],
  attentionResolutions: [4],
  crossAttentionResolutions: [8, 4],
  headChannels: 8,
  textDim: 12,
};

function text(b: number, l = 5, d = 12) {
  return {
    tokens: tf.randomNormal([b, l, d], 0, 1, "float32", 1) as tf.Tensor3D,
    pooled: tf.randomNormal([b, d], 0, 1, "float32", 2) as tf.Tensor2D,
    mask: tf.tensor2d(Array.from({ length: b * l }, (_, i) => (i % l < 3 ? 1 : 0)), [b, l]),
  };
}

Deno.test("UNet: shapes, parameter count without allocation, gradients reach every weight, no leaks", () => {
  const before = tf.memory().numTensors;
  using net = new UNet(BASE, { seed: 1 });
  assert.equal(UNet.countParams(BASE), net.numParams);
  tf.tidy(() => {
    const zt = tf.randomNormal([2, 16, 16, 3], 0, 1, "float32", 3) as tf.Tensor4D;
    const cond = { logSnr: tf.tensor1d([-3, 4]), text: text(2), keep: tf.tensor1d([1, 0]) };
    const y = net.apply(zt, cond);
    assert.deepEqual(y.shape, [2, 16, 16, 3]);
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.square(net.apply(zt, cond))) as tf.Scalar,
      net.variables,
    );
    // Zero-initialised output layers block gradients to the layers before them at step 0, so check
    // that every weight at least has a gradient of the right shape.
    for (const v of net.variables) assert.deepEqual(grads[v.name]?.shape, v.shape);
  });
  const inUse = tf.memory().numTensors;
  net.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.ok(inUse > before);
});

Deno.test("UNet: keep = 0 equals the null condition; the text changes the output", () => {
  using net = new UNet(BASE, { seed: 2 });
  // Give the output layers weights so that the output depends on everything.
  for (const [name, v] of net.params.vars) {
    if (/out\.weight$|out\.conv\.weight$|conv2\.weight$/.test(name)) {
      tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.05, "float32", 4)));
    }
  }
  tf.tidy(() => {
    const zt = tf.randomNormal([2, 16, 16, 3], 0, 1, "float32", 3) as tf.Tensor4D;
    const t = text(2);
    const logSnr = tf.tensor1d([0, 0]);
    const dropped = net.apply(zt, { logSnr, text: t, keep: tf.tensor1d([0, 0]) });
    const none = net.apply(zt, { logSnr, text: null });
    assert.ok(tf.max(tf.abs(tf.sub(dropped, none))).dataSync()[0] < 1e-5);
    const withText = net.apply(zt, { logSnr, text: t });
    assert.ok(tf.max(tf.abs(tf.sub(withText, none))).dataSync()[0] > 1e-3);
    // Mixed keep: example 0 conditional, example 1 null.
    const mixed = net.apply(zt, { logSnr, text: t, keep: tf.tensor1d([1, 0]) });
    const d0 =
      tf.max(tf.abs(tf.sub(tf.slice(mixed, 0, 1), tf.slice(withText, 0, 1)))).dataSync()[0];
    const d1 = tf.max(tf.abs(tf.sub(tf.slice(mixed, 1, 1), tf.slice(none, 1, 1)))).dataSync()[0];
    assert.ok(d0 < 1e-5 && d1 < 1e-5, `${d0} ${d1}`);
  });
});

Deno.test("UNet: super-resolution mode takes the low-res image and t_aug, and any size divisible by 2^(levels−1)", () => {
  const sr = {
    ...BASE,
    lowResChannels: 3,
    crossAttentionResolutions: [],
    attentionResolutions: [],
  };
  using net = new UNet(sr, { seed: 3 });
  tf.tidy(() => {
    for (const size of [16, 8, 24]) {
      const zt = tf.zeros([1, size, size, 3]) as tf.Tensor4D;
      const y = net.apply(zt, {
        logSnr: tf.tensor1d([1]),
        text: null,
        lowRes: tf.zeros([1, size, size, 3]) as tf.Tensor4D,
        augLogSnr: tf.tensor1d([5]),
      });
      assert.deepEqual(y.shape, [1, size, size, 3]);
    }
    assert.throws(
      () => net.apply(tf.zeros([1, 16, 16, 3]) as tf.Tensor4D, { logSnr: tf.tensor1d([1]) }),
      /needs 'lowRes' and 'augLogSnr'/,
    );
    assert.throws(
      () => net.apply(tf.zeros([1, 10, 10, 3]) as tf.Tensor4D, { logSnr: tf.tensor1d([1]) }),
      /'zt' must have shape \[B, 16, 16, 3\] \(or sides divisible by 4\): current shape is \[1,10,10,3\]/,
    );
  });
});

Deno.test("UNet: config validation names the value; weights round-trip through export/load", async () => {
  assert.throws(
    () => new UNet({ ...BASE, numResBlocks: [1, 1] }),
    /'numResBlocks' must have one entry per level \(3\)/,
  );
  assert.throws(
    () => new UNet({ ...BASE, imageSize: 18 }),
    /'imageSize' must be divisible by 4 for 3 levels: current value is 18/,
  );
  assert.throws(
    () => new UNet({ ...BASE, prediction: "score" as "x" }),
    /'prediction' must be one of/,
  );
  using a = new UNet(BASE, { seed: 1 });
  using b = new UNet(BASE, { seed: 2 });
  const w = await a.exportWeights();
  b.loadWeights(w);
  for (const [name, v] of b.params.vars) {
    assert.deepEqual(v.dataSync(), w.get(name)!.data);
  }
  w.set("mid.0.res.conv1.weight", {
    shape: [3, 3, 16, 15],
    data: new Float32Array(3 * 3 * 16 * 15),
  });
  assert.throws(
    () => b.loadWeights(w),
    /tensor 'mid\.0\.res\.conv1\.weight' has shape \[3,3,16,15\] but the model expects \[3,3,16,16\]/,
  );
});

Deno.test("UNet: the fused GroupNorm matches the composed reference, values and gradients", async () => {
  const { groupNorm, groupNormComposed } = await import("./_layers.ts");
  tf.tidy(() => {
    const x = tf.randomNormal([2, 4, 4, 8], 0, 2, "float32", 1) as tf.Tensor4D;
    const g = tf.randomNormal([8], 1, 0.2, "float32", 2);
    const b = tf.randomNormal([8], 0, 0.2, "float32", 3);
    const w = tf.randomNormal([2, 4, 4, 8], 0, 1, "float32", 4);
    const d = (a: tf.Tensor, c: tf.Tensor) => tf.max(tf.abs(tf.sub(a, c))).dataSync()[0];
    assert.ok(d(groupNorm(x, g, b, 4), groupNormComposed(x, g, b, 4)) < 1e-5);
    const f = (gn: typeof groupNorm) => (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(gn(xx as tf.Tensor4D, gg, bb, 4), w));
    const g1 = tf.grads(f(groupNorm))([x, g, b]);
    const g2 = tf.grads(f(groupNormComposed))([x, g, b]);
    g1.forEach((t, i) => assert.ok(d(t, g2[i]) < 1e-4));
  });
});
