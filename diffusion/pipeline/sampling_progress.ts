/**
 * The progress line of a cascade's sampling (`deno task sample`), with an ETA measured, not guessed.
 *
 * A cascade's stages cost very different amounts per step, and not in proportion to anything simple:
 * on the 2-core CPU of DESIGN.md the default model's steps take about 0.05 s at 32², 0.14 s at 128²
 * and 2–4 s at 512² (ratios 1 : 3 : 60, where the pixel counts are 1 : 16 : 256 and the convolution
 * FLOPs 1 : 5 : 27). So the ETA covers the stage that is running, from that stage's own step time
 * after its first step (which carries the kernels' warm-up), and says how many stages follow.
 *
 * @example
 * ```ts
 * import { SamplingProgress } from "./sampling_progress.ts";
 * let now = 0;
 * const progress = new SamplingProgress(() => now);
 * now = 2000; // the first step took 2 s (warm-up)
 * progress.update({ stage: 0, stages: 2, step: 1, steps: 5, size: 32 });
 * now = 2500; // the next two took 0.25 s each
 * console.log(progress.update({ stage: 0, stages: 2, step: 3, steps: 5, size: 32 }));
 * // stage 1/2 (32×32) step 3/5  elapsed 2.5s  stage ETA 0.5s, then 1 more stage
 * ```
 *
 * @module
 */

/** One finished sampler step, as `Cascade.sample`'s `onProgress` reports it, plus the stage's size. */
export interface SamplingStep {
  /** Stage index, from 0. */
  stage: number;
  /** Number of stages being run. */
  stages: number;
  /** Step just finished within the stage, from 1. */
  step: number;
  /** Steps of the stage. */
  steps: number;
  /** Output side length of the stage, in pixels. */
  size: number;
}

/** Formats seconds as "12.3s", "4m05s" or "1h02m". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(1)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Builds the progress line after each sampler step; times come from `now` (milliseconds). */
export class SamplingProgress {
  readonly #now: () => number;
  readonly #t0: number;
  #stage = -1;
  #firstStepEnd = 0;

  /** @param now clock in milliseconds (default `performance.now`); the elapsed time starts here. */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#t0 = now();
  }

  /** Records a finished step and returns its progress line (no newline). */
  update(p: SamplingStep): string {
    const t = this.#now();
    if (p.stage !== this.#stage || p.step === 1) {
      this.#stage = p.stage;
      this.#firstStepEnd = t;
    }
    const after = p.stages - p.stage - 1;
    const then = after === 0 ? "" : `, then ${after} more stage${after === 1 ? "" : "s"}`;
    let eta: string;
    if (p.step >= p.steps) eta = `stage done${then}`;
    else if (p.step < 2) eta = `stage ETA ?${then}`;
    else {
      const perStep = (t - this.#firstStepEnd) / 1000 / (p.step - 1);
      eta = `stage ETA ${formatSeconds(perStep * (p.steps - p.step))}${then}`;
    }
    return `stage ${
      p.stage + 1
    }/${p.stages} (${p.size}×${p.size}) step ${p.step}/${p.steps}  elapsed ${
      formatSeconds((t - this.#t0) / 1000)
    }  ${eta}`;
  }
}
