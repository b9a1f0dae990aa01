/**
 * The SR fine-tuning experiment of issue 7 (results: reports/2026-11-28-superres-leave-one-out.md) (DreamBooth §4.3, Fig. 15): for every built-in subject,
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
 * deno run -A experiments/superres_leave_one_out.ts [--model PATH|preset:NAME] [--subjects dog,cat] [--holdout K]
 *   [--steps N] [--lr X] [--batch N] [--crop N] [--sample-steps N] [--aug-levels A,B] [--out DIR]
 *   [--no-beach]
 * ```
 * Writes `<out>/table.md`, `<out>/results.json`, `<out>/loo_grid.png` (input, none, 1e-3, 1e-5,
 * truth per subject) and `<out>/beach_grid.png` (default out: `runs/superres/experiment`).
 *
 * @module
 */
import { join } from "node:path";
import { declareParams, type ParamValues, runCli, UsageError } from "../params/mod.ts";
import { initBackend, upsampleNearest } from "../backend/mod.ts";
import {
  builtInSubjects,
  loadSubjectFolder,
  type RgbImage,
  rgbImageFromUint8 as floatImage,
  saveImageGrid,
} from "../data/mod.ts";
import type { Cascade } from "../diffusion/mod.ts";
import { formatDuration } from "../trainer/mod.ts";
import { fineTuneSuperRes, imagesFromTensor, loadSrCascade, makeSrPairs } from "../superres/mod.ts";
import { highFrequency, psnr } from "./_sr_metrics.ts";

const SUMMARY =
  `Leave-one-out SR fine-tuning experiment (no fine-tuning vs t_aug 1e-3 vs t_aug 1e-5)
on the built-in subjects: prints a table (PSNR, Laplacian-band error and energy ratio) and writes
PNG grids.`;

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

/** The experiment's settings, read from the command line. */
interface LooOptions {
  model?: string;
  subjects: ReturnType<typeof builtInSubjects>;
  holdout: number;
  steps: number;
  lr: number;
  batch: number;
  crop: number;
  identifier: string;
  settings: Setting[];
  sampleSteps?: number;
  baseSteps?: number;
  out: string;
  beach: boolean;
}

/** The experiment's parameters (options, checks and usage text). */
const looParams = declareParams("run the experiment", {
  model: {
    type: "string",
    minLength: 1,
    metavar: "PATH|preset:NAME",
    help: "cascade",
    defaultText: "the default model, see deno task train-sr --help",
  },
  subjects: { type: "string", metavar: "A,B", help: "built-in subjects", defaultText: "all" },
  holdout: { type: "integer", min: 0, default: 4, help: "index of the held-out image" },
  steps: { type: "integer", min: 1, default: 60, help: "fine-tuning steps per setting" },
  lr: { type: "number", exclusiveMin: 0, default: 2e-4, help: "learning rate" },
  batch: { type: "integer", min: 1, default: 4, help: "examples per step" },
  crop: {
    type: "integer",
    min: 0,
    default: 0,
    help: "random crop side while fine-tuning (0 = whole 1st-SR-stage image)",
  },
  sampleSteps: {
    type: "integer",
    min: 1,
    help: "SR sampler steps",
    defaultText: "the stage's sampler",
  },
  baseSteps: {
    type: "integer",
    min: 1,
    help: "base-stage sampler steps of the beach samples",
    defaultText: "the stage's sampler",
  },
  identifier: { type: "string", minLength: 1, default: "sks", metavar: "V", help: "identifier" },
  augLevels: {
    type: "string",
    default: "1e-3,1e-5",
    metavar: "A,B",
    help: "fine-tuning t_aug levels compared with no fine-tuning",
  },
  out: {
    type: "string",
    minLength: 1,
    default: join("runs", "superres", "experiment"),
    metavar: "DIR",
    help: "output folder",
  },
  beach: { type: "boolean", default: true, help: 'the "a [V] [class] on the beach" samples' },
});

/** The settings from the parsed values (subjects looked up, levels split and checked). */
function looOptions(values: ParamValues<typeof looParams.specs>): LooOptions {
  const all = builtInSubjects();
  const names = values.subjects?.split(",") ?? all.map((s) => s.name);
  const subjects = names.map((n) => {
    const s = all.find((x) => x.name === n);
    if (!s) {
      throw new UsageError(
        `Cannot run the experiment as '--subjects' must name built-in subjects: '${n}' is not one`,
      );
    }
    return s;
  });
  const levels = values.augLevels.split(",").map(Number);
  if (levels.some((l) => !(l >= 0 && l < 1))) {
    throw new UsageError(
      `Cannot run the experiment as '--aug-levels' must be numbers in [0, 1): current value is "${values.augLevels}"`,
    );
  }
  return { ...values, subjects, settings: settingsFor(levels) };
}

/** What the experiment collects: table rows and the two grids' images and labels. */
interface Collected {
  rows: Row[];
  loo: { images: RgbImage[]; labels: string[] };
  beach: { images: RgbImage[]; labels: string[] };
}

/** One subject: the input row, then each setting fine-tuned (or not) and sampled. */
async function runSubject(
  subject: LooOptions["subjects"][number],
  o: LooOptions & { load: () => Promise<Cascade>; t0: number },
  into: Collected,
): Promise<void> {
  using probe = await o.load();
  const hi = probe.stages[1].imageSize, lo = probe.stages[0].imageSize;
  const largest = probe.stages[probe.stages.length - 1].imageSize;
  const sampleSteps = o.sampleSteps ?? probe.stages[1].sampler.steps;
  const { images } = await loadSubjectFolder(subject.dir, { size: largest, onWarning: () => {} });
  const train = images.filter((_, k) => k !== o.holdout);
  using held = makeSrPairs([images[o.holdout]], { highSize: hi, lowSize: lo });
  const [truth] = await imagesFromTensor(held.high);
  const upT = upsampleNearest(held.low, hi / lo);
  const [input] = await imagesFromTensor(upT);
  upT.dispose();
  const prompt = `a ${o.identifier} ${subject.classNoun}`;
  into.loo.images.push(input);
  into.loo.labels.push(`${subject.name}: input (nearest ×${hi / lo})`);
  const base = { ...highFrequency(input, truth), psnr: psnr(input, truth) };
  into.rows.push({
    subject: subject.name,
    setting: "input (nearest upsampling)",
    psnr: base.psnr,
    hfError: base.error,
    hfRatio: base.ratio,
    trainSeconds: 0,
  });
  for (const setting of o.settings) {
    using cascade: Cascade = await o.load();
    let trainSeconds = 0;
    if (setting.augLevel !== null) {
      const runDir = join(o.out, "runs", `${subject.name}_${setting.augLevel}`);
      await Deno.remove(runDir, { recursive: true }).catch(() => {});
      const r = await fineTuneSuperRes(cascade, {
        images: train,
        augLevel: setting.augLevel,
        steps: o.steps,
        learningRate: o.lr,
        batchSize: o.batch,
        cropSize: { "1": o.crop },
        identifier: o.identifier,
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
    into.rows.push(row);
    into.loo.images.push(sr);
    into.loo.labels.push(`${setting.name} (sampled at ${level}): ${row.psnr.toFixed(2)} dB`);
    console.log(
      `${subject.name} | ${setting.name} | PSNR ${row.psnr.toFixed(2)} dB | HF error ${
        row.hfError.toFixed(4)
      } | HF ratio ${row.hfRatio.toFixed(3)} | train ${formatDuration(trainSeconds)} | elapsed ${
        formatDuration((performance.now() - o.t0) / 1000)
      }`,
    );
    if (o.beach) {
      const { images: [b8] } = await cascade.sample({
        prompt: `${prompt} on the beach`,
        seed: 7,
        steps: [o.baseSteps ?? cascade.stages[0].sampler.steps, sampleSteps],
        stages: 2,
        augLevel: level,
      });
      into.beach.images.push(floatImage(b8));
      into.beach.labels.push(`${subject.name}: ${setting.name}`);
    }
  }
  into.loo.images.push(truth);
  into.loo.labels.push(`${subject.name}: truth (held-out image ${o.holdout})`);
}

/** The Markdown table: every row, then the mean of each setting over the subjects. */
function tableLines(rows: Row[]): string[] {
  const settings = [...new Set(rows.map((r) => r.setting))];
  const mean = (s: string, k: "psnr" | "hfError" | "hfRatio") => {
    const xs = rows.filter((r) => r.setting === s).map((r) => r[k]);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  return [
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
}

/**
 * Runs the experiment.
 *
 * @param args Command-line arguments (see the module docs).
 * @returns The exit code (0 done, 2 for a bad option, 1 when a step fails).
 *
 * @example
 * ```ts
 * import { main } from "./superres_leave_one_out.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export async function main(args: string[]): Promise<number> {
  return await runCli(args, {
    params: looParams,
    usage: "deno run -A experiments/superres_leave_one_out.ts [options]",
    summary: SUMMARY,
  }, (values) => runExperiment(looOptions(values)));
}

/** The experiment's body: every subject, then the table and the grids. */
async function runExperiment(o: LooOptions): Promise<number> {
  await Deno.mkdir(o.out, { recursive: true });
  await initBackend();

  // The model: resolved once (a pretraining export is then reused from its file).
  const first = await loadSrCascade(o.model);
  first.cascade.dispose();
  const model = first.source.startsWith("pretrain:")
    ? join("runs", "superres", "pretrain_export", "cascade.safetensors")
    : first.source;
  const load = async () => (await loadSrCascade(model, { warn: () => {} })).cascade;
  console.log(
    `SR experiment: model ${first.source}, subjects ${
      o.subjects.map((s) => s.name).join(", ")
    }, held-out image ${o.holdout}, ${o.steps} steps, lr ${o.lr}, batch ${o.batch}`,
  );
  const got: Collected = {
    rows: [],
    loo: { images: [], labels: [] },
    beach: { images: [], labels: [] },
  };
  const t0 = performance.now();
  for (const subject of o.subjects) await runSubject(subject, { ...o, load, t0 }, got);

  const lines = tableLines(got.rows);
  const { holdout, steps, lr, batch, crop, out } = o;
  const header =
    `SR experiment (${first.source}; held-out image ${holdout}; ${steps} steps, lr ${lr}, batch ${batch}, crop ${crop}; ${
      formatDuration((performance.now() - t0) / 1000)
    })`;
  console.log(`\n${header}\n\n${lines.join("\n")}`);
  await Deno.writeTextFile(join(out, "table.md"), `${header}\n\n${lines.join("\n")}\n`);
  await Deno.writeTextFile(
    join(out, "results.json"),
    JSON.stringify(
      { model: first.source, holdout, steps, lr, batch, crop, rows: got.rows },
      null,
      2,
    ) +
      "\n",
  );
  await saveImageGrid(join(out, "loo_grid.png"), got.loo.images, {
    labels: got.loo.labels,
    columns: o.settings.length + 2,
  });
  if (got.beach.images.length > 0) {
    await saveImageGrid(join(out, "beach_grid.png"), got.beach.images, {
      labels: got.beach.labels,
      columns: o.settings.length,
    });
  }
  console.log(
    `wrote ${join(out, "table.md")}, results.json, loo_grid.png${
      got.beach.images.length ? ", beach_grid.png" : ""
    }`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
