/**
 * Area under the ROC curve of a score that should be higher for positives than for negatives:
 * the probability that a random positive outscores a random negative, ties counting one half
 * (the Mann–Whitney U statistic divided by `P·N`). 1 separates perfectly, 0.5 is chance.
 *
 * @param positives Scores of positive pairs (e.g. same-instance similarities).
 * @param negatives Scores of negative pairs (e.g. same-class, other-instance similarities).
 * @returns The AUC in [0, 1].
 *
 * @example
 * ```ts
 * import { rocAuc } from "./roc_auc.ts";
 * console.log(rocAuc([0.9, 0.8], [0.1, 0.85])); // 0.75
 * ```
 */
export function rocAuc(positives: ArrayLike<number>, negatives: ArrayLike<number>): number {
  const p = positives?.length, n = negatives?.length;
  if (!(p > 0) || !(n > 0)) {
    throw new RangeError(
      `Cannot compute ROC AUC as 'positives' and 'negatives' must be non-empty: current lengths are ${p} and ${n}`,
    );
  }
  const all: [number, number][] = [];
  for (let i = 0; i < p; i++) all.push([positives[i], 1]);
  for (let i = 0; i < n; i++) all.push([negatives[i], 0]);
  all.sort((a, b) => a[0] - b[0]);
  // Sum of the positives' ranks (average ranks for ties).
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j][0] === all[i][0]) j++;
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k][1] === 1) rankSum += rank;
    i = j;
  }
  return (rankSum - p * (p + 1) / 2) / (p * n);
}
