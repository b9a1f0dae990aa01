/**
 * The worker side of `train.start`: a thin adapter over dreambooth/'s `runDreamBoothJob` that keeps
 * the class-image cache inside the data root.
 *
 * @module
 */
import { join } from "node:path";
import {
  type DreamBoothJobParams,
  runDreamBoothJob as runDreamBooth,
} from "../../dreambooth/mod.ts";
import type { WorkerJobContext } from "../worker_job_kind.ts";

/** The params the adapter receives (path params already absolute). */
export type TrainJobParams = DreamBoothJobParams;

/**
 * Runs one DreamBooth job.
 *
 * @param params The validated params (paths resolved in the server).
 * @param ctx The job context; `dir` is the model folder.
 * @returns What dreambooth/dreambooth_rpc_job.ts returns.
 */
export function run(
  params: TrainJobParams,
  ctx: WorkerJobContext,
): ReturnType<typeof runDreamBooth> {
  return runDreamBooth(params, ctx, { cacheDir: join(ctx.dataRoot, "cache", "class_images") });
}
