/**
 * Private to experiments/: the rows of `deno task reproduce` (issue 35), the claims they test, and
 * the conversion of the paper's SR noise-augmentation levels into this project's unit.
 *
 * @module
 */

/** A subject of the study: a built-in one (emoji world) or a DreamBench photo folder. */
export interface StudySubject {
  /** Name (`dog`, …). */
  name: string;
  /** Its image folder, relative to the repository root or absolute. */
  dir: string;
  /** Its class noun. */
  classNoun: string;
  /** A DreamBench-style wrong class noun for the class-noun ablation. */
  wrongNoun: string;
}

/** How a row's unit is computed. */
export type RowKind = "real" | "untrained" | "train" | "sr" | "photo";

/** One row of the study (a unit of work per subject). */
export interface RowSpec {
  /** Folder-safe id: `OUT/units/<id>/<subject>.json`. */
  id: string;
  /** Label in the tables. */
  label: string;
  /** The group (section) of the table. */
  group: string;
  /** How its unit is computed. */
  kind: RowKind;
  /** `deno task train` options of a trained row. */
  train?: (s: StudySubject) => string[];
  /** A capability `deno task train --help` must show, else "not run". */
  needs?: "lora";
}

/** The built-in subjects and their DreamBench-style wrong nouns (e.g. "can" for a backpack). */
export const BUILT_IN_SUBJECTS: readonly StudySubject[] = [
  { name: "dog", dir: "data/subjects/dog", classNoun: "dog", wrongNoun: "can" },
  { name: "cat", dir: "data/subjects/cat", classNoun: "cat", wrongNoun: "teapot" },
  { name: "backpack", dir: "data/subjects/backpack", classNoun: "backpack", wrongNoun: "can" },
  { name: "sneaker", dir: "data/subjects/sneaker", classNoun: "sneaker", wrongNoun: "teapot" },
  { name: "teapot", dir: "data/subjects/teapot", classNoun: "teapot", wrongNoun: "sneaker" },
];

/**
 * The five DreamBench photo subjects of the real-photo section (folders of
 * `../shared/data/dreambench`): dog, cat, backpack and teapot are Unsplash photos (Unsplash licence),
 * colorful_sneaker was photographed by the authors; the dataset is CC BY 4.0
 * (`references_and_licenses.txt`, `LICENSE.md` there).
 */
export const PHOTO_SUBJECTS: readonly { name: string; classNoun: string }[] = [
  { name: "dog", classNoun: "dog" },
  { name: "cat", classNoun: "cat" },
  { name: "backpack", classNoun: "backpack" },
  { name: "teapot", classNoun: "teapot" },
  { name: "colorful_sneaker", classNoun: "sneaker" },
];

/** The common English word of the identifier ablation. */
export const COMMON_WORD = "special";
/** The random character string of the identifier ablation (the paper's example). */
export const RANDOM_STRING = "xxy5syt00";

/**
 * Every row, in the order units run: the cheap and the SR rows first, `db-prior` before `untrained`
 * (which reuses its identifier).
 */
export const ROWS: readonly RowSpec[] = [
  { id: "real", label: "real images (ceiling)", group: "reference", kind: "real" },
  { id: "sr", label: "SR stage 1 fine-tuning", group: "sr", kind: "sr" },
  {
    id: "db-prior",
    label: "DreamBooth, prior preservation (λ = 1)",
    group: "prior",
    kind: "train",
    train: () => [],
  },
  { id: "untrained", label: "untrained model", group: "reference", kind: "untrained" },
  {
    id: "db-noprior",
    label: "DreamBooth, no prior preservation",
    group: "prior",
    kind: "train",
    train: () => ["--no-prior-preservation"],
  },
  {
    id: "lambda-0.5",
    label: "λ = 0.5",
    group: "lambda",
    kind: "train",
    train: () => ["--prior-weight", "0.5"],
  },
  {
    id: "lambda-2",
    label: "λ = 2",
    group: "lambda",
    kind: "train",
    train: () => ["--prior-weight", "2"],
  },
  {
    id: "noun-none",
    label: "no class noun (no prior)",
    group: "noun",
    kind: "train",
    train: () => ["--class-noun", "", "--no-prior-preservation"],
  },
  {
    id: "noun-wrong",
    label: "wrong class noun (no prior)",
    group: "noun",
    kind: "train",
    train: (s) => ["--class-noun", s.wrongNoun, "--no-prior-preservation"],
  },
  {
    id: "id-common",
    label: `identifier: common word "${COMMON_WORD}"`,
    group: "identifier",
    kind: "train",
    train: () => ["--identifier", COMMON_WORD],
  },
  {
    id: "id-random",
    label: `identifier: random string "${RANDOM_STRING}"`,
    group: "identifier",
    kind: "train",
    train: () => ["--identifier", RANDOM_STRING],
  },
  {
    id: "ti",
    label: "Textual Inversion",
    group: "method",
    kind: "train",
    train: () => ["--method", "textual-inversion"],
  },
  {
    id: "lora",
    label: "LoRA",
    group: "method",
    kind: "train",
    train: () => ["--method", "lora"],
    needs: "lora",
  },
  { id: "photo", label: "DreamBench photos", group: "photo", kind: "photo" },
];

/**
 * imagen-pytorch's noise-augmentation convention (lucidrains/imagen-pytorch, `imagen_pytorch.py`:
 * `lowres_noise_schedule = 'linear'`, `GaussianDiffusionContinuousTimes.q_sample` with
 * `beta_linear_log_snr(t) = −log(expm1(1e-4 + 10 t²))` and `log_snr_to_alpha_sigma`): the noise
 * standard deviation of augmentation level `t` is σ = √sigmoid(−logSNR(t)) = √(1 − exp(−(1e-4 + 10 t²))).
 *
 * @param level The paper's t_aug (1e-3, 1e-5).
 * @returns σ of the added Gaussian noise (on images in [−1, 1]).
 */
export function imagenAugSigma(level: number): number {
  if (!(level >= 0 && level <= 1)) {
    throw new RangeError(`Cannot convert as 'level' must be in [0, 1]: current value is ${level}`);
  }
  return Math.sqrt(-Math.expm1(-(1e-4 + 10 * level * level)));
}

/**
 * The paper's t_aug in this project's unit: the level t of our cosine convention
 * (σ_aug = sin(π t / 2), DESIGN.md) that adds the same σ as Imagen's level `level`.
 *
 * @param level The paper's t_aug.
 * @returns Our t_aug with the same noise.
 */
export function paperAugLevelToProject(level: number): number {
  return (2 / Math.PI) * Math.asin(imagenAugSigma(level));
}

/** A claim of the paper that the study checks. */
export interface Claim {
  /** What it says. */
  text: string;
  /** The row expected better / the row expected worse. */
  better: string;
  worse: string;
  /** The metric key (`pres`, `diversity`, `subjectFidelity`, … or `sr:<field>`). */
  metric: string;
  /** +1 when higher is better for the claim, −1 when lower. */
  direction: 1 | -1;
  /** The paper's numbers (worse row → better row), or why none. */
  paper: string;
}

/** The claims, each a comparison of two rows on one metric (pooled over subjects). */
export const CLAIMS: readonly Claim[] = [
  {
    text: "prior preservation lowers PRES",
    better: "db-prior",
    worse: "db-noprior",
    metric: "pres",
    direction: -1,
    paper: "0.664 → 0.493 (Table 3)",
  },
  {
    text: "prior preservation raises DIV",
    better: "db-prior",
    worse: "db-noprior",
    metric: "diversity",
    direction: 1,
    paper: "0.371 → 0.391 (Table 3)",
  },
  {
    text: "prior preservation costs a little subject fidelity (higher without it)",
    better: "db-noprior",
    worse: "db-prior",
    metric: "subjectFidelity",
    direction: 1,
    paper: "DINO 0.712 (no prior) vs 0.684 (prior) (Table 3)",
  },
  {
    text: "larger λ lowers PRES (λ 2 vs 0.5)",
    better: "lambda-2",
    worse: "lambda-0.5",
    metric: "pres",
    direction: -1,
    paper: "none (the paper uses λ = 1)",
  },
  {
    text: "the correct class noun beats no noun (subject fidelity)",
    better: "db-noprior",
    worse: "noun-none",
    metric: "subjectFidelity",
    direction: 1,
    paper: "qualitative (§4.3, Fig. 11)",
  },
  {
    text: "the correct class noun beats a wrong one (subject fidelity)",
    better: "db-noprior",
    worse: "noun-wrong",
    metric: "subjectFidelity",
    direction: 1,
    paper: "qualitative (§4.3)",
  },
  {
    text: "rare-token identifier beats a common word (subject fidelity)",
    better: "db-prior",
    worse: "id-common",
    metric: "subjectFidelity",
    direction: 1,
    paper: "qualitative (§3.2)",
  },
  {
    text: "rare-token identifier beats a random string (subject fidelity)",
    better: "db-prior",
    worse: "id-random",
    metric: "subjectFidelity",
    direction: 1,
    paper: "qualitative (§3.2)",
  },
  {
    text: "DreamBooth beats Textual Inversion (subject fidelity)",
    better: "db-prior",
    worse: "ti",
    metric: "subjectFidelity",
    direction: 1,
    paper: "DINO 0.668 vs 0.569, CLIP-I 0.803 vs 0.780 (Table 1, Stable Diffusion)",
  },
  {
    text: "DreamBooth beats Textual Inversion (prompt fidelity)",
    better: "db-prior",
    worse: "ti",
    metric: "promptFidelity",
    direction: 1,
    paper: "CLIP-T 0.305 vs 0.255 (Table 1, Stable Diffusion)",
  },
  {
    text: "full fine-tuning vs LoRA (subject fidelity; not a claim of the paper)",
    better: "db-prior",
    worse: "lora",
    metric: "subjectFidelity",
    direction: 1,
    paper: "none",
  },
  {
    text: "SR fine-tuned at the low level beats the paper's 1e-3 (Laplacian-band error)",
    better: "sr:low",
    worse: "sr:high",
    metric: "sr:hfError",
    direction: -1,
    paper: "qualitative (§4.3, Fig. 15)",
  },
  {
    text: "SR fine-tuned at the low level beats no SR fine-tuning (Laplacian-band error)",
    better: "sr:low",
    worse: "sr:none",
    metric: "sr:hfError",
    direction: -1,
    paper: "qualitative (§4.3, Fig. 15)",
  },
];
