import { Rng } from "./deps.ts";
/** A point estimate with a bootstrap confidence interval. */
export interface ConfidenceInterval {
  /** The statistic on the full sample. */
  estimate: number;
  /** Lower end of the interval. */
  low: number;
  /** Upper end of the interval. */
  high: number;
  /** Confidence level (e.g. 0.95). */
  level: number;
  /** Sample size. */
  n: number;
}

/** Options of {@link bootstrapCi}. */
export interface BootstrapOptions {
  /** Seed of the resampling (default 0): the same seed gives the same interval. */
  seed?: number;
  /** Number of bootstrap resamples (default 1000). */
  resamples?: number;
  /** Confidence level in (0, 1) (default 0.95). */
  level?: number;
  /**
   * The statistic of a resample, given the resampled indices into `values` (default: the mean of
   * the values at those indices). Used for statistics of pairs, e.g. DIV.
   */
  statistic?: (indices: readonly number[]) => number;
}

/**
 * Percentile bootstrap confidence interval (Efron 1979): resamples the `n` items with replacement
 * `resamples` times, computes the statistic on each resample, and reports the `(1 − level)/2` and
 * `(1 + level)/2` quantiles. Deterministic for a seed. With one item (or all equal values) the
 * interval is the point.
 *
 * @param values The per-item values (only their count matters when `statistic` is given).
 * @param options See {@link BootstrapOptions}.
 * @returns The estimate on the full sample and the interval.
 *
 * @example
 * ```ts
 * import { bootstrapCi } from "./bootstrap_ci.ts";
 * const ci = bootstrapCi([0.2, 0.4, 0.6, 0.8], { seed: 1 });
 * console.log(ci.estimate.toFixed(2), ci.low <= ci.estimate && ci.estimate <= ci.high); // "0.50" true
 * ```
 */
export function bootstrapCi(
  values: ArrayLike<number>,
  options: BootstrapOptions = {},
): ConfidenceInterval {
  const { seed = 0, resamples = 1000, level = 0.95 } = options;
  const n = values?.length;
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot bootstrap as 'values' must be a non-empty array: current length is ${n}`,
    );
  }
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new RangeError(
      `Cannot bootstrap as 'resamples' must be a positive integer: current value is ${resamples}`,
    );
  }
  if (!(level > 0 && level < 1)) {
    throw new RangeError(
      `Cannot bootstrap as 'level' must be in (0, 1): current value is ${level}`,
    );
  }
  const statistic = options.statistic ?? ((idx: readonly number[]) => {
    let s = 0;
    for (const i of idx) s += values[i];
    return s / idx.length;
  });
  const all = Array.from({ length: n }, (_, i) => i);
  const estimate = statistic(all);
  const rng = new Rng(seed ^ 0x9e3779b9, { algorithm: "mulberry32" });
  const stats = new Float64Array(resamples);
  const idx = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    stats[r] = statistic(idx);
  }
  stats.sort();
  const q = (p: number) => {
    const x = p * (resamples - 1), lo = Math.floor(x), hi = Math.ceil(x);
    return stats[lo] + (stats[hi] - stats[lo]) * (x - lo);
  };
  return { estimate, low: q((1 - level) / 2), high: q((1 + level) / 2), level, n };
}
