/**
 * `deno task train-sr`: fine-tunes the SR stages of a cascade on a subject (see `fineTuneSuperRes`).
 *
 * The options, their defaults and bounds are declared once in `superres_params.ts` (the RPC
 * `superres.start` params come from the same declaration); `--help` prints them.
 *
 * @module
 */
import {
  backendOption,
  backendParam,
  builtInSubjects,
  declareParams,
  formatDuration,
  initBackend,
  readModelSubject,
  type StoppableMain,
  stoppableMain,
  UsageError,
} from "./deps.ts";
import { fineTuneSuperRes, srLoRAOf } from "./fine_tune_super_res.ts";
import { superResParams } from "./superres_params.ts";

const SUMMARY =
  `Instance-specific super-resolution fine-tuning (DreamBooth §4.3): fine-tunes the cascade's first SR
stage (or --stage 2, --all-stages) on (low-res, high-res) pairs of the subject's own images, the
low-res half made by the cascade's own area downsampling and noise-augmented at ONE fixed level
t_aug, the model conditioned on it. t_aug is the augmentation's own diffusion time (σ_aug =
sin(π t_aug / 2) under the cosine schedule); the paper's "1e-3 → 1e-5" are values of t_aug.
Writes <run-dir>/stage<i>/ (resumable run) and <run-dir>/cascade.safetensors, whose fine-tuned
stages sample at the same low t_aug (deno task sample --model <run-dir>/cascade.safetensors).
With no options: the default model and the built-in dog. Until models/default ships, the default
model is the newest pretraining run with SR stages under runs/pretrain/, else the UNTRAINED tiny
preset (a loud notice says so).`;

const params = declareParams("fine-tune", { ...superResParams.specs, backend: backendParam });

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
export const main: StoppableMain = stoppableMain({
  params,
  usage: "deno task train-sr [options]",
  summary: SUMMARY,
}, async (values, { given, stoppable }) => {
  const {
    model,
    subjectDir: subjectArg = "dog",
    stage,
    allStages,
    crop,
    backend,
    method,
    rank,
    loraAlpha,
    loraTargets,
    ...rest
  } = values;
  if (given.has("stage") && allStages) {
    throw new UsageError(`Cannot use '--stage' together with '--all-stages'`);
  }
  const lora = srLoRAOf({ method, rank, loraAlpha, loraTargets });
  const builtIn = builtInSubjects().find((s) => s.name === subjectArg);
  const subjectDir = builtIn?.dir ?? subjectArg;
  await initBackend({ prefer: backendOption(backend) });
  // A personalised model's class noun comes before the built-in subject's.
  const fromModel = model !== undefined ? await readModelSubject(model) : null;
  const r = await stoppable((signal) =>
    fineTuneSuperRes(model, {
      ...(builtIn && !fromModel?.classNoun ? { classNoun: builtIn.classNoun } : {}),
      ...rest,
      ...(lora ? { lora } : {}),
      subjectDir,
      ...(stage !== undefined ? { stage } : {}),
      allStages,
      ...(crop !== undefined
        ? {
          cropSize: {
            [String(stage ?? 1)]: crop,
            ...(allStages ? { "1": crop, "2": crop } : {}),
          },
        }
        : {}),
      runDir: rest.runDir ??
        `runs/superres/${builtIn?.name ?? subjectDir.replace(/\/+$/, "").split("/").pop()}`,
      signal,
    })
  );
  console.log(
    `SR fine-tuning ${r.done ? "done" : "stopped"} in ${formatDuration(r.seconds)} (${
      r.stages.map((s) =>
        `stage ${s.stage}: ${s.summary.reason} at ${s.summary.step}/${s.summary.totalSteps}, ${
          formatDuration(s.summary.seconds)
        }`
      ).join("; ")
    })${r.cascadePath ? ` → ${r.cascadePath}` : ""}${
      r.loraPath ? ` (adapters ${r.loraPath})` : ""
    }`,
  );
  return r.stages.some((s) => s.summary.reason === "non-finite loss") ? 1 : 0;
});

if (import.meta.main) Deno.exit(await main(Deno.args));
