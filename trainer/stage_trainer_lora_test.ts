import assert from "assert";
import { DEFAULT_SCHEDULE, initBackend, T5Encoder, tf, UNet } from "./deps.ts";
import { StageTrainer } from "./stage_trainer.ts";

await initBackend({ quiet: true });

const netConfig = {
  imageSize: 8,
  channels: 8,
  channelMult: [1, 2],
  numResBlocks: [1, 1],
  attentionResolutions: [4],
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
const snapshot = (vars: Map<string, tf.Variable>) =>
  new Map([...vars].map(([k, v]) => [k, Array.from(v.dataSync())]));

/** A UNet whose zero-initialised output layer is random, so gradients reach every adapter. */
function net(): UNet {
  const n = new UNet(netConfig, { seed: 1 });
  const w = n.params.get("out.conv.weight");
  tf.tidy(() => w.assign(tf.randomNormal(w.shape, 0, 0.2, "float32", 7)));
  return n;
}

Deno.test("StageTrainer with LoRA: only adapter tensors change; the text encoder's adapters change its output", () => {
  using unet = net();
  using enc = new T5Encoder(encConfig, { seed: 2 });
  const unetLora = unet.addLoRA({ config: { rank: 2, targets: "attn+conv" }, seed: 1 });
  const encLora = enc.addLoRA({ config: { rank: 2 }, seed: 2 });
  const baseU = snapshot(unet.params.vars), baseE = snapshot(enc.params.vars);
  const loraU = snapshot(unetLora.params.vars), loraE = snapshot(encLora.params.vars);
  const encoded = () =>
    tf.tidy(() => Array.from(enc.encode(tokens.ids, tokens.mask, { batch: 2 }).tokens.dataSync()));
  const textBefore = encoded();
  const trainer = new StageTrainer(unet, {
    schedule: DEFAULT_SCHEDULE,
    textEncoder: enc,
    trainTextEncoder: true,
    learningRate: 1e-2,
    seed: 3,
  });
  assert.equal(trainer.variables.length, unetLora.variables.length + encLora.variables.length);
  const x = tf.randomUniform([2, 8, 8, 3], -1, 1, "float32", 5) as tf.Tensor4D;
  for (let s = 0; s < 3; s++) trainer.trainStep({ xStart: x, tokens });
  x.dispose();
  assert.deepEqual(snapshot(unet.params.vars), baseU, "base UNet weights frozen");
  assert.deepEqual(snapshot(enc.params.vars), baseE, "base text-encoder weights frozen");
  const changed = (before: Map<string, number[]>, vars: Map<string, tf.Variable>) =>
    [...snapshot(vars)].filter(([k, v]) => v.some((x, i) => x !== before.get(k)![i])).length;
  assert.ok(changed(loraU, unetLora.params.vars) > unetLora.targets.size, "UNet adapters trained");
  assert.ok(changed(loraE, encLora.params.vars) > 0, "text-encoder adapters trained");
  const textAfter = encoded();
  assert.ok(textAfter.some((v, i) => Math.abs(v - textBefore[i]) > 1e-6), "text output changed");
  // The optimizer state names the adapters by stable names (resume).
  const state = trainer.getState();
  assert.ok(
    Object.keys(state.optimizer.moments).every((k) => /^(unet|text_encoder)\.lora\./.test(k)),
  );
  trainer.dispose();
});
