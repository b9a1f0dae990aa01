import assert from "assert";
import { DEFAULT_SCHEDULE, diffusionLoss, initBackend, T5Encoder, tf, UNet } from "./deps.ts";
import { type BatchLoss, NonFiniteLossError, StageTrainer } from "./stage_trainer.ts";

await initBackend({ quiet: true });

const netConfig = {
  imageSize: 8,
  channels: 8,
  channelMult: [1, 2],
  numResBlocks: [1, 1],
  attentionResolutions: [],
  crossAttentionResolutions: [4],
  headChannels: 8,
  textDim: 16,
  groups: 4,
};
const encConfig = {
  vocabSize: 12,
  dModel: 16,
  dKv: 8,
  numHeads: 2,
  dFf: 32,
  numLayers: 1,
  maxLength: 4,
};
const tokens = {
  ids: Int32Array.from([3, 4, 1, 0, 5, 6, 7, 1]),
  mask: Uint8Array.from([1, 1, 1, 0, 1, 1, 1, 1]),
};
const images = (seed: number) =>
  tf.randomUniform([2, 8, 8, 3], -1, 1, "float32", seed) as tf.Tensor4D;
const weightsOf = (m: { params: { vars: Map<string, tf.Variable> } }) =>
  [...m.params.vars.entries()].map(([k, v]) => [k, Array.from(v.dataSync())] as const);

Deno.test("StageTrainer: a state restored in fresh models continues bit for bit", () => {
  const x = images(1);
  const run = (split: number | null) => {
    let net = new UNet(netConfig, { seed: 1 });
    let enc = new T5Encoder(encConfig, { seed: 2 });
    let tr = new StageTrainer(net, {
      schedule: DEFAULT_SCHEDULE,
      textEncoder: enc,
      trainTextEncoder: true,
      seed: 9,
    });
    const losses: number[] = [];
    for (let s = 0; s < 4; s++) {
      if (split !== null && s === split) {
        const state = tr.getState();
        const wNet = weightsOf(net), wEnc = weightsOf(enc);
        tr.dispose(), net.dispose(), enc.dispose();
        net = new UNet(netConfig, { seed: 77 });
        enc = new T5Encoder(encConfig, { seed: 78 });
        for (const [k, v] of wNet) net.params.get(k).assign(tf.tensor(v, net.params.get(k).shape));
        for (const [k, v] of wEnc) enc.params.get(k).assign(tf.tensor(v, enc.params.get(k).shape));
        tr = new StageTrainer(net, {
          schedule: DEFAULT_SCHEDULE,
          textEncoder: enc,
          trainTextEncoder: true,
          seed: 9,
        });
        tr.setState(state);
      }
      losses.push(tr.trainStep({ xStart: x, tokens }).loss);
    }
    const out = { losses, net: weightsOf(net), enc: weightsOf(enc), step: tr.step };
    tr.dispose(), net.dispose(), enc.dispose();
    return out;
  };
  const a = run(null), b = run(2);
  assert.deepEqual(b.losses, a.losses);
  assert.deepEqual(b.net, a.net);
  assert.deepEqual(b.enc, a.enc);
  assert.equal(b.step, 4);
  x.dispose();
});

Deno.test("StageTrainer: NaN images stop the step before any update", () => {
  using net = new UNet({ ...netConfig, textDim: 0, crossAttentionResolutions: [] }, { seed: 1 });
  using tr = new StageTrainer(net, { schedule: DEFAULT_SCHEDULE });
  const before = weightsOf(net);
  const bad = tf.fill([2, 8, 8, 3], NaN) as tf.Tensor4D;
  assert.throws(() => tr.trainStep({ xStart: bad }), (e: unknown) => {
    assert.ok(e instanceof NonFiniteLossError);
    assert.match((e as Error).message, /step 1.*not finite/);
    return true;
  });
  assert.equal(tr.step, 0);
  assert.deepEqual(weightsOf(net), before);
  bad.dispose();
});

Deno.test("StageTrainer: the batch's loss closure replaces Eq. 1 and receives the step's targets", () => {
  const x = images(2);
  const lossWith = (loss: BatchLoss | null) => {
    using net = new UNet(netConfig, { seed: 1 });
    using enc = new T5Encoder(encConfig, { seed: 2 });
    using tr = new StageTrainer(net, { schedule: DEFAULT_SCHEDULE, textEncoder: enc, seed: 4 });
    return tr.trainStep({ xStart: x, tokens, loss }).loss;
  };
  const plain = lossWith(null);
  assert.equal(lossWith((p, t) => diffusionLoss(p, t)), plain);
  assert.ok(
    Math.abs(lossWith((p, t) => tf.mul(diffusionLoss(p, t), 2) as tf.Scalar) - 2 * plain) <
      1e-6 * plain,
  );
  // Row 0 alone + row 1 alone, each a mean over its own row: twice the plain mean.
  const row = (i: number): BatchLoss => (p, t) =>
    diffusionLoss(tf.slice(p, [i, 0, 0, 0], [1, -1, -1, -1]), {
      ...t,
      xStart: tf.slice(t.xStart, [i, 0, 0, 0], [1, -1, -1, -1]),
      noise: tf.slice(t.noise, [i, 0, 0, 0], [1, -1, -1, -1]),
      logSnr: [t.logSnr[i]],
    });
  assert.ok(Math.abs(lossWith(row(0)) + lossWith(row(1)) - 2 * plain) < 1e-5 * plain);
  x.dispose();
});

Deno.test("StageTrainer: per-pixel weights (all ones: the plain loss; a map weights its pixels; wrong shape refused)", () => {
  const x = images(2);
  const [b, h, w] = x.shape;
  const lossWith = (pw: tf.Tensor4D | null, loss: BatchLoss | null = null) => {
    using net = new UNet(netConfig, { seed: 1 });
    using enc = new T5Encoder(encConfig, { seed: 2 });
    using tr = new StageTrainer(net, { schedule: DEFAULT_SCHEDULE, textEncoder: enc, seed: 4 });
    return tr.trainStep({ xStart: x, tokens, pixelWeights: pw, loss }).loss;
  };
  const plain = lossWith(null);
  const ones = tf.ones([b, h, w, 1]) as tf.Tensor4D;
  assert.ok(Math.abs(lossWith(ones) - plain) < 1e-6 * plain);
  // Weight only the left half: the loss is the left half's mean error, not the plain mean.
  const left = tf.tidy(() =>
    tf.concat([tf.ones([b, h, w / 2, 1]), tf.zeros([b, h, w / 2, 1])], 2) as tf.Tensor4D
  );
  const right = tf.tidy(() => tf.sub(1, left) as tf.Tensor4D);
  const l = lossWith(left), r = lossWith(right);
  assert.ok(l !== plain && r !== plain);
  // Halves of equal size: the plain mean is the mean of the two halves' means.
  assert.ok(Math.abs((l + r) / 2 - plain) < 1e-5 * plain, `${l} ${r} ${plain}`);
  // A loss closure receives the pixel weights among its targets.
  assert.ok(
    Math.abs(lossWith(left, (p, t) => tf.mul(diffusionLoss(p, t), 2) as tf.Scalar) - 2 * l) <
      1e-5 * l,
  );
  const before = tf.memory().numTensors;
  assert.throws(
    () => lossWith(tf.ones([b, h, w, 3]) as tf.Tensor4D),
    /'pixelWeights' must have shape/,
  );
  assert.equal(tf.memory().numTensors, before + 1); // only the refused map itself
  tf.dispose([x, ones, left, right]);
});

Deno.test("StageTrainer: the text encoder changes only when trained; no tensor leaks", () => {
  const x = images(3);
  for (const train of [false, true]) {
    using net = new UNet(netConfig, { seed: 1 });
    using enc = new T5Encoder(encConfig, { seed: 2 });
    using tr = new StageTrainer(net, {
      schedule: DEFAULT_SCHEDULE,
      textEncoder: enc,
      trainTextEncoder: train,
    });
    const before = weightsOf(enc);
    tr.trainStep({ xStart: x, tokens });
    const n = tf.memory().numTensors;
    tr.trainStep({ xStart: x, tokens });
    assert.equal(tf.memory().numTensors, n);
    // The output convolutions start at zero: the text gets a gradient from step 4 on.
    for (let i = 0; i < 4; i++) tr.trainStep({ xStart: x, tokens });
    assert.equal(JSON.stringify(weightsOf(enc)) === JSON.stringify(before), !train);
  }
  x.dispose();
});

Deno.test("StageTrainer: SR steps with crops and t_aug; bad options name the value", () => {
  using net = new UNet({
    ...netConfig,
    imageSize: 8,
    lowResChannels: 3,
    textDim: 0,
    crossAttentionResolutions: [],
  });
  using tr = new StageTrainer(net, { schedule: DEFAULT_SCHEDULE, cropSize: 4 });
  const hi = images(4);
  const lo = tf.randomUniform([2, 2, 2, 3], -1, 1, "float32", 5) as tf.Tensor4D;
  assert.ok(Number.isFinite(tr.trainStep({ xStart: hi, lowRes: lo }).loss));
  assert.throws(() => tr.trainStep({ xStart: hi }), /needs 'lowRes'/);
  // A pinned t_aug (SR fine-tuning: minAugLevel = maxAugLevel) trains like any other level.
  using pinned = new StageTrainer(net, {
    schedule: DEFAULT_SCHEDULE,
    minAugLevel: 1e-5,
    maxAugLevel: 1e-5,
  });
  assert.ok(Number.isFinite(pinned.trainStep({ xStart: hi, lowRes: lo }).loss));
  hi.dispose(), lo.dispose();
  assert.throws(
    () => new StageTrainer(net, { schedule: DEFAULT_SCHEDULE, learningRate: -1 }),
    /'learningRate' must be a number in \(0, 10\]: current value is -1/,
  );
  assert.throws(
    () => new StageTrainer(net, { schedule: DEFAULT_SCHEDULE, condDropout: 2 }),
    /'condDropout'.*current value is 2/,
  );
  assert.throws(
    () => new StageTrainer(net, { schedule: DEFAULT_SCHEDULE, cropSize: 16 }),
    /'cropSize' \(16\) is larger/,
  );
  assert.throws(
    () => new StageTrainer(net, { schedule: DEFAULT_SCHEDULE, minAugLevel: 0.6, maxAugLevel: 0.5 }),
    /'minAugLevel' must be a number in \[0, 0.5\]: current value is 0.6/,
  );
  assert.throws(
    () => tr.setState({ step: -1, optimizer: { iterations: 0, moments: {} } }),
    /'step'/,
  );
  assert.throws(
    () =>
      tr.setState({
        step: 1,
        optimizer: {
          iterations: 1,
          moments: { "unet.nope": { m: new Float32Array(1), v: new Float32Array(1) } },
        },
      }),
    /unknown parameter 'unet.nope'/,
  );
});
