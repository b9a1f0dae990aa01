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
  const files = {
    checkpoint: join(runDir, "checkpoint.safetensors"),
    lossLog: join(runDir, "loss.jsonl"),
    lossCurve: join(runDir, "loss_curve.png"),
    samples: null as string | null,
  };
  const configPath = join(runDir, "config.json");
  const argsPath = join(runDir, "args.json");
  await Deno.mkdir(join(runDir, "samples"), { recursive: true });
  const configJson = JSON.stringify(config);
  const lock = await acquireRunLock(runDir);
  try {
    return await runLocked();
  } finally {
    await lock.release();
  }

  async function runLocked(): Promise<TrainingSummary> {
    // 1. Resume or start.
    const hasCheckpoint = await exists(files.checkpoint);
    if (hasCheckpoint && !resume) {
      throw new RangeError(
        `Cannot start a run in '${runDir}' as it already has a checkpoint: pass resume (--resume) to continue it, or choose another folder`,
      );
    }
    let changes: ConfigChange[] = [];
    if (hasCheckpoint && await exists(configPath)) {
      const stored = JSON.parse(await Deno.readTextFile(configPath));
      changes = configChanges(stored, JSON.parse(configJson));
      const allowed = new Set(changeableOnResume);
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
    }
    let run: RunState = { step: 0, lossEma: 0, emaWeight: 0, totalSeconds: 0 };
    if (hasCheckpoint) {
      const ckpt = await readRunCheckpoint(files.checkpoint);
      const state = ckpt.state as { run: RunState; job: unknown };
      await job.restore({ tensors: ckpt.tensors, state: state.job, metadata: ckpt.metadata });
      run = { ...state.run };
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
    } else {
      if (resume) log(`nothing to resume in '${runDir}': starting at step 0`);
      // A fresh run: no stale log from an earlier attempt that never checkpointed.
      await Deno.remove(files.lossLog).catch(() => {});
    }
    await writeFileAtomic(
      configPath,
      new TextEncoder().encode(JSON.stringify(config, null, 2) + "\n"),
    );
    const history: {
      time: string;
      args: readonly string[];
      fromStep: number;
      pid: number;
      changed?: Record<string, { from: unknown; to: unknown }>;
    }[] = (await exists(argsPath)) ? JSON.parse(await Deno.readTextFile(argsPath)) : [];
    history.push({
      time: new Date().toISOString(),
      args,
      fromStep: run.step,
      pid: Deno.pid,
      ...(changes.length > 0
        ? { changed: Object.fromEntries(changes.map((c) => [c.path, { from: c.from, to: c.to }])) }
        : {}),
    });
    await writeJsonAtomic(argsPath, history);

    // The loss log keeps exactly the steps up to the checkpoint (later ones are redone).
    const points = (await readLossLog(files.lossLog)).filter((p) => p.step <= run.step);
    await writeFileAtomic(
      files.lossLog,
      new TextEncoder().encode(points.map((p) => JSON.stringify(p) + "\n").join("")),
    );
    const logFile = await Deno.open(files.lossLog, { append: true, create: true });

    const startStep = run.step;
    const t0 = performance.now();
    let lastCheckpoint = t0;
    let checkpointedStep = run.step;
    const recent: number[] = []; // seconds of the last steps, for the rate
    const stepRate = () =>
      recent.length === 0 ? NaN : recent.length / recent.reduce((a, b) => a + b, 0);
    const elapsed = () => (performance.now() - t0) / 1000;
    let reason: StopReason = "done";
    let error: string | undefined;
    let sampledStep = -1;
    let failedStep = 0;

    const checkpoint = async () => {
      const c = await job.checkpoint();
      await writeRunCheckpoint(files.checkpoint, {
        tensors: c.tensors,
        state: { run, job: c.state },
        metadata: c.metadata,
      });
      checkpointedStep = run.step;
      lastCheckpoint = performance.now();
      if (checkpointsKeep > 0) {
        await keepStepCheckpoint(runDir, files.checkpoint, run.step, checkpointsKeep);
      }
    };
    const plot = async () => {
      await saveLossCurve(files.lossCurve, points, { title });
    };
    const sample = async () => {
      if (!job.samples) return;
      const grid = await job.samples();
      const name = join(runDir, "samples", `step_${String(run.step).padStart(6, "0")}.png`);
      const opts = { labels: grid.labels, scale: grid.scale ?? 1, columns: grid.columns };
      await saveImageGrid(name, grid.images, opts);
      await Deno.copyFile(name, join(runDir, "samples", "latest.png"));
      files.samples = name;
      sampledStep = run.step;
    };

    try {
      if (run.step === 0 && job.samples && sampleEverySteps > 0 && sampleAtStart) {
        await sample(); // step 0: what the untrained model draws
      }
      while (run.step < totalSteps) {
        if (signal?.aborted) {
          reason = "interrupted";
          break;
        }
        // Stop when another step (and the final checkpoint) would not fit in the budget.
        const perStep = 1 / (stepRate() || Infinity);
        if (elapsed() + 2 * (Number.isFinite(perStep) ? perStep : 0) > timeBudgetMinutes * 60) {
          reason = "time budget";
          break;
        }
        const s0 = performance.now();
        let r: StepResult;
        try {
          r = await job.trainStep();
        } catch (e) {
          if (e instanceof NonFiniteLossError) {
            reason = "non-finite loss";
            error = e.message;
            failedStep = e.step;
            if (await exists(files.checkpoint)) {
              log(
                `error: ${e.message}. The last good checkpoint (step ${checkpointedStep}) is kept in '${files.checkpoint}'; ` +
                  (retryCommand
                    ? `to continue from it with a lower learning rate: ${
                      retryCommand({ resume: true })
                    }`
                    : `lower the learning rate (it may change on resume) or check the data, then resume from it.`),
              );
            } else {
              const due = checkpointEverySteps > 0
                ? `the first was due at step ${
                  (Math.floor(run.step / checkpointEverySteps) + 1) * checkpointEverySteps
                }`
                : `checkpoints are written every ${checkpointEveryMinutes} min and at the end`;
              log(
                `error: ${e.message}. No checkpoint had been written yet (${due}), so there is nothing to resume; ` +
                  (retryCommand
                    ? `to start again with a lower learning rate: ${
                      retryCommand({ resume: false })
                    }`
                    : `start again with a lower learning rate, or check the data.`),
              );
            }
            break;
          }
          throw e;
        }
        const dt = (performance.now() - s0) / 1000;
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
        points.push(point);
        await logFile.write(new TextEncoder().encode(JSON.stringify(point) + "\n"));
        if (r.step % logEverySteps === 0 || r.step === totalSteps) {
          const rate = stepRate();
          const left = (totalSteps - r.step) / rate;
          const budgetLeft = timeBudgetMinutes * 60 - elapsed();
          log(
            `step ${r.step}/${totalSteps} | loss ${r.loss.toFixed(4)} (EMA ${ema.toFixed(4)}) | ` +
              `grad ${Number.isNaN(r.gradNorm) ? "—" : r.gradNorm.toFixed(3)} | ${
                rate.toFixed(3)
              } step/s | elapsed ${formatDuration(elapsed())} | ETA ${formatDuration(left)}${
                Number.isFinite(budgetLeft) ? ` | budget left ${formatDuration(budgetLeft)}` : ""
              }`,
          );
        }
        const dueSample = sampleEverySteps > 0 && r.step % sampleEverySteps === 0;
        const dueCkpt = (checkpointEverySteps > 0 && r.step % checkpointEverySteps === 0) ||
          performance.now() - lastCheckpoint > checkpointEveryMinutes * 60_000;
        if (dueCkpt) {
          await checkpoint();
          log(`checkpoint at step ${r.step} → ${files.checkpoint}`);
        }
        if (dueSample) {
          await plot();
          await sample();
          log(`samples at step ${r.step} → ${files.samples}; loss curve → ${files.lossCurve}`);
        }
      }
      if (reason !== "non-finite loss" && run.step !== checkpointedStep) await checkpoint();
      await plot();
      if (
        reason !== "non-finite loss" && sampleEverySteps > 0 && sampledStep !== run.step &&
        job.samples
      ) await sample();
    } finally {
      logFile.close();
    }
    const seconds = elapsed();
    const summary: TrainingSummary = {
      reason,
      step: reason === "non-finite loss" ? checkpointedStep : run.step,
      startStep,
      totalSteps,
      stepsPerSecond: (run.step - startStep) / Math.max(seconds, 1e-9),
      seconds,
      totalSeconds: run.totalSeconds,
      lossEma: run.emaWeight > 0 ? run.lossEma / run.emaWeight : null,
      ...(error ? { error } : {}),
      files,
    };
    await writeJsonAtomic(join(runDir, "summary.json"), summary);
    const checkpointed = await exists(files.checkpoint);
    log(
      `summary: ${reason} at step ${
        reason === "non-finite loss"
          ? `${failedStep}/${totalSteps} (${
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
}
