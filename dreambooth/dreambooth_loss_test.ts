import assert from "assert";
import { DEFAULT_SCHEDULE, diffusionLoss, initBackend, scheduleAt, tf, UNet } from "./deps.ts";
import { dreamboothLoss } from "./dreambooth_loss.ts";
import { StageTrainer } from "./deps.ts";
import { hashInts, Rng } from "./deps.ts";

await initBackend({ quiet: true });

const close = (a: number, b: number, tol = 1e-5) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`);

Deno.test("dreamboothLoss: Eq. 2 from one pass equals instance + λ·prior computed separately", () => {
  const rng = new Rng(1);
  const [b, nI, lambda] = [6, 2, 0.7];
  const mk = () => tf.tensor4d(rng.normals(b * 4 * 4 * 3), [b, 4, 4, 3]);
  const [pred, x, eps] = [mk(), mk(), mk()];
  const logSnr = Array.from({ length: b }, () => rng.normal() * 3);
  for (const weighting of ["minSnr", "epsilon"] as const) {
    const r = dreamboothLoss(pred, {
      prediction: "v",
      xStart: x,
      noise: eps,
      logSnr,
      numInstance: nI,
      priorLossWeight: lambda,
      weighting,
    });
    const part = (s: number, n: number) => {
      const cut = (t: tf.Tensor4D) => tf.slice(t, [s, 0, 0, 0], [n, -1, -1, -1]);
      return tf.tidy(() =>
        diffusionLoss(cut(pred), {
          prediction: "v",
          xStart: cut(x),
          noise: cut(eps),
          logSnr: logSnr.slice(s, s + n),
          weighting,
        }).dataSync()[0]
      );
    };
    const inst = part(0, nI), prior = part(nI, b - nI);
    close(r.instance.dataSync()[0], inst);
    close(r.prior.dataSync()[0], prior);
    close(r.loss.dataSync()[0], inst + lambda * prior);
    tf.dispose([r.loss, r.instance, r.prior]);
  }
  tf.dispose([pred, x, eps]);
});

Deno.test("dreamboothLoss: validates λ and the split, and leaks nothing", () => {
  const x = tf.zeros([2, 2, 2, 3]) as tf.Tensor4D;
  const base = { prediction: "x" as const, xStart: x, noise: x, logSnr: [0, 0] };
  assert.throws(
    () => dreamboothLoss(x, { ...base, numInstance: 1, priorLossWeight: NaN }),
    /'priorLossWeight' must be a finite number ≥ 0: current value is NaN/,
  );
  assert.throws(() => dreamboothLoss(x, { ...base, numInstance: 1, priorLossWeight: -1 }), /-1/);
  assert.throws(() => dreamboothLoss(x, { ...base, numInstance: 3 }), /prior rows/);
  const before = tf.memory().numTensors;
  const r = dreamboothLoss(x, { ...base, numInstance: 2 });
  assert.equal(r.prior.dataSync()[0], 0);
  tf.dispose([r.loss, r.instance, r.prior]);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});

Deno.test("dreamboothLoss as the shared trainer's loss: the one-pass step loss is Eq. 2 (instance + λ·prior, each from its own forward pass)", () => {
  const cfg = { imageSize: 8, channels: 8, channelMult: [1, 2], numResBlocks: [1, 1], textDim: 0 };
  for (const [nI, nP, lambda] of [[2, 2, 1], [1, 3, 0.5], [3, 0, 1]]) {
    using net = new UNet(cfg, { seed: 3 });
    const b = nI + nP, seed = 11;
    const trainer = new StageTrainer(net, { schedule: DEFAULT_SCHEDULE, seed, condDropout: 0 });
    const xData = new Rng(5).normals(b * 8 * 8 * 3, 0.5);
    const x = tf.tensor4d(xData, [b, 8, 8, 3]);
    // The draws of step 1, in the trainer's order: t per example, dropout per example, then ε.
    const rng = new Rng(hashInts(seed, 1, 0x7a11));
    const at = Array.from({ length: b }, () => scheduleAt(DEFAULT_SCHEDULE, rng.uniform()));
    for (let i = 0; i < b; i++) rng.uniform();
    const noise = rng.normals(b * 8 * 8 * 3);
    const separate = (s: number, n: number) =>
      tf.tidy(() => {
        const sl = (t: tf.Tensor4D) => tf.slice(t, [s, 0, 0, 0], [n, -1, -1, -1]) as tf.Tensor4D;
        const eps = sl(tf.tensor4d(noise, [b, 8, 8, 3]));
        const xs = sl(x);
        const a = at.slice(s, s + n);
        const col = (f: (v: typeof a[0]) => number) => tf.tensor4d(a.map(f), [n, 1, 1, 1]);
        const zt = tf.add(tf.mul(col((v) => v.alpha), xs), tf.mul(col((v) => v.sigma), eps));
        const pred = net.apply(zt as tf.Tensor4D, { logSnr: tf.tensor1d(a.map((v) => v.logSnr)) });
        return diffusionLoss(pred, {
          prediction: net.config.prediction,
          xStart: xs,
          noise: eps,
          logSnr: a.map((v) => v.logSnr),
        }).dataSync()[0];
      });
    const inst = separate(0, nI), prior = nP > 0 ? separate(nI, nP) : 0;
    const r = trainer.trainStep({
      xStart: x,
      loss: (pred, t) =>
        dreamboothLoss(pred, { ...t, numInstance: nI, priorLossWeight: lambda }).loss,
    });
    close(r.loss, inst + lambda * prior, 1e-4);
    x.dispose();
    trainer.dispose();
  }
});
