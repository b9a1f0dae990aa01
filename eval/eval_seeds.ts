/**
 * Stream seeds of the EmojiScenes scenes that eval/ renders, kept apart from the pretraining and
 * DreamBooth seeds: pretraining, class-image generation and training streams use stream seeds
 * below 2^24 (16,777,216); eval/ uses only stream seeds in `[EVAL_SEED_BASE, EVAL_SEED_BASE + 255]`.
 * Scene `i` of stream `s` has seed `sceneSeedOf(s, i)` (a 32-bit hash), so disjoint stream seeds
 * give unrelated scenes.
 *
 * | stream | what |
 * |---|---|
 * | `classifierTrain` | training scenes of the world classifier and of the subject embedder |
 * | `classifierTest` | held-out scenes: the reported accuracies and ROC AUC |
 * | `pairs` | scenes of the embedder's ROC AUC pairs (held-out drawings) |
 * | `fixtures` | scenes of the tests' fixtures |
 * | `prior` | prompts and sampling seeds of `deno task measure-prior` (a pretrained prior's quality) |
 * | `classifierConfirm` | a second held-out set, never looked at while choosing the classifier's test-time views |
 *
 * @example
 * ```ts
 * import { EVAL_SEEDS } from "./eval_seeds.ts";
 * console.log(EVAL_SEEDS.classifierTest > 2 ** 24); // true
 * ```
 */
export const EVAL_SEEDS = Object.freeze({
  classifierTrain: 0x0e7a0000 + 1,
  classifierTest: 0x0e7a0000 + 2,
  pairs: 0x0e7a0000 + 3,
  fixtures: 0x0e7a0000 + 4,
  prior: 0x0e7a0000 + 5,
  classifierConfirm: 0x0e7a0000 + 6,
});

/** The first stream seed of eval/ (all eval streams are in `[EVAL_SEED_BASE, EVAL_SEED_BASE + 255]`).
 *
 * @example
 * ```ts
 * import { EVAL_SEED_BASE } from "./eval_seeds.ts";
 * console.log(EVAL_SEED_BASE.toString(16)); // "e7a0000"
 * ```
 */
export const EVAL_SEED_BASE = 0x0e7a0000;
