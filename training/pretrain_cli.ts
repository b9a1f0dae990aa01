/**
 * `deno task pretrain`: pretrains one stage of the default cascade on the EmojiScenes world,
 * resumably (see {@link runTraining}).
 *
 * ```sh
 * deno task pretrain --stage base|sr1|sr2 [--steps N] [--batch B] [--lr X] [--resume] [--run DIR]
 *   [--backend NAME] [--time-budget-min M] [--preset small|tiny] [--base-run DIR|FILE] [--crop N]
 *   [--init-from FILE] [--object-scale MIN,MAX] [--object-weight K]
 *   [--checkpoint-every N] [--checkpoint-minutes M] [--sample-every N] [--log-every N]
 * ```
 *
 * @module
 */
import { join } from "node:path";
import {
  backendOption,
  numberOption,
  runLegacyCli,
  runStoppable,
  UsageError,
} from "./cli_options.ts";
import { initBackend, presetConfig, type PresetName } from "./deps.ts";
import {
  createPretrainConfig,
  createPretrainJob,
  PRETRAIN_STAGES,
  type PretrainStage,
} from "./pretrain_job.ts";
import { runTraining } from "./training_run.ts";

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

const USAGE = `Usage: deno task pretrain --stage base|sr1|sr2 [options]

Pretrains one stage of the default cascade on the EmojiScenes world. The text encoder is trained
with the base stage and frozen afterwards: the SR stages copy it from the base run's checkpoint.
Run the stages in order (base, then sr1, then sr2). Repeating the same command with --resume
continues where the last run stopped.

Options:
  --stage NAME              base, sr1 or sr2 (required)
  --steps N                 train until step N in all (default base ${DEFAULT_PRETRAIN_STEPS.base}, sr1 ${DEFAULT_PRETRAIN_STEPS.sr1}, sr2 ${DEFAULT_PRETRAIN_STEPS.sr2})
  --batch B                 examples per step (default 16 base, 8 SR)
  --lr X                    Adam learning rate (default 5e-4)
  --resume                  continue the run in --run from its checkpoint (none: start fresh)
  --run DIR                 run folder (default runs/pretrain/<stage>)
  --preset NAME             cascade preset: small (default) or tiny
  --base-run DIR|FILE       SR stages: the base run folder, or an exported cascade .safetensors, whose
                            text encoder the stage uses, frozen (default runs/pretrain/base)
  --crop N                  SR stages: random crop side, 0 = none (default sr1 ${DEFAULT_PRETRAIN_CROP.sr1}, sr2 ${DEFAULT_PRETRAIN_CROP.sr2})
  --init-from FILE          start a fresh run from an exported cascade (e.g. models/default/cascade.safetensors);
                            SR stages take only their UNet from it and keep the --base-run's text encoder
  --object-scale MIN,MAX    object size range in the training scenes, as a fraction of the image side
                            (default: the world's, 0.4,0.62; larger objects give a 32² base more pixels per shape)
  --object-weight K         loss weight of the object's pixels against the background's (default 1:
                            the plain loss; K > 1 spends more of the gradient on the objects)
  --ema-decay D             keep an exponential moving average of the weights with decay D in (0, 1)
                            (e.g. 0.999: about the last 1,000 steps), which the export ships; the
                            sample grids show the raw weights (default: none)
  --data-seed N             EmojiScenes stream seed, an integer below 2^24 (default 1048576 + stage index);
                            give a run that continues another one (--init-from) fresh scenes
  --time-budget-min M       stop cleanly, with a checkpoint, before M minutes
  --checkpoint-every N      checkpoint every N steps (default 250)
  --checkpoint-minutes M    and at least every M minutes (default 10)
  --sample-every N          sample grid + loss curve every N steps (default 250)
  --log-every N             progress line every N steps (default 10)
  --backend NAME            auto, tensorflow, wasm-native, wasm, cpu, webgpu (default auto)
  --help                    show this help`;

const num = (name: string, v: string | undefined, opts: { int?: boolean; min?: number } = {}) =>
  numberOption("pretrain", name, v, { integer: opts.int, min: opts.min ?? 0 });

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
export async function main(
  args: string[],
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  return await runLegacyCli(args, {
    usage: USAGE,
    options: {
      stage: { type: "string" },
      steps: { type: "string" },
      batch: { type: "string" },
      lr: { type: "string" },
      resume: { type: "boolean" },
      run: { type: "string" },
      preset: { type: "string" },
      "base-run": { type: "string" },
      "init-from": { type: "string" },
      "object-scale": { type: "string" },
      crop: { type: "string" },
      "object-weight": { type: "string" },
      "data-seed": { type: "string" },
      "ema-decay": { type: "string" },
      "time-budget-min": { type: "string" },
      "checkpoint-every": { type: "string" },
      "checkpoint-minutes": { type: "string" },
      "sample-every": { type: "string" },
      "log-every": { type: "string" },
      backend: { type: "string" },
    },
  }, async (values) => {
    const stage = values.stage as PretrainStage;
    if (!PRETRAIN_STAGES.includes(stage)) {
      throw new UsageError(
        `Cannot pretrain as '--stage' must be one of ${
          PRETRAIN_STAGES.join(", ")
        }: current value is ${JSON.stringify(values.stage)}`,
      );
    }
    const preset = (values.preset ?? "small") as PresetName;
    if (preset !== "small" && preset !== "tiny") {
      throw new UsageError(
        `Cannot pretrain as '--preset' must be small or tiny: current value is ${
          JSON.stringify(preset)
        }`,
      );
    }
    const prefer = backendOption(values.backend);
    const steps = num("steps", values.steps, { int: true, min: 1 }) ??
      DEFAULT_PRETRAIN_STEPS[stage];
    const batchSize = num("batch", values.batch, { int: true, min: 1 });
    const lr = num("lr", values.lr);
    if (lr !== undefined && lr <= 0) {
      throw new UsageError(`Cannot pretrain as '--lr' must be > 0: current value is ${values.lr}`);
    }
    const crop = num("crop", values.crop, { int: true }) ?? DEFAULT_PRETRAIN_CROP[stage];
    const budget = num("time-budget-min", values["time-budget-min"]);
    if (budget !== undefined && budget <= 0) {
      throw new UsageError(`Cannot pretrain as '--time-budget-min' must be > 0`);
    }
    let objectScale: [number, number] | undefined;
    if (values["object-scale"] !== undefined) {
      const parts = values["object-scale"].split(",").map((v) => Number(v.trim()));
      if (
        parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0] > 0) ||
        !(parts[1] <= 1) || !(parts[0] <= parts[1])
      ) {
        throw new UsageError(
          `Cannot pretrain as '--object-scale' must be MIN,MAX with 0 < MIN ≤ MAX ≤ 1: current value is ${
            JSON.stringify(values["object-scale"])
          }`,
        );
      }
      objectScale = [parts[0], parts[1]];
    }
    const objectWeight = num("object-weight", values["object-weight"]);
    if (objectWeight !== undefined && !(objectWeight > 0)) {
      throw new UsageError(
        `Cannot pretrain as '--object-weight' must be > 0: current value is ${
          values["object-weight"]
        }`,
      );
    }
    const dataSeed = num("data-seed", values["data-seed"], { int: true });
    if (dataSeed !== undefined && dataSeed >= 2 ** 24) {
      throw new UsageError(
        `Cannot pretrain as '--data-seed' must be below 2^24 = 16777216 (eval/ owns the seeds above): current value is ${dataSeed}`,
      );
    }
    const emaDecay = num("ema-decay", values["ema-decay"]);
    if (emaDecay !== undefined && !(emaDecay > 0 && emaDecay < 1)) {
      throw new UsageError(
        `Cannot pretrain as '--ema-decay' must be in (0, 1): current value is ${
          values["ema-decay"]
        }`,
      );
    }
    const runDir = values.run ?? join("runs", "pretrain", stage);
    const baseRun = values["base-run"] ?? join("runs", "pretrain", "base");
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
      ...(values["init-from"] !== undefined ? { initFrom: values["init-from"] } : {}),
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
      }${
        i > 0 ? `, from ${job.cascade.stages[i - 1].imageSize}` : ""
      }) of preset '${preset}': UNet ${(unet.numParams / 1e6).toFixed(2)} M params${
        i === 0
          ? `, text encoder ${(job.cascade.textEncoder.numParams / 1e6).toFixed(2)} M (trained)`
          : ", text encoder frozen"
      }; batch ${config.batchSize}, lr ${config.trainer.learningRate}, data stream seed ${config.dataSeed}${
        config.emaDecay !== undefined ? `, weight average decay ${config.emaDecay}` : ""
      }; run '${runDir}'`,
    );
    const summary = await runStoppable(options.signal, (signal) =>
      runTraining(job, {
        runDir,
        totalSteps: steps,
        config,
        args,
        resume: values.resume ?? false,
        checkpointEverySteps: num("checkpoint-every", values["checkpoint-every"], { int: true }) ??
          250,
        checkpointEveryMinutes: num("checkpoint-minutes", values["checkpoint-minutes"]) ?? 10,
        sampleEverySteps: num("sample-every", values["sample-every"], { int: true }) ?? 250,
        sampleAtStart: stage === "base", // an untrained SR stage draws noise: not worth minutes
        logEverySteps: num("log-every", values["log-every"], { int: true, min: 1 }) ?? 10,
        timeBudgetMinutes: budget ?? Infinity,
        title: `pretraining loss, stage ${stage} (${preset})`,
        signal,
      }));
    return summary.reason === "non-finite loss" ? 1 : 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
