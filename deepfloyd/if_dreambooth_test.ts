import assert from "assert";
import { createAdam, initBackend, tf } from "./deps.ts";
import { TESTDATA } from "./_test_util.ts";
import { IFUNet } from "./if_unet.ts";
import { loadIFStage, readDiffusersWeights, readJsonFile } from "./diffusers_folder.ts";
import { ifDreamBoothLoss, ifDreamBoothStep } from "./if_dreambooth.ts";

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
