import assert from "assert";
import { initBackend, tf } from "./deps.ts";
import { UNet } from "./unet.ts";
import { DiffusionTrainer } from "./diffusion_trainer.ts";
import { DEFAULT_SCHEDULE } from "./schedule.ts";

await initBackend({ quiet: true });

const CFG = {
  imageSize: 8,
  channels: 8,
  channelMult: [1, 2],
  numResBlocks: [1, 1],
  textDim: 6,
  crossAttentionResolutions: [4],
  attentionResolutions: [],
  headChannels: 8,
};

function batch() {
  return {
    xStart: tf.randomUniform([2, 8, 8, 3], -1, 1, "float32", 1) as tf.Tensor4D,
    text: {
      tokens: tf.randomNormal([2, 3, 6], 0, 1, "float32", 2) as tf.Tensor3D,
      pooled: tf.randomNormal([2, 6], 0, 1, "float32", 3) as tf.Tensor2D,
      mask: tf.ones([2, 3]) as tf.Tensor2D,
    },
  };
}

Deno.test("DiffusionTrainer: same seed → same losses and weights, another seed differs; no leaks", async () => {
  const b = batch();
  const before = tf.memory().numTensors;
  const run = async (seed: number, steps: number) => {
    using net = new UNet(CFG, { seed: 1 });
    using trainer = new DiffusionTrainer(net, {
      schedule: DEFAULT_SCHEDULE,
      seed,
      learningRate: 3e-3,
      condDropout: 0.5,
    });
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) losses.push(trainer.step(b));
    assert.equal(trainer.steps, steps);
    return { losses, w: await net.params.get("out.conv.weight").data() };
  };
  const a = await run(4, 3);
  const a2 = await run(4, 3);
  assert.deepEqual(a.losses, a2.losses);
  assert.deepEqual(a.w, a2.w);
  const c = await run(5, 3);
  assert.notDeepEqual(a.losses, c.losses);
  assert.equal(tf.memory().numTensors, before);
  b.xStart.dispose();
  Object.values(b.text).forEach((t) => t.dispose());
});

Deno.test("DiffusionTrainer: per-example weights scale the loss; SR steps use random crops", () => {
  const b = batch();
  {
    using net = new UNet(CFG, { seed: 1 });
    using t1 = new DiffusionTrainer(net, { schedule: DEFAULT_SCHEDULE, seed: 2, learningRate: 0 });
    const l1 = t1.step({ ...b });
    using t2 = new DiffusionTrainer(net, { schedule: DEFAULT_SCHEDULE, seed: 2, learningRate: 0 });
    const l2 = t2.step({ ...b, exampleWeights: [2, 2] });
    assert.ok(Math.abs(l2 - 2 * l1) < 1e-5 * Math.max(1, l1), `${l2} vs 2·${l1}`);
  }
  {
    using sr = new UNet({ ...CFG, lowResChannels: 3, textDim: 0, crossAttentionResolutions: [] }, {
      seed: 2,
    });
    using t = new DiffusionTrainer(sr, {
      schedule: DEFAULT_SCHEDULE,
      cropSize: 4,
      maxAugLevel: 0.2,
    });
    const hi = tf.randomUniform([2, 16, 16, 3], -1, 1, "float32", 5) as tf.Tensor4D;
    const lo = tf.randomUniform([2, 4, 4, 3], -1, 1, "float32", 6) as tf.Tensor4D;
    assert.ok(Number.isFinite(t.step({ xStart: hi, lowRes: lo })));
    assert.throws(() => t.step({ xStart: hi }), /needs 'lowRes'/);
    hi.dispose();
    lo.dispose();
  }
  b.xStart.dispose();
  Object.values(b.text).forEach((t) => t.dispose());
  assert.throws(
    () =>
      new DiffusionTrainer(null as unknown as UNet, { schedule: DEFAULT_SCHEDULE, condDropout: 2 }),
    /'condDropout' must be a number in \[0, 1\]: current value is 2/,
  );
});

Deno.test("DiffusionTrainer: getState/setState resume matches an uninterrupted run (fixed t_aug)", () => {
  const sr = {
    imageSize: 8,
    channels: 8,
    channelMult: [1, 2],
    numResBlocks: [1, 1],
    textDim: 0,
    lowResChannels: 3,
  };
  const opts = { schedule: DEFAULT_SCHEDULE, minAugLevel: 1e-3, maxAugLevel: 1e-3, seed: 9 };
  const x = tf.randomUniform([1, 8, 8, 3], -1, 1, "float32", 1) as tf.Tensor4D;
  const low = tf.randomUniform([1, 4, 4, 3], -1, 1, "float32", 2) as tf.Tensor4D;
  const run = (t: DiffusionTrainer, n: number) => {
    for (let i = 0; i < n; i++) t.step({ xStart: x, lowRes: low });
  };
  using a = new UNet(sr, { seed: 1 });
  using ta = new DiffusionTrainer(a, opts);
  run(ta, 4);
  using b = new UNet(sr, { seed: 1 });
  using tb = new DiffusionTrainer(b, opts);
  run(tb, 2);
  const state = tb.getState();
  assert.equal(state.step, 2);
  assert.ok(Object.keys(state.optimizer.moments).every((k) => b.params.vars.has(k)));
  using c = new UNet(sr, { seed: 5 });
  tf.tidy(() => c.variables.forEach((v, i) => v.assign(b.variables[i])));
  using tc = new DiffusionTrainer(c, opts);
  tc.setState(state);
  run(tc, 2);
  assert.equal(tc.steps, 4);
  a.variables.forEach((v, i) => assert.deepEqual(v.dataSync(), c.variables[i].dataSync()));
  assert.throws(
    () =>
      tc.setState({
        step: 1,
        optimizer: {
          iterations: 1,
          moments: { nope: { m: new Float32Array(1), v: new Float32Array(1) } },
        },
      }),
    /unknown parameter 'nope'/,
  );
  tf.dispose([x, low]);
});
