/**
 * LoRA against full fine-tuning of the default model's base stage: seconds per DreamBooth-sized
 * step (batch 8 = 4 instance + 4 class rows, the text encoder frozen) and trained parameters,
 * interleaved in one process so that machine load hits both alike. Run:
 * `deno task bench lora [-- --steps N]` (default 6 steps each, after one warm-up step).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { initBackend, tf } from "../backend/mod.ts";
import { loadCheckpoint } from "../diffusion/mod.ts";
import { StageTrainer } from "../trainer/mod.ts";

const { values } = parseArgs({ options: { steps: { type: "string", default: "6" } } });
const steps = Number(values.steps);
await initBackend({ quiet: true });
const loaded = await loadCheckpoint(
  new URL("../models/default/cascade.safetensors", import.meta.url).pathname,
);
if (loaded.kind !== "cascade") throw new Error("models/default is not a cascade");
const cascade = loaded.model;
const stage = cascade.stages[0];
const text = cascade.textEncoder.encodePrompts(cascade.tokenizer, Array(8).fill("a sks dog"));
const x = tf.randomUniform([8, stage.imageSize, stage.imageSize, 3], -1, 1, "float32", 1);
const time = async (trainer: StageTrainer) => {
  await trainer.trainStepAsync({ xStart: x as tf.Tensor4D, text }); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await trainer.trainStepAsync({ xStart: x as tf.Tensor4D, text });
  return (performance.now() - t0) / 1000 / steps;
};
const rows: string[] = [];
for (const method of ["full", "lora", "full", "lora"]) {
  if (method === "lora") stage.unet.addLoRA({ config: { rank: 4 }, seed: 0 });
  const trainer = new StageTrainer(stage.unet, { schedule: stage.schedule, learningRate: 1e-9 });
  const n = trainer.variables.reduce((a, v) => a + v.size, 0);
  const s = await time(trainer);
  trainer.dispose();
  stage.unet.removeLoRA();
  rows.push(`| ${method} | ${n} | ${s.toFixed(3)} |`);
  console.log(rows.at(-1));
}
console.log(`load average ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
tf.dispose([x, text.tokens, text.pooled, text.mask]);
cascade.dispose();
