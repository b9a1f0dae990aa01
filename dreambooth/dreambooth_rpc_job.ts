/**
 * The RPC `train.start` job: a module exporting `run(params, context)` for rpc/'s `workerJobKind`
 * (see rpc/README.md). It runs {@link trainDreamBooth} with the job's folder as the output model
 * folder, reports progress every step, stops at the next step when cancelled (a checkpoint
 * follows), and resumes from the folder's checkpoint on `jobs.resume`.
 *
 * @module
 */
import { fromFields, initBackend, parseBackendName } from "./deps.ts";
import { type DreamBoothFields, dreamboothParams } from "./dreambooth_params.ts";
import { type DreamBoothResult, trainDreamBooth } from "./dreambooth_train.ts";

/**
 * Parameters of `train.start` (all optional: the defaults of `deno task train`): the DreamBooth
 * parameters by RPC field name (see `dreambooth_params.ts`; `subject` and `model` already resolved
 * to absolute paths by the server), plus `preset`.
 */
export type DreamBoothJobParams = DreamBoothFields & {
  /** A preset (`"tiny"` for CI) instead of `model`. */
  preset?: "tiny" | "small";
};

/** What the job needs from rpc/'s context (structurally `WorkerJobContext`). */
export interface DreamBoothJobContext {
  /** The job's folder (absolute): the output model folder. */
  readonly dir: string;
  /** Cancelled → stop after the current step. */
  readonly signal: AbortSignal;
  /** Continue from the folder's checkpoint. */
  readonly resume: boolean;
  /** Progress. */
  progress(update: { step: number; total?: number; message?: string }): void;
  /** Settings from the server (`{ backend }`). */
  readonly data?: unknown;
}

/**
 * Runs DreamBooth as an RPC job.
 *
 * @param params See {@link DreamBoothJobParams}.
 * @param context See {@link DreamBoothJobContext}.
 * @returns The output: model path, identifier, class noun, metrics, sample files.
 *
 * @example
 * ```ts
 * import { run } from "./dreambooth_rpc_job.ts";
 * const dir = await Deno.makeTempDir();
 * const r = await run({ preset: "tiny", steps: 1, numClassImages: 1 }, {
 *   dir, signal: new AbortController().signal, resume: false, progress: () => {},
 * }, { classSteps: 1, finalSamples: false, superRes: false, log: () => {}, cacheDir: dir + "/cache" });
 * console.log(r.identifier); // "sks"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function run(
  params: DreamBoothJobParams,
  context: DreamBoothJobContext,
  overrides: Parameters<typeof trainDreamBooth>[0] = {},
): Promise<
  Pick<DreamBoothResult, "out" | "model" | "identifier" | "classNoun" | "metrics" | "samples">
> {
  const backend = (context.data as { backend?: string } | undefined)?.backend;
  await initBackend({ prefer: parseBackendName(backend), quiet: true });
  const { preset, ...fields } = params;
  const r = await trainDreamBooth({
    ...fromFields(dreamboothParams, fields),
    model: preset ? `preset:${preset}` : params.model ?? null,
    out: context.dir,
    resume: context.resume,
    signal: context.signal,
    onProgress: ({ step, total, loss }) => {
      try {
        context.progress({ step, total, message: `loss ${loss.toFixed(4)}` });
      } catch {
        // Cancelled: the signal stops the run after this step, with a checkpoint.
      }
    },
    ...overrides,
  });
  const { out, model, identifier, classNoun, metrics, samples } = r;
  return { out, model, identifier, classNoun, metrics, samples };
}
