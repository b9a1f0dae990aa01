/**
 * Instance-specific super-resolution fine-tuning (DreamBooth §4.3): fine-tunes a cascade's SR
 * stages on (low-res, high-res) pairs of the subject's own images with the noise-conditioning
 * augmentation pinned to a low level t_aug (default 1e-5; t_aug is the augmentation's own
 * diffusion time, σ_aug = sin(π t_aug / 2) under the cosine schedule, see DESIGN.md), then saves
 * the personalised cascade with those stages' sampling `augLevel` set to the same low level, so
 * that `cascade.sample` (or `deno task sample --model …`) uses it at inference.
 *
 * @module
 */
import { join } from "node:path";
import {
  type BuiltInSubject,
  Cascade,
  defaultSubject,
  exportCascadeLoRA,
  formatDuration,
  loadSubjectFolder,
  type LoRAConfig,
  type LoRATargets,
  mergeCascadeLoRA,
  readModelSubject,
  readRunCheckpoint,
  type RgbImage,
  runTraining,
  saveCheckpoint,
  saveLoRAFile,
  type StepResult,
  type TrainingJob,
  type TrainingSummary,
} from "./deps.ts";
import { createSrFineTuneConfig, type SrFineTuneConfig } from "./sr_fine_tune_config.ts";
import { makeSrPairs } from "./sr_pairs.ts";
import { createSrFineTuneJob, type SrFineTuneJob } from "./sr_fine_tune_job.ts";
import { loadSrCascade } from "./load_sr_cascade.ts";
import { superResParams } from "./superres_params.ts";

/** Progress of {@link fineTuneSuperRes}, after every step. */
export interface SrProgress {
  /** The cascade stage being trained (1 = first SR stage). */
  stage: number;
  /** Step reached in this stage. */
  step: number;
  /** Steps of this stage. */
  steps: number;
  /** The step's loss. */
  loss: number;
  /** Seconds since the call started. */
  elapsedSeconds: number;
  /** Estimated seconds left for every remaining stage (from this call's step rate). */
  etaSeconds: number;
}

/** Options of {@link fineTuneSuperRes}: any field of `SrFineTuneConfig`, plus the following. */
export interface FineTuneSuperResOptions extends Partial<SrFineTuneConfig> {
  /** The subject's images (square, side a multiple of the cascade's largest size). Default: loaded from `subjectDir`. */
  images?: readonly RgbImage[];
  /** A subject folder (images centre-cropped and resized to the cascade's largest size). Default: the default built-in subject. */
  subjectDir?: string;
  /** One SR stage to fine-tune (1 or 2), instead of `stages`. Default: `stages` (default [1]). */
  stage?: number;
  /** Fine-tune every SR stage. Default false. */
  allStages?: boolean;
  /** Alias of `learningRate`. */
  lr?: number;
  /** The run folder (one sub-folder `stage<i>` per stage, and `cascade.safetensors`). Default `runs/superres/<subject>`. */
  runDir?: string;
  /** Continue the runs in `runDir` from their checkpoints. Default false (a folder with a checkpoint is refused). */
  resume?: boolean;
  /** Stop cleanly (checkpointed, resumable) after this many minutes per stage. Default ∞. */
  timeBudgetMinutes?: number;
  /** Checkpoint every N steps. Default 50. */
  checkpointEverySteps?: number;
  /** Sample grid (input, output, truth) every N steps, also at step 0 and at the end (0: none). Default: `steps` (before and after). */
  sampleEverySteps?: number;
  /** Sampler steps of the sample grid (0: no grid). Default 10. */
  sampleSteps?: number;
  /** Save the personalised cascade (`<runDir>/cascade.safetensors`, float32). Default true. */
  save?: boolean;
  /**
   * Fine-tune LoRA adapters (attached to each SR stage's UNet) instead of every weight. Default
   * none (full fine-tuning). They stay attached unless saved (`save`): then they are written to
   * `<runDir>/lora.safetensors` and merged into the cascade (a borrowed one too) before
   * `cascade.safetensors` is written.
   */
  lora?: Partial<LoRAConfig>;
  /** Called after every step. */
  onProgress?: (p: SrProgress) => void;
  /** Stops after the current step (checkpointed). */
  signal?: AbortSignal;
  /** Where progress lines go. Default `console.log`. */
  log?: (line: string) => void;
}

/** What {@link fineTuneSuperRes} returns. */
export interface FineTuneSuperResResult {
  /** The personalised cascade file, or null when not saved (`save: false`, or a stage did not finish). */
  cascadePath: string | null;
  /** Whether every stage reached its steps. */
  done: boolean;
  /** t_aug per cascade stage for sampling the personalised cascade (`cascade.sample({ augLevel })`). */
  augLevels: number[];
  /** The merged settings. */
  config: SrFineTuneConfig;
  /** Per fine-tuned stage: its run folder and the run summary. */
  stages: { stage: number; runDir: string; summary: TrainingSummary }[];
  /** Seconds of the whole call. */
  seconds: number;
  /** The adapters file (`<runDir>/lora.safetensors`) when `lora` and saved, else null. */
  loraPath: string | null;
  /** Where the cascade came from (a path, `preset:NAME`, `pretrain:…`, or "in-memory"). */
  source: string;
}

/**
 * The fine-tuning config: the subject's class noun, a personalised model's identifier and class
 * noun (unless given), the options, and the stages to train, checked against the cascade.
 */
async function resolveConfig(
  cascade: Cascade,
  cascadeOrPath: Cascade | string | undefined,
  configInput: Partial<SrFineTuneConfig>,
  opts: {
    subject: BuiltInSubject | null;
    lr?: number;
    allStages: boolean;
    stage?: number;
    log: (line: string) => void;
  },
): Promise<SrFineTuneConfig> {
  const { subject, lr, allStages, stage, log } = opts;
  const srCount = cascade.stages.length - 1;
  if (srCount < 1) {
    throw new RangeError(`Cannot fine-tune super-resolution as the cascade has no SR stage`);
  }
  if (stage !== undefined && (!Number.isInteger(stage) || stage < 1 || stage > srCount)) {
    throw new RangeError(
      `Cannot fine-tune super-resolution as 'stage' must be an integer in [1, ${srCount}]: current value is ${stage}`,
    );
  }
  // The one identifier rule: a personalised model's identifier and class noun, unless given.
  const fromModel = typeof cascadeOrPath === "string"
    ? await readModelSubject(cascadeOrPath)
    : null;
  if (
    fromModel && (configInput.identifier === undefined || configInput.classNoun === undefined)
  ) {
    log(
      `personalised model: identifier ${JSON.stringify(fromModel.identifier)}, class ${
        JSON.stringify(fromModel.classNoun)
      } (from its metadata)`,
    );
  }
  const config = createSrFineTuneConfig({
    ...(subject ? { classNoun: subject.classNoun } : {}),
    ...(fromModel
      ? {
        identifier: fromModel.identifier,
        ...(fromModel.classNoun ? { classNoun: fromModel.classNoun } : {}),
      }
      : {}),
    ...configInput,
    ...(lr !== undefined ? { learningRate: lr } : {}),
    ...(allStages
      ? { stages: Array.from({ length: srCount }, (_, k) => k + 1) }
      : stage !== undefined
      ? { stages: [stage] }
      : {}),
  });
  for (const s of config.stages) {
    if (s > srCount) {
      throw new RangeError(
        `Cannot fine-tune SR stage ${s} as the cascade has ${srCount} SR stage${
          srCount === 1 ? "" : "s"
        }`,
      );
    }
  }
  return config;
}

/** A training job whose every step is also reported to `report`; the job stays the caller's. */
function withProgress(
  job: SrFineTuneJob,
  report: (r: StepResult) => void,
  samples: boolean,
): TrainingJob {
  return {
    get step() {
      return job.step;
    },
    checkpoint: () => job.checkpoint(),
    restore: (c: Parameters<typeof job.restore>[0]) => job.restore(c),
    ...(samples ? { samples: () => job.samples!() } : {}),
    trainStep: async () => {
      const r = await job.trainStep();
      report(r);
      return r;
    },
  };
}

/**
 * Saves a finished run: the adapters (with `lora`, then merged) and `<runDir>/cascade.safetensors`.
 */
async function saveRun(
  cascade: Cascade,
  opts: {
    runDir: string;
    config: SrFineTuneConfig;
    augLevels: number[];
    source: string;
    lora: boolean;
    t0: number;
    log: (line: string) => void;
  },
): Promise<{ cascadePath: string; loraPath: string | null }> {
  const { runDir, config, augLevels, source, log } = opts;
  const loraPath = opts.lora
    ? await saveSrAdapters(cascade, { runDir, augLevels, source, log })
    : null;
  const cascadePath = join(runDir, "cascade.safetensors");
  await savePersonalised(cascadePath, cascade, { config, augLevels, source });
  const took = formatDuration((performance.now() - opts.t0) / 1000);
  const sampleAug = config.sampleAugLevel ?? config.augLevel;
  log(
    `personalised cascade → ${cascadePath} (SR stages ${config.stages} sample at t_aug ${sampleAug}) in ${took}`,
  );
  return { cascadePath, loraPath };
}

/**
 * Writes the SR stages' adapters to `<runDir>/lora.safetensors` (the base model and the sampling
 * t_aug per stage in its metadata, as `deno task train --method lora` does), then merges them into
 * the cascade. Returns the file.
 */
async function saveSrAdapters(
  cascade: Cascade,
  opts: { runDir: string; augLevels: number[]; source: string; log: (line: string) => void },
): Promise<string> {
  const path = join(opts.runDir, "lora.safetensors");
  const adapters = await exportCascadeLoRA(cascade);
  const bytes = await saveLoRAFile(path, adapters, {
    metadata: { baseModel: opts.source, augLevels: JSON.stringify(opts.augLevels) },
  });
  const merged = mergeCascadeLoRA(cascade);
  opts.log(
    `LoRA adapters (${Object.keys(adapters.parts).join(", ")}) → ${path} (${
      (bytes / 1024).toFixed(1)
    } KiB); merged ${merged.join(", ")} into the cascade`,
  );
  return path;
}

/**
 * The `lora` option of {@link fineTuneSuperRes} from the declared `method`, `rank`, `loraAlpha`
 * and `loraTargets` (`deno task train-sr`, the RPC `superres.start` job): undefined for the
 * default method; the LoRA options without `method: "lora"` are refused, naming the option.
 *
 * @param values The declared values.
 * @returns The LoRA config, or undefined (full fine-tuning).
 *
 * @example
 * ```ts
 * import { srLoRAOf } from "./fine_tune_super_res.ts";
 * console.log(srLoRAOf({ method: "lora", rank: 2 })); // { rank: 2, targets: "attn" }
 * ```
 */
export function srLoRAOf(
  values: { method?: string; rank?: number; loraAlpha?: number; loraTargets?: LoRATargets },
): Partial<LoRAConfig> | undefined {
  const { method = "dreambooth", rank, loraAlpha, loraTargets } = values;
  if (method !== "lora") {
    for (const [k, v] of Object.entries({ rank, loraAlpha, loraTargets })) {
      if (v !== undefined) {
        throw new RangeError(
          `Cannot fine-tune as '${k}' (${
            superResParams.name(k as "rank", "option")
          }) needs --method lora: current value is ${JSON.stringify(v)}`,
        );
      }
    }
    return undefined;
  }
  return {
    rank: rank ?? 4,
    ...(loraAlpha !== undefined ? { alpha: loraAlpha } : {}),
    targets: loraTargets ?? "attn",
  };
}

/** Writes the cascade with the personalised stages' sampling t_aug (a view sharing the models). */
async function savePersonalised(
  path: string,
  cascade: Cascade,
  opts: { config: SrFineTuneConfig; augLevels: number[]; source: string },
): Promise<void> {
  const view = new Cascade({
    textEncoder: cascade.textEncoder,
    tokenizer: cascade.tokenizer,
    stages: cascade.stages.map((s, k) => ({ ...s, augLevel: opts.augLevels[k] })),
  });
  await saveCheckpoint(path, view, {
    metadata: { superres: JSON.stringify({ ...opts.config, source: opts.source }) },
  });
}

/**
 * After a non-finite loss the failed update reached the weights in memory: back to the last good
 * checkpoint (or the weights the stage started from), so a borrowed cascade is never left broken.
 */
async function restoreLastGood(
  unet: Cascade["stages"][number]["unet"],
  opts: {
    summary: TrainingSummary;
    initial: Awaited<ReturnType<Cascade["stages"][number]["unet"]["exportWeights"]>>;
    stage: number;
    log: (line: string) => void;
  },
): Promise<void> {
  const { summary, initial, stage: i, log } = opts;
  const good = summary.step > 0
    ? (await readRunCheckpoint(summary.files.checkpoint)).tensors
    : initial;
  unet.loadWeights(good, { prefix: `stages.${i}.` });
  log(`stage ${i}: weights restored to step ${summary.step} after the non-finite loss`);
}

/** The subject's images at the largest stage's size and the run folder named after it. */
async function subjectImages(
  cascade: Cascade,
  opts: {
    images?: readonly RgbImage[];
    subjectDir?: string;
    subject: BuiltInSubject | null;
    runDirOpt?: string;
    log: (line: string) => void;
  },
): Promise<{ pics: readonly RgbImage[]; runDir: string }> {
  const { images, subjectDir, subject, runDirOpt, log } = opts;
  const largest = cascade.stages[cascade.stages.length - 1].imageSize;
  const dir = subjectDir ?? subject?.dir;
  const pics = images ??
    (await loadSubjectFolder(dir!, { size: largest, onWarning: (m) => log(m) })).images;
  const runDir = runDirOpt ??
    join(
      "runs",
      "superres",
      subject?.name ?? (dir ? dir.replace(/\/+$/, "").split("/").pop()! : "images"),
    );
  return { pics, runDir };
}

/**
 * Fine-tunes the SR stages of a cascade on a subject (see the module docs). Resumable: rerun with
 * `resume: true` and the same settings to continue after a stop.
 *
 * @param cascadeOrPath A {@link Cascade} (borrowed; its SR stages are trained in place), a cascade
 * checkpoint path, `preset:NAME`, or undefined for the default model (`loadSrCascade`).
 * @param options See {@link FineTuneSuperResOptions} (defaults: first SR stage, t_aug 1e-5, 60
 * steps, lr 2e-4, batch 4, prompt "a sks dog" from the default subject).
 * @returns The {@link FineTuneSuperResResult}.
 * @throws {RangeError} When a setting is invalid, a stage does not exist, or `runDir` holds a
 * checkpoint and `resume` is false.
 *
 * @example
 * ```ts
 * import { initBackend } from "./deps.ts";
 * import { fineTuneSuperRes } from "./fine_tune_super_res.ts";
 * await initBackend({ quiet: true });
 * const runDir = await Deno.makeTempDir();
 * const im = { data: new Float32Array(128 * 128 * 3), width: 128, height: 128 };
 * const r = await fineTuneSuperRes("preset:tiny", {
 *   images: [im], steps: 1, batchSize: 1, cropSize: { "1": 32 }, runDir, sampleSteps: 0, log: () => {},
 * });
 * console.log(r.done, r.augLevels); // true [ 0, 0.00001 ]
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export async function fineTuneSuperRes(
  cascadeOrPath: Cascade | string | undefined,
  options: FineTuneSuperResOptions = {},
): Promise<FineTuneSuperResResult> {
  const t0 = performance.now();
  const {
    images,
    subjectDir,
    stage,
    allStages = false,
    lr,
    runDir: runDirOpt,
    resume = false,
    timeBudgetMinutes,
    checkpointEverySteps = 50,
    sampleEverySteps,
    sampleSteps = 10,
    save = true,
    lora,
    onProgress,
    signal,
    log = console.log,
    ...configInput
  } = options;
  const subject = subjectDir === undefined && images === undefined ? defaultSubject() : null;
  const owned = !(cascadeOrPath instanceof Cascade);
  const { cascade, source } = owned
    ? await loadSrCascade(cascadeOrPath, { warn: log })
    : { cascade: cascadeOrPath, source: "in-memory" };
  try {
    const config = await resolveConfig(cascade, cascadeOrPath, configInput, {
      subject,
      lr,
      allStages,
      stage,
      log,
    });
    const { pics, runDir } = await subjectImages(cascade, {
      images,
      subjectDir,
      subject,
      runDirOpt,
      log,
    });
    const sampleAug = config.sampleAugLevel ?? config.augLevel;
    const totalSteps = config.steps * config.stages.length;
    let stepsBefore = 0;
    const stages: FineTuneSuperResResult["stages"] = [];
    let done = true;
    for (const i of config.stages) {
      const stageDir = join(runDir, `stage${i}`);
      using pairs = makeSrPairs(pics, {
        highSize: cascade.stages[i].imageSize,
        lowSize: cascade.stages[i - 1].imageSize,
      });
      using job = createSrFineTuneJob(cascade, pairs, { config, stage: i, sampleSteps, lora });
      const tStage = performance.now();
      let firstStep = -1;
      const wrapped = withProgress(job, (r) => {
        if (firstStep < 0) firstStep = r.step - 1;
        const secs = (performance.now() - tStage) / 1000;
        const rate = (r.step - firstStep) / Math.max(secs, 1e-9);
        onProgress?.({
          stage: i,
          step: r.step,
          steps: config.steps,
          loss: r.loss,
          elapsedSeconds: (performance.now() - t0) / 1000,
          etaSeconds: (totalSteps - stepsBefore - r.step) / rate,
        });
      }, sampleSteps > 0);
      log(
        `SR fine-tuning stage ${i} (${cascade.stages[i - 1].imageSize}→${
          cascade.stages[i].imageSize
        } px) of ${source} on ${pics.length} images, t_aug ${config.augLevel}, ${config.steps} steps → ${stageDir}`,
      );
      const unet = cascade.stages[i].unet;
      const initial = await unet.exportWeights({ prefix: `stages.${i}.` });
      const summary = await runTraining(wrapped, {
        runDir: stageDir,
        totalSteps: config.steps,
        config: { superres: config, stage: i, source },
        args: Deno.args,
        resume,
        checkpointEverySteps,
        sampleEverySteps: sampleEverySteps ?? config.steps,
        logEverySteps: Math.max(1, Math.min(10, Math.floor(config.steps / 10))),
        ...(timeBudgetMinutes !== undefined ? { timeBudgetMinutes } : {}),
        title: `SR stage ${i} fine-tuning loss (t_aug ${config.augLevel})`,
        signal,
        log,
      });
      stages.push({ stage: i, runDir: stageDir, summary });
      if (summary.reason === "non-finite loss") {
        await restoreLastGood(unet, { summary, initial, stage: i, log });
      }
      stepsBefore += config.steps;
      if (summary.reason !== "done") {
        done = false;
        break;
      }
    }
    const augLevels = cascade.stages.map((s, k) =>
      config.stages.includes(k) ? sampleAug : k === 0 ? 0 : s.augLevel
    );
    const saved = done && save
      ? await saveRun(cascade, { runDir, config, augLevels, source, lora: !!lora, t0, log })
      : { cascadePath: null, loraPath: null };
    const seconds = (performance.now() - t0) / 1000;
    return { ...saved, done, augLevels, config, stages, seconds, source };
  } finally {
    if (owned) cascade.dispose();
  }
}
