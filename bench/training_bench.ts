/**
 * Seconds per pretraining step of each stage of the default cascade (`small` preset), at several
 * UNet widths, with the real data pipeline left out (scenes are rendered once; rendering costs
 * ~6 ms per 32 px scene, ~100 ms per 128+512 px pair) and the text encoder trained with the base
 * stage, as `deno task pretrain` does. Prints one line per configuration: median and minimum of
 * the timed steps, parameters, and examples/s.
 *
 * ```sh
 * deno run -A bench/training_bench.ts [--stage base|sr1|sr2|all] [--widths 16,24,32]
 *   [--batch B] [--steps N] [--backend NAME]
 * DREAMBOOTH_BLAS_THREADS=1 deno run -A bench/training_bench.ts   # one BLAS thread (busy machine)
 * ```
 *
 * @module
 */
import { declareParams, parseCliOrExit } from "../params/mod.ts";
import { initBackend, tf } from "../backend/mod.ts";
import { createEmojiScenes } from "../data/mod.ts";
import { backendOption, backendParam, presetConfig, T5Encoder, UNet } from "../diffusion/mod.ts";
import { StageTrainer } from "../trainer/mod.ts";
import { loadT5Tokenizer } from "../diffusion/mod.ts";

const values = parseCliOrExit(Deno.args, {
  params: declareParams("bench", {
    stage: { type: "enum", values: ["base", "sr1", "sr2", "all"], default: "base", help: "stage" },
    widths: {
      type: "string",
      pattern: /^\d+(,\d+)*$/,
      metavar: "LIST",
      help: "UNet base widths to time, comma-separated",
      defaultText: "the preset's",
    },
    batch: { type: "integer", min: 1, max: 1024, help: "batch", defaultText: "16 base, 8 SR" },
    steps: { type: "integer", min: 1, max: 10_000, default: 4, help: "timed steps" },
    backend: backendParam,
  }),
  usage: "deno run -A bench/training_bench.ts [options]",
});
await initBackend({ prefer: backendOption(values.backend) });
const cascade = presetConfig("small");
const tokenizer = await loadT5Tokenizer();
const world = await createEmojiScenes();
const steps = values.steps;
const stages = values.stage === "all" ? ["base", "sr1", "sr2"] : [values.stage];

for (const stage of stages) {
  const i = ["base", "sr1", "sr2"].indexOf(stage);
  if (i < 0) throw new RangeError(`Unknown --stage ${JSON.stringify(stage)}`);
  const sc = cascade.stages[i];
  const sr = i > 0;
  const batch = values.batch ?? (sr ? 8 : 16);
  const crop = i === 2 ? 128 : 0;
  const widths = (values.widths ?? String(sc.unet!.channels)).split(",").map(Number);
  const sizes = sr ? [cascade.stages[i - 1].imageSize, sc.imageSize] : [sc.imageSize];
  const imgs: Float32Array[][] = sizes.map(() => []);
  const captions: string[] = [];
  for await (const s of world.scenes({ seed: 0x00100fff, count: batch, sizes })) {
    s.images.forEach((im, k) => imgs[k].push(im.data));
    captions.push(s.caption);
  }
  const stack = (k: number) => {
    const n = sizes[k];
    const d = new Float32Array(batch * n * n * 3);
    imgs[k].forEach((a, j) => d.set(a, j * n * n * 3));
    return tf.tensor4d(d, [batch, n, n, 3]);
  };
  const xStart = stack(sr ? 1 : 0);
  const lowRes = sr ? stack(0) : null;
  const len = cascade.textEncoder!.maxLength!;
  const ids = new Int32Array(batch * len), mask = new Uint8Array(batch * len);
  captions.forEach((c, j) => {
    const e = tokenizer.encodeFixed(c, len);
    ids.set(e.ids, j * len);
    mask.set(e.mask, j * len);
  });
  for (const w of widths) {
    const enc = new T5Encoder(cascade.textEncoder, { seed: 0 });
    const net = new UNet({
      ...sc.unet,
      imageSize: sc.imageSize,
      channels: w,
      lowResChannels: sr ? 3 : 0,
    });
    const tr = new StageTrainer(net, {
      schedule: { kind: "cosine", logSnrMin: -20, logSnrMax: 20 },
      textEncoder: enc,
      trainTextEncoder: !sr,
      cropSize: crop,
    });
    const times: number[] = [];
    for (let s = 0; s <= steps; s++) {
      const t0 = performance.now();
      tr.trainStep({ xStart, lowRes, tokens: { ids, mask } });
      if (s > 0) times.push((performance.now() - t0) / 1000); // the first step warms up
    }
    times.sort((a, b) => a - b);
    const med = times[Math.floor(times.length / 2)];
    console.log(
      `${stage} ${sc.imageSize}px${crop ? ` (crop ${crop})` : ""} width ${w}: UNet ${
        (net.numParams / 1e6).toFixed(2)
      } M${
        sr ? "" : ` + text encoder ${(enc.numParams / 1e6).toFixed(2)} M trained`
      }, batch ${batch}: ` +
        `median ${med.toFixed(2)} s/step (min ${times[0].toFixed(2)}), ${
          (batch / med).toFixed(1)
        } examples/s`,
    );
    tr.dispose();
    net.dispose();
    enc.dispose();
  }
  xStart.dispose();
  lowRes?.dispose();
}
