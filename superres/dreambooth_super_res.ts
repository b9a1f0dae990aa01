/**
 * The SR phase of `deno task train` (dreambooth/'s pipeline calls it after the base stage):
 * fine-tunes the personalised cascade's SR stages on the instance images at t_aug = 1e-5 and sets
 * their sampling level to the same value, in place.
 *
 * @module
 */
import { join } from "node:path";
import type { Cascade } from "./deps.ts";
import { fineTuneSuperRes, type FineTuneSuperResOptions } from "./fine_tune_super_res.ts";

/** What dreambooth/'s pipeline passes to the SR phase. */
export interface DreamBoothSuperResContext {
  /** The personalised cascade (borrowed; fine-tune `stages[1..]` in place). */
  cascade: Cascade;
  /** The output model folder (the SR run goes in `<out>/superres/`). */
  out: string;
  /** The instance image folder. */
  instanceDir: string;
  /** The instance prompt ("a [V] dog"). */
  instancePrompt: string;
  /** Continue an interrupted SR run. */
  resume: boolean;
  /** Seed. */
  seed: number;
  /** Progress lines. */
  log: (line: string) => void;
  /** Stop early (checkpoint, then return). */
  signal?: AbortSignal;
}

/**
 * Fine-tunes the first SR stage (or `overrides.stages`/`allStages`) of a DreamBooth-personalised
 * cascade, then sets those stages' sampling t_aug to the fine-tuning level.
 *
 * @param context See {@link DreamBoothSuperResContext}.
 * @param overrides Any option of `fineTuneSuperRes` (e.g. `{ allStages: true, steps: 100 }`). Default {}.
 * @returns Metrics for `dreambooth.json`: whether it finished, t_aug, stages, steps, run folder, seconds.
 *
 * @example
 * ```ts
 * import { createPreset, initBackend } from "./deps.ts";
 * import { dreamboothSuperRes } from "./dreambooth_super_res.ts";
 * await initBackend({ quiet: true });
 * using cascade = await createPreset("tiny");
 * const out = await Deno.makeTempDir();
 * const instanceDir = new URL("../data/subjects/dog/", import.meta.url).pathname;
 * const m = await dreamboothSuperRes(
 *   { cascade, out, instanceDir, instancePrompt: "a sks dog", resume: false, seed: 0, log: () => {} },
 *   { steps: 1, batchSize: 1, cropSize: { "1": 32 }, sampleSteps: 0 },
 * );
 * console.log(m.done, cascade.stages[1].augLevel); // true 0.00001
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function dreamboothSuperRes(
  context: DreamBoothSuperResContext,
  overrides: FineTuneSuperResOptions = {},
): Promise<Record<string, unknown>> {
  const { cascade, out, instanceDir, instancePrompt, resume, seed, log, signal } = context;
  const r = await fineTuneSuperRes(cascade, {
    subjectDir: instanceDir,
    prompt: instancePrompt,
    runDir: join(out, "superres"),
    resume,
    seed,
    log,
    signal,
    save: false,
    ...overrides,
  });
  if (r.done) {
    for (const s of r.config.stages) cascade.setAugLevel(s, r.augLevels[s]);
  }
  return {
    done: r.done,
    augLevel: r.config.augLevel,
    sampleAugLevels: r.augLevels,
    stages: r.config.stages,
    steps: r.config.steps,
    learningRate: r.config.learningRate,
    prompt: instancePrompt,
    runDir: join(out, "superres"),
    lossEma: r.stages.map((s) => s.summary.lossEma),
    trainSeconds: +r.seconds.toFixed(2),
  };
}
