/**
 * How many DDIM steps does the super-resolution stage need in `deno task eval`? Samples 12 of the
 * dog's DreamBench prompts (4 images each, the same seed, so the same base samples) through the
 * default model's base and SR 1 at 20 (the stage's own), 10 (`EVAL_SR_STEPS`) and 5 SR steps, and
 * prints, against the 20-step images of the same run: how often the world classifier's class,
 * context and property verdicts agree, the mean |Δ| per 128² pixel (of 255), and the seconds.
 * `deno run -A bench/eval_sr_steps.ts [--prompts 12]` (~7 min on the 2 cores).
 *
 * @module
 */
import { declareParams, parseCliOrExit } from "../params/mod.ts";
import { initBackend } from "../backend/mod.ts";
import { rgbImageFromUint8 } from "../data/mod.ts";
import { type Cascade, loadCheckpoint } from "../diffusion/mod.ts";
import { dreambenchPrompts, WorldClassifier } from "../eval/mod.ts";

const values = parseCliOrExit(Deno.args, {
  params: declareParams("bench", {
    prompts: { type: "integer", min: 1, max: 12, default: 12, help: "prompts to score" },
  }),
  usage: "deno run -A bench/eval_sr_steps.ts [--prompts N]",
});
await initBackend({ quiet: true });
const loaded = await loadCheckpoint("models/default/cascade.safetensors");
using cascade = loaded.model as Cascade;
using classifier = await WorldClassifier.load();
const prompts = dreambenchPrompts("sks", "dog").filter((_, i) => i % 2 === 0)
  .slice(0, values.prompts);
const variants = [20, 10, 5];
const tally = new Map(
  variants.map((v) => [v, { cls: 0, ctx: 0, prop: 0, n: 0, dpx: 0, s: 0 }]),
);
for (const [pi, p] of prompts.entries()) {
  const verdicts = new Map<number, ReturnType<WorldClassifier["classify"]>>();
  const pixels = new Map<number, Uint8Array[]>();
  for (const v of variants) {
    const t0 = performance.now();
    const { images } = await cascade.sample({
      prompt: Array(4).fill(p.prompt),
      seed: 100 + pi,
      stages: 2,
      steps: [cascade.stages[0].sampler.steps, v],
    });
    tally.get(v)!.s += (performance.now() - t0) / 1000;
    pixels.set(v, images.map((im) => im.data as Uint8Array));
    verdicts.set(v, classifier.classify(images.map((im) => rgbImageFromUint8(im))));
  }
  const ref = verdicts.get(20)!, refPx = pixels.get(20)!;
  for (const v of variants) {
    const t = tally.get(v)!, out = verdicts.get(v)!, px = pixels.get(v)!;
    for (let i = 0; i < 4; i++) {
      t.n++;
      t.cls += +(out.classNoun[i] === ref.classNoun[i]);
      t.ctx += +(out.context[i] === ref.context[i]);
      t.prop += +(out.property[i] === ref.property[i]);
      let d = 0;
      for (let k = 0; k < px[i].length; k++) d += Math.abs(px[i][k] - refPx[i][k]);
      t.dpx += d / px[i].length;
    }
  }
  console.log(`[${pi + 1}/${prompts.length}] ${p.prompt}`);
}
const base = tally.get(20)!.s;
console.log(
  "SR steps | class agrees | context agrees | property agrees | mean |Δ| | s (× 20 steps)",
);
for (const [v, t] of tally) {
  console.log(
    `${String(v).padStart(8)} | ${t.cls}/${t.n} | ${t.ctx}/${t.n} | ${t.prop}/${t.n} | ${
      (t.dpx / t.n).toFixed(2)
    } | ${t.s.toFixed(0)} (${(t.s / base).toFixed(2)}×)`,
  );
}
