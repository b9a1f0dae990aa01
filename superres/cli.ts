/**
 * `deno task train-sr`: fine-tunes the SR stages of a cascade on a subject (see `fineTuneSuperRes`).
 *
 * ```sh
 * deno task train-sr [--model PATH|preset:NAME] [--subject NAME|DIR] [--stage 1|2] [--all-stages]
 *   [--aug-level T] [--sample-aug-level T] [--steps N] [--lr X] [--batch N] [--crop N]
 *   [--identifier V] [--class-noun NOUN] [--prompt TEMPLATE] [--drop-identifier] [--run-dir DIR]
 *   [--resume] [--time-budget-min M] [--checkpoint-every N] [--sample-every N] [--sample-steps N]
 *   [--seed S] [--backend NAME]
 * ```
 *
 * @module
 */
import {
  backendOption,
  builtInSubjects,
  formatDuration,
  initBackend,
  numberOption,
  runCli,
  runStoppable,
  UsageError,
} from "./deps.ts";
import { fineTuneSuperRes } from "./fine_tune_super_res.ts";

const USAGE = `Usage: deno task train-sr [options]

Instance-specific super-resolution fine-tuning (DreamBooth §4.3): fine-tunes the cascade's first SR
stage (or --stage 2, --all-stages) on (low-res, high-res) pairs of the subject's own images, the
low-res half made by the cascade's own area downsampling and noise-augmented at ONE fixed level
t_aug, the model conditioned on it. t_aug is the augmentation's own diffusion time (σ_aug =
sin(π t_aug / 2) under the cosine schedule); the paper's "1e-3 → 1e-5" are values of t_aug.
Writes <run-dir>/stage<i>/ (resumable run) and <run-dir>/cascade.safetensors, whose fine-tuned
stages sample at the same low t_aug (deno task sample --model <run-dir>/cascade.safetensors).
With no options: the default model and the built-in dog. Until models/default ships, the default
model is the newest pretraining run with SR stages under runs/pretrain/, else the UNTRAINED tiny
preset (a loud notice says so).

Options:
  --model PATH|preset:NAME  cascade checkpoint or preset:tiny|small (default: the default model)
  --subject NAME|DIR        built-in subject (${
  builtInSubjects().map((s) => s.name).join(", ")
}) or a folder of photos (default dog)
  --stage N                 the SR stage to fine-tune (default 1)
  --all-stages              fine-tune every SR stage
  --aug-level T             t_aug while fine-tuning (default 1e-5)
  --sample-aug-level T      t_aug at inference for the fine-tuned stages (default: --aug-level)
  --steps N                 steps per stage (default 60)
  --lr X                    learning rate (default 2e-4)
  --batch N                 examples per step (default 4)
  --crop N                  random crop side for the fine-tuned stage(s) (default: none for stage 1, 128 for stage 2)
  --identifier V            the identifier [V] (default sks)
  --class-noun NOUN         class noun (default: the subject's)
  --prompt TEMPLATE         prompt with {identifier} and {class} (default "a {identifier} {class}")
  --drop-identifier         train on "a {class}" (no identifier)
  --run-dir DIR             run folder (default runs/superres/<subject>)
  --resume                  continue the runs in --run-dir
  --time-budget-min M       stop cleanly (checkpoint) after M minutes per stage
  --checkpoint-every N      checkpoint every N steps (default 50)
  --sample-every N          sample grid every N steps (default: --steps, i.e. before and after; 0 = none)
  --sample-steps N          sampler steps of the sample grid (default 10; 0 = none)
  --seed S                  seed (default 0)
  --backend NAME            auto, tensorflow, wasm-native, wasm, cpu, webgpu (default auto)
  --help                    show this help`;

const num = (name: string, v: string | undefined) => numberOption("fine-tune", name, v);

/**
 * Runs the command.
 *
 * @param args Command-line arguments.
 * @param options `signal` to stop (default: SIGINT/SIGTERM stop after the current step).
 * @returns The exit code: 0 done or stopped cleanly, 1 error or non-finite loss, 2 usage.
 *
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export async function main(
  args: string[],
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  return await runCli(args, {
    usage: USAGE,
    options: {
      model: { type: "string" },
      subject: { type: "string" },
      stage: { type: "string" },
      "all-stages": { type: "boolean" },
      "aug-level": { type: "string" },
      "sample-aug-level": { type: "string" },
      steps: { type: "string" },
      lr: { type: "string" },
      batch: { type: "string" },
      crop: { type: "string" },
      identifier: { type: "string" },
      "class-noun": { type: "string" },
      prompt: { type: "string" },
      "drop-identifier": { type: "boolean" },
      "run-dir": { type: "string" },
      resume: { type: "boolean" },
      "time-budget-min": { type: "string" },
      "checkpoint-every": { type: "string" },
      "sample-every": { type: "string" },
      "sample-steps": { type: "string" },
      seed: { type: "string" },
      backend: { type: "string" },
    },
  }, async (values) => {
    if (values.stage !== undefined && values["all-stages"]) {
      throw new UsageError(`Cannot use '--stage' together with '--all-stages'`);
    }
    const subjectArg = values.subject ?? "dog";
    const builtIn = builtInSubjects().find((s) => s.name === subjectArg);
    const subjectDir = builtIn?.dir ?? subjectArg;
    const crop = num("crop", values.crop);
    const stage = num("stage", values.stage);
    await initBackend({ prefer: backendOption(values.backend) });
    const r = await runStoppable(options.signal, (signal) =>
      fineTuneSuperRes(values.model, {
        subjectDir,
        ...(builtIn ? { classNoun: builtIn.classNoun } : {}),
        ...(stage !== undefined ? { stage } : {}),
        allStages: values["all-stages"] ?? false,
        ...(values["aug-level"] !== undefined
          ? { augLevel: num("aug-level", values["aug-level"]) }
          : {}),
        ...(values["sample-aug-level"] !== undefined
          ? { sampleAugLevel: num("sample-aug-level", values["sample-aug-level"]) }
          : {}),
        ...(values.steps !== undefined ? { steps: num("steps", values.steps) } : {}),
        ...(values.lr !== undefined ? { learningRate: num("lr", values.lr) } : {}),
        ...(values.batch !== undefined ? { batchSize: num("batch", values.batch) } : {}),
        ...(crop !== undefined
          ? {
            cropSize: {
              [String(stage ?? 1)]: crop,
              ...(values["all-stages"] ? { "1": crop, "2": crop } : {}),
            },
          }
          : {}),
        ...(values.identifier !== undefined ? { identifier: values.identifier } : {}),
        ...(values["class-noun"] !== undefined ? { classNoun: values["class-noun"] } : {}),
        ...(values.prompt !== undefined ? { prompt: values.prompt } : {}),
        dropIdentifier: values["drop-identifier"] ?? false,
        ...(values["run-dir"] !== undefined ? { runDir: values["run-dir"] } : {
          runDir: `runs/superres/${
            builtIn?.name ?? subjectDir.replace(/\/+$/, "").split("/").pop()
          }`,
        }),
        resume: values.resume ?? false,
        ...(values["time-budget-min"] !== undefined
          ? { timeBudgetMinutes: num("time-budget-min", values["time-budget-min"]) }
          : {}),
        ...(values["checkpoint-every"] !== undefined
          ? { checkpointEverySteps: num("checkpoint-every", values["checkpoint-every"]) }
          : {}),
        ...(values["sample-every"] !== undefined
          ? { sampleEverySteps: num("sample-every", values["sample-every"]) }
          : {}),
        ...(values["sample-steps"] !== undefined
          ? { sampleSteps: num("sample-steps", values["sample-steps"]) }
          : {}),
        ...(values.seed !== undefined ? { seed: num("seed", values.seed) } : {}),
        signal,
      }));
    console.log(
      `SR fine-tuning ${r.done ? "done" : "stopped"} in ${formatDuration(r.seconds)} (${
        r.stages.map((s) =>
          `stage ${s.stage}: ${s.summary.reason} at ${s.summary.step}/${s.summary.totalSteps}, ${
            formatDuration(s.summary.seconds)
          }`
        ).join("; ")
      })${r.cascadePath ? ` → ${r.cascadePath}` : ""}`,
    );
    return r.stages.some((s) => s.summary.reason === "non-finite loss") ? 1 : 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
