/**
 * T5's relative-position buckets (Raffel et al. 2020, §2.1; HF `_relative_position_bucket`).
 *
 * @module
 */

/** Options of {@link relativePositionBucket}. */
export interface RelativePositionBucketOptions {
  /** Whether keys before and after the query get separate buckets (encoders: true). Default true. */
  bidirectional?: boolean;
  /** Number of buckets. Default 32. */
  numBuckets?: number;
  /** Distance from which all positions share the last bucket. Default 128. */
  maxDistance?: number;
}

/**
 * The bucket of a relative position `memory − query`. With bidirectional buckets, half of them are
 * for positive offsets. Within a half of n buckets, offsets below n/2 get their own bucket and larger
 * ones are binned logarithmically up to `maxDistance`:
 * bucket = n/2 + ⌊log(|d| / (n/2)) / log(maxDistance / (n/2)) · (n − n/2)⌋, capped at n − 1.
 *
 * @param relativePosition `memoryPosition − queryPosition` (an integer).
 * @param options `bidirectional` (default true), `numBuckets` (default 32), `maxDistance` (default 128).
 * @returns The bucket index in [0, numBuckets).
 *
 * @example
 * ```ts
 * import { relativePositionBucket } from "./relative_position_bucket.ts";
 * console.log(relativePositionBucket(-3), relativePositionBucket(3), relativePositionBucket(200)); // 3 19 31
 * ```
 */
export function relativePositionBucket(
  relativePosition: number,
  options: RelativePositionBucketOptions = {},
): number {
  const bidirectional = options.bidirectional ?? true;
  let numBuckets = options.numBuckets ?? 32;
  const maxDistance = options.maxDistance ?? 128;
  if (!Number.isInteger(relativePosition)) {
    throw new RangeError(
      `Cannot bucket a relative position as 'relativePosition' must be an integer: current value is ${relativePosition}`,
    );
  }
  let bucket = 0;
  let n: number;
  if (bidirectional) {
    numBuckets = Math.floor(numBuckets / 2);
    if (relativePosition > 0) bucket += numBuckets;
    n = Math.abs(relativePosition);
  } else {
    n = Math.max(-relativePosition, 0);
  }
  const maxExact = Math.floor(numBuckets / 2);
  if (n < maxExact) return bucket + n;
  // HF computes this in float32 then truncates toward zero.
  const large = maxExact +
    Math.trunc(
      Math.fround(
        Math.fround(Math.log(Math.fround(n / maxExact)) / Math.log(maxDistance / maxExact)) *
          (numBuckets - maxExact),
      ),
    );
  return bucket + Math.min(large, numBuckets - 1);
}
