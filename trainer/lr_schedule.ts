/**
 * Learning-rate schedules of the fine-tuning trainers: a linear warm-up from 0 over the first
 * `warmupSteps` steps, then constant or a cosine decay to 0 at `totalSteps` (Loshchilov & Hutter
 * 2017, SGDR without restarts).
 *
 * @module
 */

/** The schedules {@link learningRateAt} knows. */
export const LR_SCHEDULES: readonly ("constant" | "cosine")[] = Object.freeze([
  "constant",
  "cosine",
]);

/** A learning-rate schedule's name. */
export type LrScheduleName = "constant" | "cosine";

/** Options of {@link learningRateAt}. */
export interface LrScheduleOptions {
  /** The peak (base) learning rate. */
  learningRate: number;
  /** `constant` (default) or `cosine`. */
  schedule?: LrScheduleName;
  /** Steps of linear warm-up from 0 (default 0). */
  warmupSteps?: number;
  /** The step where the cosine reaches 0 (needed by `cosine`). */
  totalSteps?: number;
}

/**
 * The learning rate of step `step` (1-based):
 * warm-up `η·step/W` for `step ≤ W`, then `η` (constant) or
 * `η·½(1 + cos(π·(step − W)/(T − W)))` (cosine, reaching 0 at step T).
 *
 * @param step The step being taken (1-based).
 * @param options See {@link LrScheduleOptions}.
 * @returns The learning rate.
 * @throws {RangeError} Naming the option: a negative warm-up, a cosine without `totalSteps`.
 *
 * @example
 * ```ts
 * import { learningRateAt } from "./lr_schedule.ts";
 * console.log(learningRateAt(5, { learningRate: 1, warmupSteps: 10 })); // 0.5
 * console.log(learningRateAt(10, { learningRate: 1, schedule: "cosine", totalSteps: 10 })); // 0
 * ```
 */
export function learningRateAt(step: number, options: LrScheduleOptions): number {
  const { learningRate, schedule = "constant", warmupSteps = 0, totalSteps } = options;
  if (!LR_SCHEDULES.includes(schedule)) {
    throw new RangeError(
      `Cannot compute the learning rate as 'schedule' must be one of ${
        LR_SCHEDULES.join(", ")
      }: current value is ${JSON.stringify(schedule)}`,
    );
  }
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) {
    throw new RangeError(
      `Cannot compute the learning rate as 'warmupSteps' must be an integer ≥ 0: current value is ${warmupSteps}`,
    );
  }
  if (warmupSteps > 0 && step <= warmupSteps) return learningRate * step / warmupSteps;
  if (schedule === "constant") return learningRate;
  if (totalSteps === undefined || !Number.isInteger(totalSteps) || totalSteps < 1) {
    throw new RangeError(
      `Cannot compute the learning rate as the cosine schedule needs 'totalSteps', an integer ≥ 1: current value is ${totalSteps}`,
    );
  }
  const span = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - warmupSteps) / span));
  return learningRate * 0.5 * (1 + Math.cos(Math.PI * progress));
}
