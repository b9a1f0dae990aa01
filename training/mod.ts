/**
 * training/: pretraining of the default cascade on the EmojiScenes world (`deno task pretrain`, one
 * stage per run: base with the text encoder, or super-resolution with noise-conditioning
 * augmentation and crops), the export CLI of finished runs into a shippable float16 cascade
 * (`models/default/`), and cascade soups and compositions (`deno task average-cascades`,
 * `compose-cascades`). The trainer and the run machinery it drives live in trainer/; the DreamBooth
 * pipeline in dreambooth/.
 *
 * Dependencies: diffusion ← trainer ← training (data, params, backend below); only rpc/ and the
 * root mod.ts import it.
 *
 * @example
 * ```ts
 * import { initBackend, presetConfig, runTraining } from "./deps.ts";
 * import { createPretrainConfig, createPretrainJob } from "./mod.ts";
 * await initBackend({ quiet: true });
 * const config = createPretrainConfig({ cascade: presetConfig("tiny"), stage: "base", batchSize: 2 });
 * using job = await createPretrainJob(config);
 * const runDir = await Deno.makeTempDir();
 * const s = await runTraining(job, { runDir, totalSteps: 2, config, sampleEverySteps: 0, log: () => {} });
 * console.log(s.step); // 2
 * await Deno.remove(runDir, { recursive: true });
 * ```
 *
 * @module
 */
export {
  averageCascades,
  type AverageCascadesOptions,
  type AveragedCascade,
} from "./average_cascades.ts";
export {
  CASCADE_PARTS,
  type CascadePart,
  composeCascades,
  type ComposeCascadesOptions,
  type ComposedCascade,
} from "./compose_cascades.ts";
export {
  createPretrainConfig,
  createPretrainJob,
  DEFAULT_SAMPLE_PROMPTS,
  PRETRAIN_SEEDS,
  PRETRAIN_STAGES,
  type PretrainConfig,
  type PretrainJob,
  type PretrainStage,
} from "./pretrain_job.ts";
