/**
 * eval/: measuring personalisation in the EmojiScenes world — a world classifier (class, context,
 * property) and a subject embedder (instance similarity, background-independent) trained on eval-seed
 * scenes and shipped as small float16 weights; a mask-free foreground-colour measure as a second
 * opinion; subject fidelity, prompt fidelity, PRES and DIV with seeded bootstrap intervals; the
 * DreamBench object prompts the world can express; and `deno task eval` with an offline HTML report.
 *
 * @example
 * ```ts
 * import { bootstrapCi, dreambenchPrompts } from "./mod.ts";
 * console.log(dreambenchPrompts("sks", "dog")[0].prompt); // "a sks dog in the jungle"
 * console.log(bootstrapCi([1, 1, 1]).estimate); // 1
 * ```
 *
 * @module
 */
export { EVAL_SEED_BASE, EVAL_SEEDS } from "./eval_seeds.ts";
export { bootstrapCi, type BootstrapOptions, type ConfidenceInterval } from "./bootstrap_ci.ts";
export { rocAuc } from "./roc_auc.ts";
export { type ImageEmbedder, similarityMatrix } from "./image_embedder.ts";
export { resizeImage } from "./_resize.ts";
export {
  type ClassifierView,
  type ClassifyOptions,
  DEFAULT_CLASSIFIER_VIEWS,
  DEFAULT_WORLD_CLASSIFIER_WEIGHTS,
  SINGLE_CLASSIFIER_VIEW,
  type WorldClassification,
  WorldClassifier,
} from "./world_classifier.ts";
export { type EmbedOptions, SubjectEmbedder } from "./subject_embedder.ts";
export {
  ForegroundColorEmbedder,
  type ForegroundColorOptions,
} from "./foreground_color_embedder.ts";
export {
  type MetricResult,
  priorPreservation,
  subjectFidelity,
  type SubjectFidelityOptions,
} from "./subject_fidelity.ts";
export { diversity, type DiversityOptions } from "./diversity.ts";
export {
  type ImageClassifier,
  promptFidelity,
  type PromptFidelityOptions,
  type PromptFidelityResult,
  type PromptTarget,
} from "./prompt_fidelity.ts";
export {
  DREAMBENCH_OBJECT_TEMPLATES,
  dreambenchPrompts,
  type WorldPrompt,
} from "./dreambench_prompts.ts";
export {
  type EvalSubject,
  evaluateSubject,
  type EvaluateSubjectOptions,
  type GenerateFn,
  type PromptEvaluation,
  type SubjectEvaluation,
} from "./evaluate_subject.ts";
export {
  type EvalReportFiles,
  writeEvalReport,
  type WriteEvalReportOptions,
} from "./write_eval_report.ts";
export {
  EVAL_SR_STEPS,
  type EvalProgress,
  runEval,
  type RunEvalHooks,
  type RunEvalOptions,
  type RunEvalResult,
} from "./run_eval.ts";
export { type EvalFields, evalParams } from "./eval_params.ts";
