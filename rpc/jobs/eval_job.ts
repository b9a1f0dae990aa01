/**
 * The worker side of `eval.start`: a thin adapter over eval/'s `runEval` (report folder = the
 * job's folder `jobs/<id>/`, progress per prompt, cancellation before the next generation).
 *
 * @module
 */
import { initBackend, parseBackendName } from "../../backend/mod.ts";
import { type EvalFields, runEval } from "../../eval/mod.ts";
import type { WorkerJobContext } from "../worker_job_kind.ts";

/** The params the adapter receives (path params already absolute). */
export type EvalJobParams = EvalFields & {
  /** A fresh, untrained preset cascade. */
  preset?: "tiny" | "small";
  /** Score the subject's own images instead of generating (the "real images" row). */
  real?: boolean;
  /** A built-in subject (default dog). */
  builtInSubject?: string;
};

/** What an `eval` job returns (paths absolute here, relative to the data root in the record). */
export interface EvalJobResult {
  /** `metrics.json`. */
  metrics: string;
  /** The offline `index.html`. */
  report: string;
  /** The PNG grids. */
  grids: string[];
  /** The summary metrics with bootstrap intervals. */
  summary: unknown;
  /** Prompts evaluated (PRES not counted). */
  prompts: number;
  /** Wall-clock seconds. */
  seconds: number;
}

/**
 * Runs one evaluation.
 *
 * @param params The validated params (paths resolved in the server).
 * @param ctx The job context; `dir` is the report folder.
 * @returns The report's files and summary.
 */
export async function run(params: EvalJobParams, ctx: WorkerJobContext): Promise<EvalJobResult> {
  const backend = await initBackend({
    prefer: parseBackendName((ctx.data as { backend?: string } | null)?.backend),
    quiet: true,
  });
  ctx.signal.throwIfAborted();
  const { preset, model, real, subject, builtInSubject, ...options } = params;
  const r = await runEval({
    ...options,
    model: real ? "real" : preset !== undefined ? `preset:${preset}` : model!,
    subject: subject ?? builtInSubject ?? "dog",
    out: ctx.dir,
    backendName: backend.name,
  }, {
    signal: ctx.signal,
    onProgress: (p) => ctx.progress({ step: p.done, total: p.total, message: p.prompt }),
  });
  return {
    metrics: r.files.json,
    report: r.files.html,
    grids: r.files.grids,
    summary: r.summary,
    prompts: r.prompts,
    seconds: r.seconds,
  };
}
