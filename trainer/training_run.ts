/**
 * The run machinery every training command shares (pretraining, DreamBooth, SR fine-tuning): a run
 * folder, resumable checkpoints on a timer and every N steps (atomic), a NaN/Inf guard that keeps
 * the last good checkpoint, progress lines with step/s, loss EMA and ETA, a JSONL loss log that
 * stays continuous across resumes, a loss-curve PNG and sample-grid PNGs every N steps, a time
 * budget, and a summary.
 *
 * A run folder holds:
 *
 * | file | what |
 * |---|---|
 * | `config.json` | the job's config (a resume must match it, except the settings of {@link RESUMABLE_SETTINGS}) |
 * | `args.json` | every invocation: time, arguments, the step it started from, settings it changed |
 * | `checkpoint.safetensors` | the last good checkpoint (weights, optimizer, state) |
| `checkpoints/step_NNNNNN.safetensors` | with `checkpointsKeep` K > 0: the newest K step checkpoints |
 * | `loss.jsonl` | one line per step: step, loss, EMA, gradient norm, seconds |
 * | `loss_curve.png` | the loss curve, redrawn with every sample grid and checkpoint |
 * | `samples/step_NNNNNN.png` | sample grids (and `samples/latest.png`) |
 * | `summary.json` | the last invocation's summary |
 * | `run.lock` | held locked (`flock`) by the process training there, with its pid; a second run is refused while it lives |
 *
 * @module
 */
import { join } from "node:path";
import type { FloatImage } from "./deps.ts";
import { saveImageGrid } from "./deps.ts";
import { exists, writeFileAtomic, writeJsonAtomic } from "./deps.ts";
import { readRunCheckpoint, type RunCheckpoint, writeRunCheckpoint } from "./run_checkpoint.ts";
import { type LossPoint, saveLossCurve } from "./loss_curve.ts";
import { NonFiniteLossError, type StepResult } from "./stage_trainer.ts";
import { acquireRunLock } from "./_run_lock.ts";
import { holdBlasThreads } from "./deps.ts";

/** What the run machinery needs from a training job (see `createPretrainJob` for one). */
export interface TrainingJob {
  /** Steps taken so far (0 when fresh; restored by {@link TrainingJob.restore}). */
  readonly step: number;
  /** Takes the next step (the job fetches its own batch for step `step + 1`). */
  trainStep(): Promise<StepResult>;
  /** Everything to checkpoint: tensors (weights, optimizer moments), JSON state, metadata. */
  checkpoint(): Promise<RunCheckpoint>;
  /** Restores a checkpoint written from {@link TrainingJob.checkpoint}'s output. */
  restore(checkpoint: RunCheckpoint): Promise<void>;
  /** Sample images for the grid (optional). */
  samples?(): Promise<SampleGrid>;
}

/** A sample grid. */
export interface SampleGrid {
  /** Images in [−1, 1]. */
  images: FloatImage[];
  /** One caption per image (optional). */
  labels?: string[];
  /** Integer magnification (e.g. 4 for 32 px). Default 1. */
  scale?: number;
  /** Images per row. Default ⌈√n⌉. */
  columns?: number;
}

/** Options of {@link runTraining}. */
export interface TrainingRunOptions {
  /** The run folder (created). */
  runDir: string;
  /** Train until this step (total, across resumes). */
  totalSteps: number;
  /**
   * The job's config, stored as `config.json`; a resumed run must have the same, except for the
   * settings named in `changeableOnResume`.
   */
  config: unknown;
  /**
   * Names of config settings that may change on resume (matched against the last key of a nested
   * setting: `learningRate` allows `trainer.learningRate`). Each change is logged and recorded in
   * `args.json`. Default {@link RESUMABLE_SETTINGS}.
   */
  changeableOnResume?: readonly string[];
  /**
   * After a non-finite loss: the command that continues with a lower learning rate, given whether
   * there is a checkpoint to resume from (printed as advice). Default: advice in words.
   */
  retryCommand?: (options: { resume: boolean }) => string;
  /** The command-line arguments of this invocation (stored in `args.json`). Default []. */
  args?: readonly string[];
  /** Continue from the run folder's checkpoint (none: start fresh). Default false: a folder with a checkpoint is refused. */
  resume?: boolean;
  /** Checkpoint every N steps (0 = only on the timer and at the end). Default 500. */
  checkpointEverySteps?: number;
  /**
   * Also keep the newest K checkpoints as `checkpoints/step_NNNNNN.safetensors` (hard links to the
   * checkpoint written at that step; older ones are deleted). Default 0: only the latest
   * `checkpoint.safetensors`.
   */
  checkpointsKeep?: number;
  /** Checkpoint when this many minutes passed since the last one. Default 10. */
  checkpointEveryMinutes?: number;
  /** Sample grid + loss curve every N steps (0 = only at the end). Default 500. */
  sampleEverySteps?: number;
  /** Also draw a sample grid before the first step of a fresh run (what the untrained model draws). Default true. */
  sampleAtStart?: boolean;
  /** A progress line every N steps. Default 10. */
  logEverySteps?: number;
  /** Stop cleanly (with a checkpoint) before this many minutes of this invocation. Default ∞. */
  timeBudgetMinutes?: number;
  /** Decay of the loss EMA (bias-corrected). Default 0.98. */
  emaDecay?: number;
  /** Title of the loss curve. Default "loss". */
  title?: string;
  /** Stop after the current step (with a checkpoint) when aborted. */
  signal?: AbortSignal;
  /** Where progress lines go. Default `console.log`. */
  log?: (line: string) => void;
}

/**
 * The settings that may change when a run is resumed (the last key of a config setting): the
 * learning rate (the remedy for a loss that blew up), the number of steps (to train longer), and
 * the checkpoint/sample/log cadence and time budget, which do not change what a step computes.
 * Anything else (model, data, batch, loss weights, seeds) would make the resumed run another run.
 */
export const RESUMABLE_SETTINGS: readonly string[] = Object.freeze([
  "learningRate",
  "steps",
  "totalSteps",
  "checkpointEverySteps",
  "checkpointsKeep",
  "checkpointEveryMinutes",
  "sampleEverySteps",
  "validationPrompts",
  "logEverySteps",
  "timeBudgetMinutes",
]);

/** One difference between two configs: the dotted path of the setting and its two values. */
export interface ConfigChange {
  /** `trainer.learningRate`, `layers[2]`. */
  path: string;
  /** The stored value (`undefined`: absent). */
  from: unknown;
  /** The new value (`undefined`: absent). */
  to: unknown;
}

/**
 * The settings that differ between two JSON configs, as dotted paths to the leaves that differ.
 *
 * @param stored The config a run folder holds (`config.json`).
 * @param current The config of this invocation.
 * @returns The differences, in key order (empty when equal as JSON).
 *
 * @example
 * ```ts
 * import { configChanges } from "./training_run.ts";
 * console.log(configChanges({ trainer: { learningRate: 1 }, n: 2 }, { trainer: { learningRate: 0.1 }, n: 2 }));
 * // [ { path: "trainer.learningRate", from: 1, to: 0.1 } ]
 * ```
 */
export function configChanges(stored: unknown, current: unknown): ConfigChange[] {
  const out: ConfigChange[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  const walk = (a: unknown, b: unknown, path: string) => {
    if (isObject(a) && isObject(b)) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
      for (const k of keys) walk(a[k], b[k], path === "" ? k : `${path}.${k}`);
    } else if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
      a.forEach((x, i) => walk(x, b[i], `${path}[${i}]`));
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      out.push({ path: path === "" ? "(config)" : path, from: a, to: b });
    }
  };
  walk(JSON.parse(JSON.stringify(stored ?? null)), JSON.parse(JSON.stringify(current ?? null)), "");
  return out;
}

function showSetting(v: unknown): string {
  if (v === undefined) return "absent";
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Why a run stopped. */
export type StopReason = "done" | "time budget" | "interrupted" | "non-finite loss";

/** What {@link runTraining} returns (also written to `summary.json`). */
export interface TrainingSummary {
  /** Why it stopped. */
  reason: StopReason;
  /** The step reached (the checkpointed one after a non-finite loss). */
  step: number;
  /** The step this invocation started from. */
  startStep: number;
  /** The target. */
  totalSteps: number;
  /** Steps per second of this invocation. */
  stepsPerSecond: number;
  /** Seconds of this invocation. */
  seconds: number;
  /** Seconds of training over every invocation. */
  totalSeconds: number;
  /** Loss EMA at the end. */
  lossEma: number | null;
  /** The error message after a non-finite loss. */
  error?: string;
  /** Files written. */
  files: { checkpoint: string; lossLog: string; lossCurve: string; samples: string | null };
}

interface RunState {
  step: number;
  lossEma: number;
  emaWeight: number;
  totalSeconds: number;
  /** The BLAS thread count the run holds (absent without OpenBLAS, or in older checkpoints). */
  blasThreads?: number;
}

/**
 * Formats seconds as `1h02m`, `3m05s` or `4.2s`.
 *
 * @param s Seconds.
 * @returns The text ("?" when not finite).
 *
 * @example
 * ```ts
 * import { formatDuration } from "./training_run.ts";
 * console.log(formatDuration(3725)); // "1h02m"
 * ```
 */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60).toString().padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${Math.floor(s % 60).toString().padStart(2, "0")}s`;
  return `${s.toFixed(1)}s`;
}

function nonNegInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) {
    throw new RangeError(
      `Cannot run training as '${name}' must be an integer ≥ 0: current value is ${v}`,
    );
  }
  return v;
}

/**
 * Keeps the checkpoint just written as `checkpoints/step_NNNNNN.safetensors` (a hard link, or a
 * copy where links are not allowed) and deletes all but the newest `keep` of them.
 */
async function keepStepCheckpoint(
  runDir: string,
  checkpoint: string,
  step: number,
  keep: number,
): Promise<void> {
  const dir = join(runDir, "checkpoints");
  await Deno.mkdir(dir, { recursive: true });
  const name = join(dir, `step_${String(step).padStart(6, "0")}.safetensors`);
  await Deno.remove(name).catch(() => {});
  try {
    await Deno.link(checkpoint, name);
  } catch {
    await Deno.copyFile(checkpoint, name);
  }
  const steps: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && /^step_\d+\.safetensors$/.test(e.name)) steps.push(e.name);
  }
  const stepOf = (f: string) => Number(f.slice(5, -12));
  steps.sort((a, b) => stepOf(a) - stepOf(b));
  for (const old of steps.slice(0, Math.max(0, steps.length - keep))) {
    await Deno.remove(join(dir, old)).catch(() => {});
  }
}

/**
 * Reads a run's loss log (`loss.jsonl`), skipping a torn last line.
 *
 * @param path The `loss.jsonl` file.
 * @returns The entries in order (empty when the file does not exist).
 *
 * @example
 * ```ts
 * import { readLossLog } from "./training_run.ts";
 * console.log(await readLossLog("/nonexistent/loss.jsonl")); // []
 * ```
 */
export async function readLossLog(
  path: string,
): Promise<(LossPoint & { gradNorm?: number; seconds?: number })[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const out = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // A line cut by a kill: ignored (it is past the last checkpoint anyway).
    }
  }
  return out;
}

/**
 * Runs (or resumes) a training job in a run folder until `totalSteps`, the time budget, an abort,
 * or a non-finite loss (which stops without writing a checkpoint, so the last good one stays).
 *
 * @param job The {@link TrainingJob}.
 * @param options See {@link TrainingRunOptions}; `runDir`, `totalSteps` and `config` are required.
 * @returns The {@link TrainingSummary}.
 * @throws {RangeError} When the folder has a checkpoint and `resume` is false, or its config
 * differs in a setting that may not change on resume (named in the message).
 *
 * @example
 * ```ts
 * import { runTraining } from "./training_run.ts";
 * let step = 0;
 * const job = {
 *   get step() { return step; },
 *   trainStep: () => Promise.resolve({ loss: 1 / ++step, gradNorm: 1, step }),
 *   checkpoint: () => Promise.resolve({ tensors: new Map(), state: { step } }),
 *   restore: (c: { state: unknown }) => { step = (c.state as { step: number }).step; return Promise.resolve(); },
 * };
 * const runDir = await Deno.makeTempDir();
 * const summary = await runTraining(job, { runDir, totalSteps: 5, config: {}, log: () => {} });
 * console.log(summary.reason, summary.step); // "done" 5
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export async function runTraining(
  job: TrainingJob,
  options: TrainingRunOptions,
): Promise<TrainingSummary> {
  const s = runSettings(options);
  const files: RunFiles = {
    checkpoint: join(s.runDir, "checkpoint.safetensors"),
    lossLog: join(s.runDir, "loss.jsonl"),
    lossCurve: join(s.runDir, "loss_curve.png"),
    samples: null,
  };
  await Deno.mkdir(join(s.runDir, "samples"), { recursive: true });
  const lock = await acquireRunLock(s.runDir);
  try {
    return await runLocked(job, s, files);
  } finally {
    await lock.release();
  }
}

/** The options of {@link runTraining} with their defaults filled in. */
type RunSettings =
  & Required<Omit<TrainingRunOptions, "retryCommand" | "signal">>
  & Pick<TrainingRunOptions, "retryCommand" | "signal">;

/** The files of a run folder that the summary names. */
type RunFiles = TrainingSummary["files"];

/** One line of the loss log. */
type LogPoint = LossPoint & { gradNorm?: number; seconds?: number };

/** Fills in the defaults of {@link TrainingRunOptions} and checks them (RangeError naming the option). */
function runSettings(options: TrainingRunOptions): RunSettings {
  const {
    runDir,
    totalSteps,
    config,
    args = [],
    changeableOnResume = RESUMABLE_SETTINGS,
    retryCommand,
    resume = false,
    checkpointEverySteps = 500,
    checkpointsKeep = 0,
    checkpointEveryMinutes = 10,
    sampleEverySteps = 500,
    sampleAtStart = true,
    logEverySteps = 10,
    timeBudgetMinutes = Infinity,
    emaDecay = 0.98,
    title = "loss",
    signal,
    log = console.log,
  } = options;
  if (typeof runDir !== "string" || runDir === "") {
    throw new RangeError(`Cannot run training as 'runDir' must be a non-empty path`);
  }
  nonNegInt("totalSteps", totalSteps);
  nonNegInt("checkpointEverySteps", checkpointEverySteps);
  nonNegInt("checkpointsKeep", checkpointsKeep);
  nonNegInt("sampleEverySteps", sampleEverySteps);
  if (!Number.isInteger(logEverySteps) || logEverySteps < 1) {
    throw new RangeError(
      `Cannot run training as 'logEverySteps' must be an integer ≥ 1: current value is ${logEverySteps}`,
    );
  }
  for (const [k, v] of Object.entries({ checkpointEveryMinutes, timeBudgetMinutes })) {
    if (typeof v !== "number" || Number.isNaN(v) || v <= 0) {
      throw new RangeError(`Cannot run training as '${k}' must be > 0: current value is ${v}`);
    }
  }
  if (!(emaDecay >= 0 && emaDecay < 1)) {
    throw new RangeError(
      `Cannot run training as 'emaDecay' must be in [0, 1): current value is ${emaDecay}`,
    );
  }
  return {
    runDir,
    totalSteps,
    config,
    args,
    changeableOnResume,
    retryCommand,
    resume,
    checkpointEverySteps,
    checkpointsKeep,
    checkpointEveryMinutes,
    sampleEverySteps,
    sampleAtStart,
    logEverySteps,
    timeBudgetMinutes,
    emaDecay,
    title,
    signal,
    log,
  };
}

/** The state of one invocation's training loop (what the summary reports). */
interface LoopState {
  run: RunState;
  points: LogPoint[];
  startStep: number;
  t0: number;
  lastCheckpoint: number;
  checkpointedStep: number;
  /** Seconds of the last steps, for the rate. */
  recent: number[];
  reason: StopReason;
  error?: string;
  sampledStep: number;
  failedStep: number;
}

/** Steps per second over the last steps (NaN before the first). */
function stepRate(st: LoopState): number {
  return st.recent.length === 0 ? NaN : st.recent.length / st.recent.reduce((a, b) => a + b, 0);
}

/** Seconds since this invocation's loop began. */
function elapsed(st: LoopState): number {
  return (performance.now() - st.t0) / 1000;
}

/** Resume or start, record the invocation, then train and summarise (with the run lock held). */
async function runLocked(
  job: TrainingJob,
  s: RunSettings,
  files: RunFiles,
): Promise<TrainingSummary> {
  // 1. Resume or start.
  const hasCheckpoint = await exists(files.checkpoint);
  const changes = await resumeChanges(s, hasCheckpoint);
  const run = await restoreOrStart(job, s, files, hasCheckpoint, changes);
  // 2. One BLAS thread count for the whole run, recorded in its checkpoints and args.json: sgemm
  // rounds differently with 1 and 2 threads, so a count that followed the machine's load would
  // make two runs (or a run and its resume) differ in the last bits.
  const threads = holdBlasThreads(run.blasThreads);
  if (threads !== null) {
    if (run.blasThreads === undefined) run.blasThreads = threads.threads;
    else if (threads.threads !== run.blasThreads) {
      s.log(`BLAS threads: ${threads.threads}, not the run's ${run.blasThreads} (held elsewhere)`);
    }
  }
  try {
    return await trainRecorded(job, s, files, run, changes);
  } finally {
    threads?.release();
  }
}

/** Records the invocation, then trains and summarises. */
async function trainRecorded(
  job: TrainingJob,
  s: RunSettings,
  files: RunFiles,
  run: RunState,
  changes: ConfigChange[],
): Promise<TrainingSummary> {
  await recordInvocation(s, run, changes);

  // The loss log keeps exactly the steps up to the checkpoint (later ones are redone).
  const points = (await readLossLog(files.lossLog)).filter((p) => p.step <= run.step);
  await writeFileAtomic(
    files.lossLog,
    new TextEncoder().encode(points.map((p) => JSON.stringify(p) + "\n").join("")),
  );
  const logFile = await Deno.open(files.lossLog, { append: true, create: true });
  const t0 = performance.now();
  const st: LoopState = {
    run,
    points,
    startStep: run.step,
    t0,
    lastCheckpoint: t0,
    checkpointedStep: run.step,
    recent: [],
    reason: "done",
    sampledStep: -1,
    failedStep: 0,
  };
  try {
    await trainLoop(job, s, files, st, logFile);
  } finally {
    logFile.close();
  }
  return await summarise(s, files, st);
}

/**
 * The config settings that differ from the stored `config.json` when resuming; throws when the
 * folder has a checkpoint and `resume` is false, or a setting that may not change on resume differs.
 */
async function resumeChanges(
  s: RunSettings,
  hasCheckpoint: boolean,
): Promise<ConfigChange[]> {
  const { runDir } = s;
  if (hasCheckpoint && !s.resume) {
    throw new RangeError(
      `Cannot start a run in '${runDir}' as it already has a checkpoint: pass resume (--resume) to continue it, or choose another folder`,
    );
  }
  const configPath = join(runDir, "config.json");
  if (!(hasCheckpoint && await exists(configPath))) return [];
  const stored = JSON.parse(await Deno.readTextFile(configPath));
  const changes = configChanges(stored, JSON.parse(JSON.stringify(s.config)));
  const allowed = new Set(s.changeableOnResume);
  const fixed = changes.filter((c) => !allowed.has(c.path.split(".").pop()!.split("[")[0]));
  if (fixed.length > 0) {
    throw new RangeError(
      `Cannot resume the run in '${runDir}' as ${
        fixed.map((c) =>
          `'${c.path}' differs (${showSetting(c.from)} in its config.json, ${
            showSetting(c.to)
          } now)`
        ).join(", ")
      }; only ${
        [...allowed].join(", ")
      } may change on resume (resume with the same settings, or start another folder)`,
    );
  }
  return changes;
}

/** Restores the job from the checkpoint (returning its run state), or starts a fresh run at step 0. */
async function restoreOrStart(
  job: TrainingJob,
  s: RunSettings,
  files: RunFiles,
  hasCheckpoint: boolean,
  changes: ConfigChange[],
): Promise<RunState> {
  const { runDir, log } = s;
  if (!hasCheckpoint) {
    if (s.resume) log(`nothing to resume in '${runDir}': starting at step 0`);
    // A fresh run: no stale log from an earlier attempt that never checkpointed.
    await Deno.remove(files.lossLog).catch(() => {});
    return { step: 0, lossEma: 0, emaWeight: 0, totalSeconds: 0 };
  }
  const ckpt = await readRunCheckpoint(files.checkpoint);
  const state = ckpt.state as { run: RunState; job: unknown };
  await job.restore({ tensors: ckpt.tensors, state: state.job, metadata: ckpt.metadata });
  const run = { ...state.run };
  if (job.step !== run.step) {
    throw new RangeError(
      `Cannot resume the run in '${runDir}' as the job restored step ${job.step}, the checkpoint says ${run.step}`,
    );
  }
  log(`resuming '${runDir}' from step ${run.step} (checkpoint ${files.checkpoint})`);
  if (changes.length > 0) {
    log(
      `resuming with changed settings: ${
        changes.map((c) => `${c.path} ${showSetting(c.from)} → ${showSetting(c.to)}`).join(", ")
      }`,
    );
  }
  return run;
}

/**
 * The BLAS thread count a run folder's last invocation recorded in `args.json` (see
 * `holdBlasThreads`), for work a resumed job does before {@link runTraining} holds it itself
 * (DreamBooth's class images).
 *
 * @param runDir The run folder.
 * @returns The count, or `undefined` when the folder has none recorded.
 *
 * @example
 * ```ts
 * import { recordedBlasThreads } from "./training_run.ts";
 * console.log(await recordedBlasThreads("/nonexistent")); // undefined
 * ```
 */
export async function recordedBlasThreads(runDir: string): Promise<number | undefined> {
  try {
    const history = JSON.parse(await Deno.readTextFile(join(runDir, "args.json")));
    const last = Array.isArray(history) ? history[history.length - 1] : undefined;
    const n = last?.blasThreads;
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `config.json` and appends this invocation to `args.json`. */
async function recordInvocation(
  s: RunSettings,
  run: RunState,
  changes: ConfigChange[],
): Promise<void> {
  const argsPath = join(s.runDir, "args.json");
  await writeFileAtomic(
    join(s.runDir, "config.json"),
    new TextEncoder().encode(JSON.stringify(s.config, null, 2) + "\n"),
  );
  const history: {
    time: string;
    args: readonly string[];
    fromStep: number;
    pid: number;
    blasThreads?: number;
    changed?: Record<string, { from: unknown; to: unknown }>;
  }[] = (await exists(argsPath)) ? JSON.parse(await Deno.readTextFile(argsPath)) : [];
  history.push({
    time: new Date().toISOString(),
    args: s.args,
    fromStep: run.step,
    pid: Deno.pid,
    ...(run.blasThreads !== undefined ? { blasThreads: run.blasThreads } : {}),
    ...(changes.length > 0
      ? { changed: Object.fromEntries(changes.map((c) => [c.path, { from: c.from, to: c.to }])) }
      : {}),
  });
  await writeJsonAtomic(argsPath, history);
}

/** Writes the run checkpoint (and the kept step checkpoint) at the current step. */
async function saveCheckpoint(
  job: TrainingJob,
  s: RunSettings,
  files: RunFiles,
  st: LoopState,
): Promise<void> {
  const c = await job.checkpoint();
  await writeRunCheckpoint(files.checkpoint, {
    tensors: c.tensors,
    state: { run: st.run, job: c.state },
    metadata: c.metadata,
  });
  st.checkpointedStep = st.run.step;
  st.lastCheckpoint = performance.now();
  if (s.checkpointsKeep > 0) {
    await keepStepCheckpoint(s.runDir, files.checkpoint, st.run.step, s.checkpointsKeep);
  }
}

/** Draws the job's sample grid at the current step into `samples/` (and `samples/latest.png`). */
async function saveSamples(
  job: TrainingJob,
  s: RunSettings,
  files: RunFiles,
  st: LoopState,
): Promise<void> {
  if (!job.samples) return;
  const grid = await job.samples();
  const name = join(s.runDir, "samples", `step_${String(st.run.step).padStart(6, "0")}.png`);
  const opts = { labels: grid.labels, scale: grid.scale ?? 1, columns: grid.columns };
  await saveImageGrid(name, grid.images, opts);
  await Deno.copyFile(name, join(s.runDir, "samples", "latest.png"));
  files.samples = name;
  st.sampledStep = st.run.step;
}

/** The training loop: steps until done, budget, abort or a non-finite loss; then the last checkpoint and samples. */
async function trainLoop(
  job: TrainingJob,
  s: RunSettings,
  files: RunFiles,
  st: LoopState,
  logFile: Deno.FsFile,
): Promise<void> {
  const { run } = st;
  const { totalSteps, log } = s;
  const plot = () => saveLossCurve(files.lossCurve, st.points, { title: s.title });
  if (run.step === 0 && job.samples && s.sampleEverySteps > 0 && s.sampleAtStart) {
    await saveSamples(job, s, files, st); // step 0: what the untrained model draws
  }
  while (run.step < totalSteps) {
    if (s.signal?.aborted) {
      st.reason = "interrupted";
      break;
    }
    // Stop when another step (and the final checkpoint) would not fit in the budget.
    const perStep = 1 / (stepRate(st) || Infinity);
    if (
      elapsed(st) + 2 * (Number.isFinite(perStep) ? perStep : 0) > s.timeBudgetMinutes * 60
    ) {
      st.reason = "time budget";
      break;
    }
    const s0 = performance.now();
    let r: StepResult;
    try {
      r = await job.trainStep();
    } catch (e) {
      if (e instanceof NonFiniteLossError) {
        st.reason = "non-finite loss";
        st.error = e.message;
        st.failedStep = e.step;
        await adviseAfterNonFinite(e, s, files, st);
        break;
      }
      throw e;
    }
    await recordStep(s, st, r, (performance.now() - s0) / 1000, logFile);
    const dueSample = s.sampleEverySteps > 0 && r.step % s.sampleEverySteps === 0;
    const dueCkpt = (s.checkpointEverySteps > 0 && r.step % s.checkpointEverySteps === 0) ||
      performance.now() - st.lastCheckpoint > s.checkpointEveryMinutes * 60_000;
    if (dueCkpt) {
      await saveCheckpoint(job, s, files, st);
      log(`checkpoint at step ${r.step} → ${files.checkpoint}`);
    }
    if (dueSample) {
      await plot();
      await saveSamples(job, s, files, st);
      log(`samples at step ${r.step} → ${files.samples}; loss curve → ${files.lossCurve}`);
    }
  }
  if (st.reason !== "non-finite loss" && run.step !== st.checkpointedStep) {
    await saveCheckpoint(job, s, files, st);
  }
  await plot();
  if (
    st.reason !== "non-finite loss" && s.sampleEverySteps > 0 && st.sampledStep !== run.step &&
    job.samples
  ) await saveSamples(job, s, files, st);
}

/** Logs what to do after a non-finite loss: resume from the last good checkpoint, or start again. */
async function adviseAfterNonFinite(
  e: NonFiniteLossError,
  s: RunSettings,
  files: RunFiles,
  st: LoopState,
): Promise<void> {
  const { retryCommand, checkpointEverySteps } = s;
  if (await exists(files.checkpoint)) {
    s.log(
      `error: ${e.message}. The last good checkpoint (step ${st.checkpointedStep}) is kept in '${files.checkpoint}'; ` +
        (retryCommand
          ? `to continue from it with a lower learning rate: ${retryCommand({ resume: true })}`
          : `lower the learning rate (it may change on resume) or check the data, then resume from it.`),
    );
  } else {
    const due = checkpointEverySteps > 0
      ? `the first was due at step ${
        (Math.floor(st.run.step / checkpointEverySteps) + 1) * checkpointEverySteps
      }`
      : `checkpoints are written every ${s.checkpointEveryMinutes} min and at the end`;
    s.log(
      `error: ${e.message}. No checkpoint had been written yet (${due}), so there is nothing to resume; ` +
        (retryCommand
          ? `to start again with a lower learning rate: ${retryCommand({ resume: false })}`
          : `start again with a lower learning rate, or check the data.`),
    );
  }
}

/** Updates the run state with a step's result, appends it to the loss log, and logs progress when due. */
async function recordStep(
  s: RunSettings,
  st: LoopState,
  r: StepResult,
  dt: number,
  logFile: Deno.FsFile,
): Promise<void> {
  const { run, recent } = st;
  const { emaDecay, totalSteps, timeBudgetMinutes } = s;
  recent.push(dt);
  if (recent.length > 50) recent.shift();
  run.step = r.step;
  run.totalSeconds += dt;
  run.emaWeight = emaDecay * run.emaWeight + (1 - emaDecay);
  run.lossEma = emaDecay * run.lossEma + (1 - emaDecay) * r.loss;
  const ema = run.lossEma / run.emaWeight; // bias-corrected
  const point = {
    step: r.step,
    loss: r.loss,
    lossEma: ema,
    gradNorm: r.gradNorm,
    seconds: +dt.toFixed(4),
  };
  st.points.push(point);
  await logFile.write(new TextEncoder().encode(JSON.stringify(point) + "\n"));
  if (r.step % s.logEverySteps === 0 || r.step === totalSteps) {
    const rate = stepRate(st);
    const left = (totalSteps - r.step) / rate;
    const budgetLeft = timeBudgetMinutes * 60 - elapsed(st);
    s.log(
      `step ${r.step}/${totalSteps} | loss ${r.loss.toFixed(4)} (EMA ${ema.toFixed(4)}) | ` +
        `grad ${Number.isNaN(r.gradNorm) ? "—" : r.gradNorm.toFixed(3)} | ${
          rate.toFixed(3)
        } step/s | elapsed ${formatDuration(elapsed(st))} | ETA ${formatDuration(left)}${
          Number.isFinite(budgetLeft) ? ` | budget left ${formatDuration(budgetLeft)}` : ""
        }`,
    );
  }
}

/** Writes `summary.json`, logs the summary line, and returns the summary. */
async function summarise(
  s: RunSettings,
  files: RunFiles,
  st: LoopState,
): Promise<TrainingSummary> {
  const { run, reason, startStep } = st;
  const { totalSteps } = s;
  const seconds = elapsed(st);
  const summary: TrainingSummary = {
    reason,
    step: reason === "non-finite loss" ? st.checkpointedStep : run.step,
    startStep,
    totalSteps,
    stepsPerSecond: (run.step - startStep) / Math.max(seconds, 1e-9),
    seconds,
    totalSeconds: run.totalSeconds,
    lossEma: run.emaWeight > 0 ? run.lossEma / run.emaWeight : null,
    ...(st.error ? { error: st.error } : {}),
    files,
  };
  await writeJsonAtomic(join(s.runDir, "summary.json"), summary);
  const checkpointed = await exists(files.checkpoint);
  s.log(
    `summary: ${reason} at step ${
      reason === "non-finite loss"
        ? `${st.failedStep}/${totalSteps} (${
          checkpointed ? `last good checkpoint: step ${summary.step}` : "no checkpoint"
        })`
        : `${summary.step}/${totalSteps}`
    } (this run: ${run.step - startStep} steps in ${formatDuration(seconds)}, ${
      summary.stepsPerSecond.toFixed(3)
    } step/s; all runs: ${formatDuration(run.totalSeconds)} of training) | loss EMA ${
      summary.lossEma?.toFixed(4) ?? "–"
    } | ${
      checkpointed ? `checkpoint ${files.checkpoint}` : "no checkpoint"
    } | loss curve ${files.lossCurve}${files.samples ? ` | samples ${files.samples}` : ""}`,
  );
  return summary;
}
