/**
 * Noise schedules in continuous time t ∈ [0, 1] for the variance-preserving process
 * z_t = α_t x + σ_t ε, given as log-SNR(t) = log(α_t² / σ_t²) (Kingma et al. 2021, "Variational
 * Diffusion Models"; Imagen uses the cosine schedule for the base stage).
 *
 * @module
 */
import { inRange, oneOf } from "../_validate.ts";

/** The kinds of schedule: `cosine` (Nichol & Dhariwal 2021, as log-SNR) and `linear` log-SNR. */
export type ScheduleKind = "cosine" | "linear";

/** A noise schedule: typed data, never mutated. */
export interface Schedule {
  /** `cosine`: λ(t) = −2 log tan(a t + b); `linear`: λ(t) = λ_max + (λ_min − λ_max) t. */
  readonly kind: ScheduleKind;
  /** log-SNR at t = 1 (the noisiest end). Default −20. */
  readonly logSnrMin: number;
  /** log-SNR at t = 0 (the clean end). Default 20. */
  readonly logSnrMax: number;
}

/** The default schedule: cosine with log-SNR clipped to [−20, 20]. */
export const DEFAULT_SCHEDULE: Schedule = Object.freeze({
  kind: "cosine",
  logSnrMin: -20,
  logSnrMax: 20,
});

/**
 * Builds a validated schedule from partial options merged over {@link DEFAULT_SCHEDULE}.
 *
 * @param options Any of `kind` (default `"cosine"`), `logSnrMin` (default −20), `logSnrMax` (default 20).
 * @returns A new frozen {@link Schedule}.
 *
 * @example
 * ```ts
 * import { createSchedule } from "./schedule.ts";
 * const s = createSchedule({ kind: "linear", logSnrMin: -10, logSnrMax: 10 });
 * console.log(s.kind); // "linear"
 * ```
 */
export function createSchedule(options: Partial<Schedule> = {}): Schedule {
  const s = { ...DEFAULT_SCHEDULE, ...options };
  oneOf("create a schedule", "kind", s.kind, ["cosine", "linear"] as const);
  inRange("create a schedule", "logSnrMin", s.logSnrMin, -60, 60);
  inRange("create a schedule", "logSnrMax", s.logSnrMax, -60, 60);
  if (!(s.logSnrMax > s.logSnrMin)) {
    throw new RangeError(
      `Cannot create a schedule as 'logSnrMax' must be greater than 'logSnrMin': current values are ${s.logSnrMax} and ${s.logSnrMin}`,
    );
  }
  return Object.freeze({ kind: s.kind, logSnrMin: s.logSnrMin, logSnrMax: s.logSnrMax });
}

/**
 * log-SNR λ(t) of a schedule, a pure, strictly decreasing function of t ∈ [0, 1] with
 * λ(0) = logSnrMax and λ(1) = logSnrMin.
 *
 * Cosine: λ(t) = −2 log tan(a t + b), b = atan(exp(−λ_max / 2)), a = atan(exp(−λ_min / 2)) − b
 * (the shifted form of α_t = cos(π t / 2), so that σ_t ≈ sin(π t / 2) away from the clipped ends).
 *
 * @param schedule The schedule.
 * @param t Diffusion time in [0, 1].
 * @returns λ(t).
 *
 * @example
 * ```ts
 * import { DEFAULT_SCHEDULE, logSnr } from "./schedule.ts";
 * console.log(logSnr(DEFAULT_SCHEDULE, 0.5).toFixed(6)); // "0.000000"
 * ```
 */
export function logSnr(schedule: Schedule, t: number): number {
  inRange("compute the log-SNR", "t", t, 0, 1);
  const { logSnrMin, logSnrMax } = schedule;
  if (schedule.kind === "linear") return logSnrMax + (logSnrMin - logSnrMax) * t;
  const b = Math.atan(Math.exp(-0.5 * logSnrMax));
  const a = Math.atan(Math.exp(-0.5 * logSnrMin)) - b;
  // Clamped: rounding at the ends must not step outside [logSnrMin, logSnrMax].
  return Math.min(logSnrMax, Math.max(logSnrMin, -2 * Math.log(Math.tan(a * t + b))));
}

/**
 * The inverse of {@link logSnr}: the time t at which the schedule reaches log-SNR λ.
 *
 * @param schedule The schedule.
 * @param lambda A log-SNR in [logSnrMin, logSnrMax].
 * @returns t ∈ [0, 1].
 *
 * @example
 * ```ts
 * import { DEFAULT_SCHEDULE, logSnr, timeAtLogSnr } from "./schedule.ts";
 * console.log(timeAtLogSnr(DEFAULT_SCHEDULE, logSnr(DEFAULT_SCHEDULE, 0.3)).toFixed(6)); // "0.300000"
 * ```
 */
export function timeAtLogSnr(schedule: Schedule, lambda: number): number {
  const { logSnrMin, logSnrMax } = schedule;
  inRange("invert the log-SNR", "lambda", lambda, logSnrMin, logSnrMax);
  if (schedule.kind === "linear") return (logSnrMax - lambda) / (logSnrMax - logSnrMin);
  const b = Math.atan(Math.exp(-0.5 * logSnrMax));
  const a = Math.atan(Math.exp(-0.5 * logSnrMin)) - b;
  return Math.min(1, Math.max(0, (Math.atan(Math.exp(-0.5 * lambda)) - b) / a));
}

/**
 * α and σ of a log-SNR under the variance-preserving process: α² = sigmoid(λ), σ² = sigmoid(−λ), so
 * α² + σ² = 1 and α²/σ² = e^λ.
 *
 * @param lambda A log-SNR.
 * @returns `{ alpha, sigma }`.
 *
 * @example
 * ```ts
 * import { alphaSigma } from "./schedule.ts";
 * const { alpha, sigma } = alphaSigma(0);
 * console.log(alpha.toFixed(4), sigma.toFixed(4)); // "0.7071 0.7071"
 * ```
 */
export function alphaSigma(lambda: number): { alpha: number; sigma: number } {
  return { alpha: Math.sqrt(sigmoid(lambda)), sigma: Math.sqrt(sigmoid(-lambda)) };
}

/**
 * Everything a sampler or a loss needs at time t: λ(t), α_t, σ_t.
 *
 * @param schedule The schedule.
 * @param t Diffusion time in [0, 1].
 * @returns `{ t, logSnr, alpha, sigma }`.
 *
 * @example
 * ```ts
 * import { DEFAULT_SCHEDULE, scheduleAt } from "./schedule.ts";
 * const p = scheduleAt(DEFAULT_SCHEDULE, 1);
 * console.log(p.logSnr); // -20
 * ```
 */
export function scheduleAt(
  schedule: Schedule,
  t: number,
): { t: number; logSnr: number; alpha: number; sigma: number } {
  const lambda = logSnr(schedule, t);
  return { t, logSnr: lambda, ...alphaSigma(lambda) };
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
