/**
 * The SR phase of `deno task train` (training/'s DreamBooth job looks for `dreamboothSuperRes` in
 * superres/mod.ts): fine-tunes the personalised cascade's SR stages on the instance images at
 * t_aug = 1e-5 and sets their sampling level to the same value, in place.
 *
 * @module
 */
import { join } from "node:path";
import type { SuperResHook } from "../training/dreambooth_train.ts";
import { fineTuneSuperRes, type FineTuneSuperResOptions } from "./fine_tune_super_res.ts";

/**
 * What training/'s DreamBooth job passes to its SR hook (`SuperResHook`): the personalised cascade
 * (borrowed; SR stages fine-tuned in place), the output model folder (SR runs go in
 * `<out>/superres/`), the instance image folder and prompt, `resume`, `seed`, `log`, `signal`.
 * A type-only import: no runtime dependency on training/'s DreamBooth module.
 */
export type DreamBoothSuperResContext = Parameters<SuperResHook>[0];

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
