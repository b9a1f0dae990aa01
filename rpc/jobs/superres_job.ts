/**
 * The worker side of `superres.start`: a thin adapter over superres/'s `fineTuneSuperRes` (run
 * folder = the job's model folder, progress per step across stages, cancellation through the
 * signal, resume from the folder's checkpoints).
 *
 * @module
 */
import { join } from "node:path";
import { initBackend, parseBackendName } from "../../backend/mod.ts";
import { fineTuneSuperRes, srLoRAOf, type SuperResFields } from "../../superres/mod.ts";
import type { WorkerJobContext } from "../worker_job_kind.ts";

/** The params the adapter receives (path params already absolute). */
export type SuperResJobParams = SuperResFields & {
  /** A fresh preset instead of `model`. */
  preset?: "tiny" | "small";
};

async function cascadeFile(path: string): Promise<string> {
  const stat = await Deno.stat(path);
  if (stat.isFile) return path;
  for (const f of ["cascade.safetensors", "model.safetensors"]) {
    if (await Deno.stat(join(path, f)).then((s) => s.isFile, () => false)) return join(path, f);
  }
  throw new RangeError(
    `Cannot fine-tune as 'model' is a folder without cascade.safetensors or model.safetensors`,
  );
}

/**
 * Runs one SR fine-tuning job.
 *
 * @param params The validated params (paths resolved in the server).
 * @param ctx The job context; `dir` is the run folder (`cascade.safetensors` lands there).
 * @returns The cascade file, whether every stage finished, t_aug per stage, seconds.
 */
export async function run(
  params: SuperResJobParams,
  ctx: WorkerJobContext,
): Promise<{ cascadePath: string | null; done: boolean; augLevels: number[]; seconds: number }> {
  await initBackend({
    prefer: parseBackendName((ctx.data as { backend?: string } | null)?.backend),
    quiet: true,
  });
  ctx.signal.throwIfAborted();
  const { preset, model, subject, stage, allStages, sampleSteps, method, rank, ...rest } = params;
  const { loraAlpha, loraTargets, ...config } = rest;
  const lora = srLoRAOf({ method, rank, loraAlpha, loraTargets });
  const source = model !== undefined ? await cascadeFile(model) : `preset:${preset ?? "tiny"}`;
  const seen: number[] = [];
  const r = await fineTuneSuperRes(source, {
    ...config,
    ...(lora ? { lora } : {}),
    ...(subject !== undefined ? { subjectDir: subject } : {}),
    ...(stage !== undefined ? { stage } : {}),
    ...(allStages !== undefined ? { allStages } : {}),
    ...(sampleSteps !== undefined ? { sampleSteps } : {}),
    runDir: ctx.dir,
    resume: ctx.resume,
    signal: ctx.signal,
    log: () => {},
    onProgress: (p) => {
      if (!seen.includes(p.stage)) seen.push(p.stage);
      const before = (seen.length - 1) * p.steps;
      const stages = allStages ? Math.max(seen.length, 2) : 1;
      ctx.progress({
        step: before + p.step,
        total: stages * p.steps,
        message: `stage ${p.stage} step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)}`,
      });
    },
  });
  return { cascadePath: r.cascadePath, done: r.done, augLevels: r.augLevels, seconds: r.seconds };
}
