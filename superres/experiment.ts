/**
 * The SR fine-tuning experiment of issue 7 (DreamBooth §4.3, Fig. 15): for every built-in subject,
 * hold one image out, fine-tune the first SR stage on the others (t_aug 1e-3 and 1e-5, or the
 * levels of `--aug-levels`; plus no fine-tuning), super-resolve the held-out image's downsampled
 * version (the cascade's own area downsampling) at the matching t_aug, and compare with the true
 * image: PSNR, the RMS error on a Laplacian band and the Laplacian energy ratio (1 = the truth's
 * fine detail, < 1 blurred, > 1 hallucinated). Also full-cascade samples of "a [V] [class] on the
 * beach" per setting (the base stage is the loaded one: the same seed gives the same 1st-stage
 * image, so the columns differ only by the SR stage; pass a DreamBooth model as `--model` for a
 * personalised base).
 *
 * ```sh
 * deno run -A superres/experiment.ts [--model PATH|preset:NAME] [--subjects dog,cat] [--holdout K]
 *   [--steps N] [--lr X] [--batch N] [--crop N] [--sample-steps N] [--aug-levels A,B] [--out DIR]
 *   [--no-beach]
 * ```
 * Writes `<out>/table.md`, `<out>/results.json`, `<out>/loo_grid.png` (input, none, 1e-3, 1e-5,
 * truth per subject) and `<out>/beach_grid.png` (default out: `runs/superres/experiment`).
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  builtInSubjects,
  type Cascade,
  formatDuration,
  initBackend,
  loadSubjectFolder,
  type RgbImage,
  saveImageGrid,
  upsampleNearest,
} from "./deps.ts";
import { loadSrCascade } from "./load_sr_cascade.ts";
import { fineTuneSuperRes } from "./fine_tune_super_res.ts";
import { makeSrPairs } from "./sr_pairs.ts";
import { floatImage, imagesFromTensor } from "./_images.ts";
import { highFrequency, psnr } from "./_sr_metrics.ts";

const USAGE = `Usage: deno run -A superres/experiment.ts [options]

Leave-one-out SR fine-tuning experiment (no fine-tuning vs t_aug 1e-3 vs t_aug 1e-5) on the
built-in subjects: prints a table (PSNR, Laplacian-band error and energy ratio) and writes PNG grids.

Options:
  --model PATH|preset:NAME  cascade (default: the default model, see deno task train-sr --help)
  --subjects A,B            built-in subjects (default: all)
  --holdout K               index of the held-out image (default 4)
  --steps N                 fine-tuning steps per setting (default 60)
  --lr X                    learning rate (default 2e-4)
  --batch N                 examples per step (default 4)
  --crop N                  random crop side while fine-tuning (default 0 = whole 1st-SR-stage image)
  --sample-steps N          SR sampler steps (default: the stage's sampler)
  --base-steps N            base-stage sampler steps of the beach samples (default: the stage's sampler)
  --identifier V            identifier (default sks)
  --aug-levels A,B          fine-tuning t_aug levels compared with no fine-tuning (default 1e-3,1e-5)
  --out DIR                 output folder (default runs/superres/experiment)
  --no-beach                skip the "a [V] [class] on the beach" samples
  --help                    show this help`;

/** One column of the experiment: no fine-tuning, or fine-tuning at one t_aug. */
interface Setting {
  name: string;
  augLevel: number | null;
}

/** The settings for t_aug levels `levels` (the paper's 1e-3 and 1e-5 by default). */
function settingsFor(levels: number[]): Setting[] {
  return [
    { name: "no SR fine-tuning", augLevel: null },
    ...levels.map((l) => ({
      name: `fine-tuned, t_aug ${l < 0.01 ? l.toExponential() : l}`,
      augLevel: l,
    })),
  ];
}

/** One row of the experiment's results. */
interface Row {
  subject: string;
  setting: string;
  psnr: number;
  hfError: number;
  hfRatio: number;
  trainSeconds: number;
}

/**
 * Runs the experiment.
 *
 * @param args Command-line arguments (see the module docs).
 * @returns The exit code (0 done, 2 usage error).
 *
 * @example
 * ```ts
 * import { main } from "./experiment.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      subjects: { type: "string" },
      holdout: { type: "string" },
      steps: { type: "string" },
      lr: { type: "string" },
      batch: { type: "string" },
      crop: { type: "string" },
      "sample-steps": { type: "string" },
      "base-steps": { type: "string" },
      identifier: { type: "string" },
      "aug-levels": { type: "string" },
      out: { type: "string" },
      "no-beach": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const all = builtInSubjects();
  const names = values.subjects?.split(",") ?? all.map((s) => s.name);
  const subjects = names.map((n) => {
    const s = all.find((x) => x.name === n);
    if (!s) throw new RangeError(`Cannot run the experiment as subject '${n}' is not built in`);
    return s;
  });
  const holdout = Number(values.holdout ?? 4);
  const steps = Number(values.steps ?? 60);
  const lr = Number(values.lr ?? 2e-4);
  const batch = Number(values.batch ?? 4);
  const crop = Number(values.crop ?? 0);
  const identifier = values.identifier ?? "sks";
  const levels = (values["aug-levels"] ?? "1e-3,1e-5").split(",").map(Number);
  if (levels.some((l) => !(l >= 0 && l < 1))) {
    throw new RangeError(
      `Cannot run the experiment as '--aug-levels' must be numbers in [0, 1): current value is ${
        values["aug-levels"]
      }`,
    );
  }
  const SETTINGS = settingsFor(levels);
  const out = values.out ?? join("runs", "superres", "experiment");
  await Deno.mkdir(out, { recursive: true });
  await initBackend();

  // The model: resolved once (a pretraining export is then reused from its file).
  const first = await loadSrCascade(values.model);
  first.cascade.dispose();
  const model = first.source.startsWith("pretrain:")
    ? join("runs", "superres", "pretrain_export", "cascade.safetensors")
    : first.source;
  const load = async () => (await loadSrCascade(model, { warn: () => {} })).cascade;
  console.log(
    `SR experiment: model ${first.source}, subjects ${
      names.join(", ")
    }, held-out image ${holdout}, ${steps} steps, lr ${lr}, batch ${batch}`,
  );

  const rows: Row[] = [];
  const looImages: RgbImage[] = [], looLabels: string[] = [];
  const beachImages: RgbImage[] = [], beachLabels: string[] = [];
  const t0 = performance.now();
  for (const subject of subjects) {
    using probe = await load();
    const hi = probe.stages[1].imageSize, lo = probe.stages[0].imageSize;
    const largest = probe.stages[probe.stages.length - 1].imageSize;
    const sampleSteps = values["sample-steps"] !== undefined
      ? Number(values["sample-steps"])
      : probe.stages[1].sampler.steps;
    const { images } = await loadSubjectFolder(subject.dir, { size: largest, onWarning: () => {} });
    const train = images.filter((_, k) => k !== holdout);
    using held = makeSrPairs([images[holdout]], { highSize: hi, lowSize: lo });
    const [truth] = await imagesFromTensor(held.high);
    const upT = upsampleNearest(held.low, hi / lo);
    const [input] = await imagesFromTensor(upT);
    upT.dispose();
    const prompt = `a ${identifier} ${subject.classNoun}`;
    looImages.push(input);
    looLabels.push(`${subject.name}: input (nearest ×${hi / lo})`);
    const base = { ...highFrequency(input, truth), psnr: psnr(input, truth) };
    rows.push({
      subject: subject.name,
      setting: "input (nearest upsampling)",
      psnr: base.psnr,
      hfError: base.error,
      hfRatio: base.ratio,
      trainSeconds: 0,
    });
    for (const setting of SETTINGS) {
      using cascade: Cascade = await load();
      let trainSeconds = 0;
      if (setting.augLevel !== null) {
        const runDir = join(out, "runs", `${subject.name}_${setting.augLevel}`);
        await Deno.remove(runDir, { recursive: true }).catch(() => {});
        const r = await fineTuneSuperRes(cascade, {
          images: train,
          augLevel: setting.augLevel,
          steps,
          learningRate: lr,
          batchSize: batch,
          cropSize: { "1": crop },
          identifier,
          classNoun: subject.classNoun,
          runDir,
          save: false,
          sampleSteps: 0,
          log: () => {},
        });
        trainSeconds = r.seconds;
      }
      const level = setting.augLevel ?? cascade.stages[1].augLevel;
      const { images: [sr8] } = await cascade.sample({
        prompt,
        seed: 1,
        steps: sampleSteps,
        stages: 2,
        startStage: 1,
        lowRes: held.low,
        augLevel: level,
      });
      const sr = floatImage(sr8);
      const hf = highFrequency(sr, truth);
      const row = {
        subject: subject.name,
        setting: setting.name,
        psnr: psnr(sr, truth),
        hfError: hf.error,
        hfRatio: hf.ratio,
        trainSeconds,
      };
      rows.push(row);
      looImages.push(sr);
      looLabels.push(`${setting.name} (sampled at ${level}): ${row.psnr.toFixed(2)} dB`);
      console.log(
        `${subject.name} | ${setting.name} | PSNR ${row.psnr.toFixed(2)} dB | HF error ${
          row.hfError.toFixed(4)
        } | HF ratio ${row.hfRatio.toFixed(3)} | train ${formatDuration(trainSeconds)} | elapsed ${
          formatDuration((performance.now() - t0) / 1000)
        }`,
      );
      if (!values["no-beach"]) {
        const { images: [b8] } = await cascade.sample({
          prompt: `${prompt} on the beach`,
          seed: 7,
          steps: [
            values["base-steps"] !== undefined
              ? Number(values["base-steps"])
              : cascade.stages[0].sampler.steps,
            sampleSteps,
          ],
          stages: 2,
          augLevel: level,
        });
        beachImages.push(floatImage(b8));
        beachLabels.push(`${subject.name}: ${setting.name}`);
      }
    }
    looImages.push(truth);
    looLabels.push(`${subject.name}: truth (held-out image ${holdout})`);
  }
  // Means over subjects per setting.
  const settings = [...new Set(rows.map((r) => r.setting))];
  const mean = (s: string, k: "psnr" | "hfError" | "hfRatio") => {
    const xs = rows.filter((r) => r.setting === s).map((r) => r[k]);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const lines = [
    `| subject | setting | PSNR (dB) ↑ | Laplacian-band RMS error ↓ | Laplacian energy ratio (1 = truth) |`,
    `|---|---|---|---|---|`,
    ...rows.map((r) =>
      `| ${r.subject} | ${r.setting} | ${r.psnr.toFixed(2)} | ${r.hfError.toFixed(4)} | ${
        r.hfRatio.toFixed(3)
      } |`
    ),
    ...settings.map((s) =>
      `| **mean** | ${s} | ${mean(s, "psnr").toFixed(2)} | ${mean(s, "hfError").toFixed(4)} | ${
        mean(s, "hfRatio").toFixed(3)
      } |`
    ),
  ];
  const header =
    `SR experiment (${first.source}; held-out image ${holdout}; ${steps} steps, lr ${lr}, batch ${batch}, crop ${crop}; ${
      formatDuration((performance.now() - t0) / 1000)
    })`;
  console.log(`\n${header}\n\n${lines.join("\n")}`);
  await Deno.writeTextFile(join(out, "table.md"), `${header}\n\n${lines.join("\n")}\n`);
  await Deno.writeTextFile(
    join(out, "results.json"),
    JSON.stringify({ model: first.source, holdout, steps, lr, batch, crop, rows }, null, 2) + "\n",
  );
  await saveImageGrid(join(out, "loo_grid.png"), looImages, {
    labels: looLabels,
    columns: SETTINGS.length + 2,
  });
  if (beachImages.length > 0) {
    await saveImageGrid(join(out, "beach_grid.png"), beachImages, {
      labels: beachLabels,
      columns: SETTINGS.length,
    });
  }
  console.log(
    `wrote ${join(out, "table.md")}, results.json, loo_grid.png${
      beachImages.length ? ", beach_grid.png" : ""
    }`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
