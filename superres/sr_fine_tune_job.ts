/**
 * Fine-tuning of one SR stage of a cascade on a subject's image pairs, as a `TrainingJob` for
 * trainer/'s run machinery (`runTraining`: run folder, atomic checkpoints, resume, loss log and
 * curve, sample grids, time budget, NaN guard). The step is the shared `StageTrainer` (the one
 * trainer of pretraining and DreamBooth too) with the noise-conditioning augmentation pinned to one
 * level (`minAugLevel = maxAugLevel = t_aug`), Adam β2 = 0.999 and no gradient clipping,
 * so the low-res input is α(t_aug)·up(x_low) + σ(t_aug)·ε and the UNet is conditioned on
 * log-SNR(t_aug) at every step.
 *
 * @module
 */
import {
  type Cascade,
  loadTrainerState,
  type LoRAConfig,
  type NamedTensor,
  type RunCheckpoint,
  type SampleGrid,
  saveTrainerState,
  StageTrainer,
  type StepResult,
  type TextEmbedding,
  tf,
  type TrainingJob,
  upsampleNearest,
} from "./deps.ts";
import type { SrPairs } from "./sr_pairs.ts";
import { type SrFineTuneConfig, srPrompt } from "./sr_fine_tune_config.ts";
import { floatImage, imagesFromTensor } from "./_images.ts";

/** A fine-tuning job for one SR stage; owns its trainer and text condition (`dispose()`). */
export interface SrFineTuneJob extends TrainingJob {
  /** The cascade stage index being trained (1 = first SR stage). */
  readonly stage: number;
  /** The trainer (its UNet is the cascade's stage, trained in place). */
  readonly trainer: StageTrainer;
  /** Frees the trainer and the text condition (not the cascade, not the pairs). */
  dispose(): void;
  /** Frees the trainer and the text condition (`using`). */
  [Symbol.dispose](): void;
}

/** Options of {@link createSrFineTuneJob}. */
export interface SrFineTuneJobOptions {
  /** The settings (see `createSrFineTuneConfig`). */
  config: SrFineTuneConfig;
  /** The cascade stage to fine-tune (1 = first SR stage). */
  stage: number;
  /** Sampler steps of the sample grid. Default 10. */
  sampleSteps?: number;
  /**
   * Attach fresh LoRA adapters to the stage's UNet (seeded by the config's seed and the stage) so
   * that only they train; they stay attached. Default none (every weight trains).
   */
  lora?: Partial<LoRAConfig>;
}

/** Refuses a stage index that is not an SR stage, and pairs of the wrong sizes for it. */
function checkStage(cascade: Cascade, pairs: SrPairs, i: number): void {
  if (!Number.isInteger(i) || i < 1 || i >= cascade.stages.length) {
    throw new RangeError(
      `Cannot fine-tune SR stage ${i} as the cascade has SR stages 1…${cascade.stages.length - 1}`,
    );
  }
  const size = cascade.stages[i].imageSize, lowSize = cascade.stages[i - 1].imageSize;
  if (pairs.high.shape[1] !== size || pairs.low.shape[1] !== lowSize) {
    throw new RangeError(
      `Cannot fine-tune SR stage ${i} as its pairs must be ${size} px over ${lowSize} px: current sizes are ${
        pairs.high.shape[1]
      } over ${pairs.low.shape[1]}`,
    );
  }
}

/**
 * Builds the job. The cascade and the pairs are borrowed (the stage's UNet is updated in place).
 *
 * @param cascade The cascade (borrowed).
 * @param pairs The stage's {@link SrPairs} (borrowed; `high` at the stage's size, `low` at the
 * previous stage's).
 * @param options See {@link SrFineTuneJobOptions}.
 * @returns The job, owned by the caller.
 * @throws {RangeError} When the stage is not an SR stage or the pairs have the wrong sizes.
 *
 * @example
 * ```ts
 * import { createPreset, initBackend } from "./deps.ts";
 * import { createSrFineTuneConfig } from "./sr_fine_tune_config.ts";
 * import { createSrFineTuneJob } from "./sr_fine_tune_job.ts";
 * import { makeSrPairs } from "./sr_pairs.ts";
 * await initBackend({ quiet: true });
 * using cascade = await createPreset("tiny");
 * const im = { data: new Float32Array(128 * 128 * 3), width: 128, height: 128 };
 * using pairs = makeSrPairs([im], { highSize: 128, lowSize: 32 });
 * const config = createSrFineTuneConfig({ batchSize: 1, cropSize: { "1": 32 } });
 * using job = createSrFineTuneJob(cascade, pairs, { config, stage: 1 });
 * console.log((await job.trainStep()).step); // 1
 * ```
 */
export function createSrFineTuneJob(
  cascade: Cascade,
  pairs: SrPairs,
  options: SrFineTuneJobOptions,
): SrFineTuneJob {
  const { config: c, stage: i, sampleSteps = 10 } = options;
  checkStage(cascade, pairs, i);
  const stage = cascade.stages[i];
  const lowSize = cascade.stages[i - 1].imageSize;
  if (options.lora) stage.unet.addLoRA({ config: options.lora, seed: (c.seed + i) >>> 0 });
  const crop = Math.min(c.cropSize[String(i)] ?? 0, stage.imageSize);
  const cropSize = crop === stage.imageSize ? 0 : crop;
  const trainer = new StageTrainer(stage.unet, {
    schedule: stage.schedule,
    learningRate: c.learningRate,
    beta2: 0.999,
    gradClip: 0,
    weighting: c.weighting,
    condDropout: c.condDropout,
    minAugLevel: c.augLevel, // a fixed t_aug: U[t_aug, t_aug]
    maxAugLevel: c.augLevel,
    cropSize,
    seed: (c.seed + i) >>> 0,
  });
  const n = pairs.high.shape[0];
  const b = c.batchSize;
  const prompt = srPrompt(c);
  const text: TextEmbedding | null = stage.unet.config.textDim > 0
    ? cascade.textEncoder.encodePrompts(cascade.tokenizer, Array(b).fill(prompt))
    : null;
  const sampleAug = c.sampleAugLevel ?? c.augLevel;

  const job: SrFineTuneJob = {
    stage: i,
    trainer,
    get step() {
      return trainer.step;
    },
    async trainStep(): Promise<StepResult> {
      const stepNo = trainer.step + 1;
      // Step n takes examples (n − 1)·B … n·B − 1 of the cycled image list: a function of the step.
      const idx = Array.from({ length: b }, (_, k) => ((stepNo - 1) * b + k) % n);
      const [xStart, lowRes] = tf.tidy(() => [
        tf.gather(pairs.high, idx) as tf.Tensor4D,
        tf.gather(pairs.low, idx) as tf.Tensor4D,
      ]);
      try {
        // The async read keeps GPU backends free of synchronous device→host reads.
        return await trainer.trainStepAsync({ xStart, lowRes, text });
      } finally {
        xStart.dispose();
        lowRes.dispose();
      }
    },
    async checkpoint(): Promise<RunCheckpoint> {
      const tensors = new Map<string, NamedTensor>();
      for (const [k, v] of await stage.unet.exportWeights({ prefix: `stages.${i}.` })) {
        tensors.set(k, v);
      }
      return {
        tensors,
        state: saveTrainerState(tensors, await trainer.readState()),
        metadata: { kind: "superres", stageIndex: String(i), augLevel: String(c.augLevel) },
      };
    },
    restore(ckpt: RunCheckpoint): Promise<void> {
      stage.unet.loadWeights(ckpt.tensors, { prefix: `stages.${i}.` });
      trainer.setState(loadTrainerState(ckpt));
      return Promise.resolve();
    },
    async samples(): Promise<SampleGrid> {
      // Per image (up to 4): the upsampled low-res input, the SR output at the sampling t_aug, the truth.
      const k = Math.min(4, n);
      const idx = Array.from({ length: k }, (_, j) => j);
      const [low, high, up] = tf.tidy(() => {
        const l = tf.gather(pairs.low, idx) as tf.Tensor4D;
        return [
          l,
          tf.gather(pairs.high, idx) as tf.Tensor4D,
          upsampleNearest(l, stage.imageSize / lowSize),
        ];
      });
      try {
        const { images } = await cascade.sample({
          prompt: Array(k).fill(prompt),
          seed: 1,
          steps: sampleSteps,
          stages: i + 1,
          startStage: i,
          lowRes: low,
          augLevel: sampleAug,
        });
        const ups = await imagesFromTensor(up), truths = await imagesFromTensor(high);
        const out = images.map(floatImage);
        const grid: SampleGrid = { images: [], labels: [], columns: 3 };
        for (let j = 0; j < k; j++) {
          grid.images.push(ups[j], out[j], truths[j]);
          grid.labels!.push("input", `t_aug ${sampleAug} (step ${trainer.step})`, "truth");
        }
        return grid;
      } finally {
        tf.dispose([low, high, up]);
      }
    },
    dispose() {
      trainer.dispose();
      if (text) tf.dispose([text.tokens, text.pooled, text.mask]);
    },
    [Symbol.dispose]() {
      this.dispose();
    },
  };
  return job;
}
