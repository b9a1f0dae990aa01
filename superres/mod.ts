/**
 * superres/: instance-specific super-resolution fine-tuning with low-level noise augmentation
 * (DreamBooth §4.3). Training pairs come from the subject's own images (high-res at the stage's
 * size, random crops for the large stage; low-res by the cascade's own area downsampling); the
 * low-res input is noise-augmented at one fixed level t_aug (default 1e-5) and the SR UNet is
 * conditioned on it. t_aug is the augmentation's own diffusion time: σ_aug = sin(π t_aug / 2) under
 * the cosine schedule, so the paper's "1e-3 → 1e-5" are values of t_aug.
 *
 * Dependencies: diffusion ← trainer (the one trainer, the run loop) ← superres ← dreambooth (its SR
 * phase, `dreamboothSuperRes`), rpc; data, params, backend below.
 *
 * @example
 * ```ts
 * import { initBackend } from "./deps.ts";
 * import { fineTuneSuperRes } from "./mod.ts";
 * await initBackend({ quiet: true });
 * const runDir = await Deno.makeTempDir();
 * const im = { data: new Float32Array(128 * 128 * 3), width: 128, height: 128 };
 * const r = await fineTuneSuperRes("preset:tiny", {
 *   images: [im], steps: 1, batchSize: 1, cropSize: { "1": 32 }, runDir, sampleSteps: 0, log: () => {},
 * });
 * console.log(r.stages[0].summary.step); // 1
 * await Deno.remove(runDir, { recursive: true });
 * ```
 *
 * @module
 */
export {
  createSrFineTuneConfig,
  DEFAULT_SR_FINE_TUNE_CONFIG,
  type SrFineTuneConfig,
  srPrompt,
} from "./sr_fine_tune_config.ts";
export { makeSrPairs, type SrPairs } from "./sr_pairs.ts";
export { imagesFromTensor } from "./_images.ts";
export {
  createSrFineTuneJob,
  type SrFineTuneJob,
  type SrFineTuneJobOptions,
} from "./sr_fine_tune_job.ts";
export {
  type LoadedSrCascade,
  loadSrCascade,
  type LoadSrCascadeOptions,
} from "./load_sr_cascade.ts";
export {
  fineTuneSuperRes,
  type FineTuneSuperResOptions,
  type FineTuneSuperResResult,
  srLoRAOf,
  type SrProgress,
} from "./fine_tune_super_res.ts";
export { dreamboothSuperRes, type DreamBoothSuperResContext } from "./dreambooth_super_res.ts";
export { type SuperResFields, superResParams } from "./superres_params.ts";
