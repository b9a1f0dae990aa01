/**
 * `deno task pretrain`: pretrains one stage of the default cascade on the EmojiScenes world,
 * resumably (see {@link runTraining}).
 *
 * The options, their defaults and bounds are declared once in `pretrain_params.ts`; `--help`
 * prints them.
 *
 * @module
 */
import { join } from "node:path";
import {
  backendOption,
  backendParam,
  type StoppableMain,
  stoppableMain,
  UsageError,
} from "./deps.ts";
import { declareParams, initBackend, presetConfig } from "./deps.ts";
import { pretrainParams } from "./pretrain_params.ts";
import {
  createPretrainConfig,
  createPretrainJob,
  PRETRAIN_STAGES,
  type PretrainStage,
} from "./pretrain_job.ts";
import { runTraining } from "./deps.ts";

/** Default total steps per stage (see reports/default-cascade-lineage.md for how they were chosen). */
export const DEFAULT_PRETRAIN_STEPS: Readonly<Record<PretrainStage, number>> = Object.freeze({
  base: 5000,
  sr1: 1500,
  sr2: 800,
});

/** Default random-crop side of each SR stage (0 = whole image). */
export const DEFAULT_PRETRAIN_CROP: Readonly<Record<PretrainStage, number>> = Object.freeze({
  base: 0,
  sr1: 64,
  sr2: 128,
});

const params = declareParams("pretrain", { ...pretrainParams.specs, backend: backendParam });

const SUMMARY =
  `Pretrains one stage of the default cascade on the EmojiScenes world. The text encoder is trained
with the base stage and frozen afterwards: the SR stages copy it from the base run's checkpoint.
Run the stages in order (base, then sr1, then sr2). Repeating the same command with --resume
continues where the last run stopped.`;

/**
 * Runs the command line.
 *
 * @param args Arguments without the script name (e.g. `Deno.args`).
 * @param options `signal`: stop after the current step (default: SIGINT/SIGTERM do it).
 * @returns The exit code (0 done or stopped cleanly, 1 error or non-finite loss, 2 usage).
 *
 * @example
 * ```ts
 * import { main } from "./pretrain_cli.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export const main: StoppableMain = stoppableMain({
  params,
  usage: "deno task pretrain --stage base|sr1|sr2 [options]",
  summary: SUMMARY,
}, async (values, { args, stoppable }) => {
  const stage = values.stage;
  if (stage === undefined) {
    throw new UsageError(
      `Cannot pretrain as '--stage' must be one of ${
        PRETRAIN_STAGES.join(", ")
      }: current value is undefined`,
    );
  }
  const preset = values.preset;
  const prefer = backendOption(values.backend);
  const steps = values.steps ?? DEFAULT_PRETRAIN_STEPS[stage];
  const { batchSize, emaDecay, dataSeed, objectWeight } = values;
  const lr = values.learningRate;
  const crop = values.crop ?? DEFAULT_PRETRAIN_CROP[stage];
  let objectScale: [number, number] | undefined;
  if (values.objectScale !== undefined) {
    const parts = values.objectScale.split(",").map((v) => Number(v.trim()));
    if (
      parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0] > 0) ||
      !(parts[1] <= 1) || !(parts[0] <= parts[1])
    ) {
      throw new UsageError(
        `Cannot pretrain as '--object-scale' must be MIN,MAX with 0 < MIN ≤ MAX ≤ 1: current value is ${
          JSON.stringify(values.objectScale)
        }`,
      );
    }
    objectScale = [parts[0], parts[1]];
  }
  const runDir = values.runDir ?? join("runs", "pretrain", stage);
  const baseRun = values.baseRun ?? join("runs", "pretrain", "base");
  const cascade = presetConfig(preset);
  const config = createPretrainConfig({
    cascade,
    stage,
    ...(batchSize !== undefined ? { batchSize } : {}),
    trainer: { ...(lr !== undefined ? { learningRate: lr } : {}), cropSize: crop },
    baseCheckpoint: stage === "base"
      ? null
      : baseRun.endsWith(".safetensors")
      ? baseRun
      : join(baseRun, "checkpoint.safetensors"),
    ...(values.initFrom !== undefined ? { initFrom: values.initFrom } : {}),
    ...(objectScale ? { objectScale } : {}),
    ...(objectWeight !== undefined ? { objectWeight } : {}),
    ...(dataSeed !== undefined ? { dataSeed } : {}),
    ...(emaDecay !== undefined ? { emaDecay } : {}),
  });
  await initBackend({ prefer });
  using job = await createPretrainJob(config);
  const i = PRETRAIN_STAGES.indexOf(stage);
  const unet = job.cascade.stages[i].unet;
  console.log(
    `pretraining stage ${stage} (${job.cascade.stages[i].imageSize}×${
      job.cascade.stages[i].imageSize
    }${i > 0 ? `, from ${job.cascade.stages[i - 1].imageSize}` : ""}) of preset '${preset}': UNet ${
      (unet.numParams / 1e6).toFixed(2)
    } M params${
      i === 0
        ? `, text encoder ${(job.cascade.textEncoder.numParams / 1e6).toFixed(2)} M (trained)`
        : ", text encoder frozen"
    }; batch ${config.batchSize}, lr ${config.trainer.learningRate}, data stream seed ${config.dataSeed}${
      config.emaDecay !== undefined ? `, weight average decay ${config.emaDecay}` : ""
    }; run '${runDir}'`,
  );
  const summary = await stoppable((signal) =>
    runTraining(job, {
      runDir,
      totalSteps: steps,
      config,
      args,
      resume: values.resume,
      checkpointEverySteps: values.checkpointEverySteps,
      checkpointEveryMinutes: values.checkpointEveryMinutes,
      sampleEverySteps: values.sampleEverySteps,
      sampleAtStart: stage === "base", // an untrained SR stage draws noise: not worth minutes
      logEverySteps: values.logEverySteps,
      timeBudgetMinutes: values.timeBudgetMinutes ?? Infinity,
      title: `pretraining loss, stage ${stage} (${preset})`,
      signal,
    })
  );
  return summary.reason === "non-finite loss" ? 1 : 0;
});

if (import.meta.main) Deno.exit(await main(Deno.args));
