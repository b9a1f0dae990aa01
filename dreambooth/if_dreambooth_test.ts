import assert from "assert";
import { createAdam, initBackend, tf } from "./deps.ts";
import { IFUNet, loadIFStage, readDiffusersWeights, readJsonFile } from "../deepfloyd/mod.ts";
import { ifDreamBoothLoss, ifDreamBoothStep } from "./if_dreambooth.ts";

const TESTDATA = new URL("../deepfloyd/testdata/", import.meta.url).pathname;

await initBackend({ quiet: true });

Deno.test("IF DreamBooth with LoRA: prior-preserving steps lower the loss, touch only the adapters, export for diffusers", async () => {
  using stage = await loadIFStage(`${TESTDATA}if_tiny_i`);
  const unet = stage.unet;
  const x = (seed: number) =>
    tf.tidy(() => tf.tanh(tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", seed))) as tf.Tensor4D;
  const e = (seed: number) => tf.randomNormal([2, 5, 16], 0, 1, "float32", seed) as tf.Tensor3D;
  const instance = { images: x(1), promptEmbeds: e(2) };
  const prior = { images: x(3), promptEmbeds: e(4) };
  const opts = { seed: 7, priorLossWeight: 1 };
  const base = await unet.weights.get("mid_block.attentions.0.to_q.weight")!.data();
  unet.initLoRA({ rank: 2, seed: 1 });
  const before = tf.tidy(() =>
    ifDreamBoothLoss(unet, stage.scheduler, instance, prior, opts).dataSync()[0]
  );
  const tensors = tf.memory().numTensors;
  using adam = createAdam({ learningRate: 3e-2 });
  for (let i = 0; i < 8; i++) {
    await ifDreamBoothStep(unet, adam, stage.scheduler, { instance, prior }, opts);
  }
  const after = tf.tidy(() =>
    ifDreamBoothLoss(unet, stage.scheduler, instance, prior, opts).dataSync()[0]
  );
  console.log(`DreamBooth LoRA loss on a fixed draw: ${before.toFixed(4)} → ${after.toFixed(4)}`);
  assert.ok(after < before, `loss ${before} → ${after}`);
  assert.deepEqual(await unet.weights.get("mid_block.attentions.0.to_q.weight")!.data(), base);
  // Adam keeps its moments outside tfjs; steps leave no tensors behind.
  assert.equal(tf.memory().numTensors, tensors);
  // The adapters, exported in diffusers' file format, give the same model when loaded again.
  const lora = await unet.exportLoRA();
  const dir = `${TESTDATA}if_tiny_i/unet`;
  using fresh = new IFUNet(
    await readJsonFile(`${dir}/config.json`),
    await readDiffusersWeights(dir),
  );
  fresh.loadLoRA(lora);
  const probe = { timesteps: [500, 20], encoderHiddenStates: instance.promptEmbeds };
  const a = unet.forward(instance.images, probe), b = fresh.forward(instance.images, probe);
  assert.ok(a.dataSync().every((v, i) => Math.abs(v - b.dataSync()[i]) < 1e-5));
  tf.dispose([a, b, instance.images, instance.promptEmbeds, prior.images, prior.promptEmbeds]);
});

Deno.test("IF DreamBooth stage II: the loss is conditioned on the noised upscaled image and its level", async () => {
  using stage = await loadIFStage(`${TESTDATA}if_tiny_ii`);
  const images = tf.tidy(() =>
    tf.tanh(tf.randomNormal([1, 16, 16, 3], 0, 1, "float32", 1))
  ) as tf.Tensor4D;
  const lowRes = tf.tidy(() =>
    tf.image.resizeBilinear(tf.image.resizeBilinear(images, [8, 8], true), [16, 16], true)
  ) as tf.Tensor4D;
  const promptEmbeds = tf.randomNormal([1, 5, 16], 0, 1, "float32", 2) as tf.Tensor3D;
  const loss = (noiseLevel: number) =>
    tf.tidy(() =>
      ifDreamBoothLoss(stage.unet, stage.scheduler, { images, promptEmbeds, lowRes }, null, {
        seed: 3,
        noiseLevel,
        imageNoisingScheduler: stage.imageNoisingScheduler!,
      }).dataSync()[0]
    );
  const l0 = loss(0), l1 = loss(1), l250 = loss(250);
  assert.ok(Number.isFinite(l0) && l0 !== l250 && l0 !== l1);
  assert.throws(
    () =>
      ifDreamBoothLoss(stage.unet, stage.scheduler, { images, promptEmbeds }, null, { seed: 1 }),
    /needs 'imageNoisingScheduler' and 'lowRes'/,
  );
  tf.dispose([images, lowRes, promptEmbeds]);
});

Deno.test("IF DreamBooth loss: LoRA gradients agree with central finite differences", async () => {
  using stage = await loadIFStage(`${TESTDATA}if_tiny_i`);
  const unet = stage.unet;
  unet.initLoRA({ rank: 2, seed: 3 });
  const images = tf.tidy(() =>
    tf.tanh(tf.randomNormal([1, 8, 8, 3], 0, 1, "float32", 5))
  ) as tf.Tensor4D;
  const promptEmbeds = tf.randomNormal([1, 5, 16], 0, 1, "float32", 6) as tf.Tensor3D;
  const batch = { images, promptEmbeds };
  const loss = () =>
    ifDreamBoothLoss(unet, stage.scheduler, batch, batch, { seed: 9, priorLossWeight: 0.5 });
  const vars = unet.loraVariables().filter((v) =>
    /mid_block\.attentions\.0\.(to_q|add_v_proj)\//.test(v.name)
  );
  assert.equal(vars.length, 4);
  // LoRA starts with up = 0 (so d/d down = 0): give up a value first.
  for (const v of vars.filter((v) => v.name.endsWith("/up"))) {
    v.assign(tf.randomNormal(v.shape, 0, 0.3, "float32", 11));
  }
  const { grads } = tf.variableGrads(loss, vars);
  for (const v of vars) {
    const g = await grads[v.name].data();
    const values = await v.data();
    // The largest gradient entry of each variable, checked by a central difference.
    let k = 0;
    g.forEach((x, i) => (Math.abs(x) > Math.abs(g[k]) ? (k = i) : 0));
    const h = 5e-2;
    const at = (delta: number) => {
      const changed = Float32Array.from(values);
      changed[k] += delta;
      v.assign(tf.tensor(changed, v.shape));
      return tf.tidy(() => loss().dataSync()[0]);
    };
    const fd = (at(h) - at(-h)) / (2 * h);
    v.assign(tf.tensor(values, v.shape));
    console.log(
      `${v.name}[${k}]: analytic ${g[k].toExponential(3)}, central difference ${
        fd.toExponential(3)
      }`,
    );
    assert.ok(Math.abs(g[k]) > 1e-4, "a gradient worth checking");
    assert.ok(
      Math.abs(fd - g[k]) <= 0.05 * Math.abs(g[k]) + 2e-5,
      `${v.name}[${k}]: ${g[k]} vs ${fd}`,
    );
  }
  tf.dispose([images, promptEmbeds, ...Object.values(grads)]);
});

Deno.test("IF DreamBooth, full fine-tuning: trainableWeights() makes every weight a variable that Adam steps", async () => {
  using stage = await loadIFStage(`${TESTDATA}if_tiny_i`);
  const unet = stage.unet;
  const x = (seed: number) =>
    tf.tidy(() => tf.tanh(tf.randomNormal([1, 8, 8, 3], 0, 1, "float32", seed))) as tf.Tensor4D;
  const e = (seed: number) => tf.randomNormal([1, 5, 16], 0, 1, "float32", seed) as tf.Tensor3D;
  const instance = { images: x(1), promptEmbeds: e(2) };
  const prior = { images: x(3), promptEmbeds: e(4) };
  const opts = { seed: 7 };
  const before = tf.tidy(() =>
    ifDreamBoothLoss(unet, stage.scheduler, instance, prior, opts).dataSync()[0]
  );
  const name = "mid_block.attentions.0.to_q.weight";
  const base = await unet.weights.get(name)!.data();
  const tensors = tf.memory().numTensors;
  const variables = unet.trainableWeights();
  assert.equal(variables.length, unet.weights.size);
  assert.equal(unet.trainableWeights()[0], variables[0]);
  assert.equal(tf.memory().numTensors, tensors); // the weights became variables, no copies kept
  using adam = createAdam({ learningRate: 1e-3 });
  for (let i = 0; i < 4; i++) {
    await ifDreamBoothStep(unet, adam, stage.scheduler, { instance, prior }, {
      ...opts,
      variables,
    });
  }
  const after = tf.tidy(() =>
    ifDreamBoothLoss(unet, stage.scheduler, instance, prior, opts).dataSync()[0]
  );
  assert.ok(after < before, `loss ${before} → ${after}`);
  assert.notDeepEqual(await unet.weights.get(name)!.data(), base);
  tf.dispose([instance.images, instance.promptEmbeds, prior.images, prior.promptEmbeds]);
});
