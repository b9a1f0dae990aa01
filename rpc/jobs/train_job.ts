/**
 * The worker side of `train.start`: a thin adapter over training/dreambooth_rpc_job.ts that
 * passes the run-shape switches of the RPC params (`classSteps`, `superRes`, `finalSamples`,
 * `sampleEverySteps`) as overrides and keeps the class-image cache inside the data root.
 *
 * @module
 */
import { join } from "node:path";
import {
  type DreamBoothJobParams,
  run as runDreamBooth,
} from "../../training/dreambooth_rpc_job.ts";
import type { WorkerJobContext } from "../worker_job_kind.ts";

/** The params the adapter receives (path params already absolute). */
export type TrainJobParams = DreamBoothJobParams & {
  /** Ancestral sampler steps per class image. */
  classSteps?: number;
  /** Fine-tune the SR stages after the base stage. */
  superRes?: boolean;
  /** Render the final samples. */
  finalSamples?: boolean;
  /** Validation grid every N steps (0: never). */
  sampleEverySteps?: number;
};

/**
 * Runs one DreamBooth job.
 *
 * @param params The validated params (paths resolved in the server).
 * @param ctx The job context; `dir` is the model folder.
 * @returns What training/dreambooth_rpc_job.ts returns.
 */
export function run(
  params: TrainJobParams,
  ctx: WorkerJobContext,
): ReturnType<typeof runDreamBooth> {
  const { classSteps, superRes, finalSamples, sampleEverySteps, ...rest } = params;
  return runDreamBooth(rest, ctx, {
    cacheDir: join(ctx.dataRoot, "cache", "class_images"),
    ...(classSteps !== undefined ? { classSteps } : {}),
    ...(superRes !== undefined ? { superRes } : {}),
    ...(finalSamples !== undefined ? { finalSamples } : {}),
    ...(sampleEverySteps !== undefined ? { sampleEverySteps } : {}),
  });
}
