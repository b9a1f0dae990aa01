/**
 * The whole DreamBooth pipeline behind `deno task train` (and the RPC `train.start` job): resolve
 * the base model, load and check the instance images, resolve the identifier, generate (or reuse)
 * the class-prior images, fine-tune the base stage with Eq. 2 through the shared run machinery,
 * write the personalised model folder, fine-tune the SR stages through superres/,
 * and render DreamBench-style samples.
 *
 * The personalised model folder (`out`):
 *
 * | file | what |
 * |---|---|
 * | `model.safetensors` | the whole cascade (fine-tuned base stage, text encoder, SR stages copied from the base model): `deno task sample --model DIR` |
 * | `dreambooth.json` | identifier, class noun, prompts, base model and its hash, training arguments, metrics |
 * | `checkpoint.safetensors`, `loss.jsonl`, `loss_curve.png`, `samples/`, `config.json`, `args.json`, `summary.json` | the run (see `runTraining`) |
 * | `final/NN.png`, `final/grid.png` | samples of DreamBench prompts (context, property, art rendition) |
 *
 * Base model resolution ({@link resolveBaseModel}): an explicit path (a cascade checkpoint file,
 * a folder holding `model.safetensors` or `cascade.safetensors`, or `preset:tiny|small`); by
 * default `models/default/` when it exists, else the newest base-stage pretraining checkpoint
 * under `runs/pretrain/`, else the untrained `tiny` preset with a loud notice.
 *
 * @module
 */
import { join } from "node:path";
import {
  buildCascadeSync,
  type Cascade,
  type CascadeConfig,
  createCascadeConfig,
  fillSubjectPrompt,
  type FloatImage,
  resolveParams,
  saveCheckpoint,
  saveImageGrid,
  savePng,
  tokenizerFromDescription,
} from "./deps.ts";
import { createPreset, loadCheckpoint } from "../diffusion/mod.ts";
import { defaultSubject, loadSubjectFolder } from "../data/mod.ts";
import {
  dreamboothSuperRes,
  type DreamBoothSuperResContext,
  holdBlasThreads,
  readRunCheckpoint,
  recordedBlasThreads,
  runTraining,
  type TrainingJob,
  type TrainingSummary,
  writeJsonAtomic,
} from "./deps.ts";
import { type DreamBoothParams, dreamboothParams } from "./dreambooth_params.ts";
import { dreamboothBatchLoss } from "./dreambooth_loss.ts";
import { retryCommand } from "./_retry_command.ts";
import { sampleWithProgress } from "./sample_with_progress.ts";
import { classImages, DEFAULT_CLASS_IMAGE_CACHE, hashBaseModel } from "./class_images.ts";
import { type InstanceData, loadInstanceData } from "./instance_data.ts";
import { type ConceptSpec, readConceptsFile } from "./concepts_file.ts";
import { type DreamBoothIdentifier, resolveIdentifier } from "./dreambooth_identifier.ts";
import {
  createDreamBoothConfig,
  createDreamBoothJob,
  DEFAULT_DREAMBOOTH_TRAINER,
  type DreamBoothConfig,
  type DreamBoothJob,
  dreamboothPrompts,
  type JobConcept,
} from "./dreambooth_job.ts";
import type { StageTrainerConfig } from "./deps.ts";
import {
  createLoRAConfig,
  exportCascadeLoRA,
  LORA_PARAM_NAMES,
  type LoRAConfig,
  mergeCascadeLoRA,
  type NamedTensor,
  saveLoRAFile,
} from "./deps.ts";
import { createTextualInversionJob, type TextualInversionJob } from "./textual_inversion.ts";
import type { ParamValues } from "../params/mod.ts";
import { ifModelKind } from "./deps.ts";
import { trainIFDreamBooth } from "./if_train.ts";
import { rgbImageFromUint8 } from "./deps.ts";
import {
  createValidationMetrics,
  type ValidationMetrics,
  withValidationMetrics,
} from "./validation_metrics.ts";

/** A loaded base model and where it came from. */
export interface BaseModel {
  /** The cascade (owned by the caller). */
  cascade: Cascade;
  /** Where it came from (a path or `preset:NAME`). */
  source: string;
  /** "model", "pretrain-checkpoint" or "preset". */
  kind: "model" | "pretrain-checkpoint" | "preset";
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function newestPretrainBase(root: string): Promise<string | null> {
  let best: { path: string; mtime: number } | null = null;
  try {
    for await (const e of Deno.readDir(root)) {
      if (!e.isDirectory) continue;
      const path = join(root, e.name, "checkpoint.safetensors");
      try {
        const cfg = JSON.parse(await Deno.readTextFile(join(root, e.name, "config.json")));
        if (cfg.stage !== "base") continue;
        const st = await Deno.stat(path);
        const mtime = st.mtime?.getTime() ?? 0;
        if (!best || mtime > best.mtime) best = { path, mtime };
      } catch {
        // not a base run (or no checkpoint yet)
      }
    }
  } catch {
    return null;
  }
  return best?.path ?? null;
}

/**
 * Loads the base model to personalise.
 *
 * @param spec A cascade checkpoint file, a folder with `model.safetensors`/`cascade.safetensors`,
 * a pretraining run checkpoint (`runs/pretrain/base/checkpoint.safetensors`), `preset:tiny` or
 * `preset:small`; null: the default chain (models/default → newest runs/pretrain base → tiny).
 * @param options `modelsDir` (default "models/default"), `pretrainDir` (default "runs/pretrain"),
 * `log` for the notice (default `console.warn`).
 * @returns The {@link BaseModel}.
 *
 * @example
 * ```ts
 * import { initBackend } from "./deps.ts";
 * import { resolveBaseModel } from "./dreambooth_train.ts";
 * await initBackend({ quiet: true });
 * const m = await resolveBaseModel("preset:tiny");
 * console.log(m.kind, m.cascade.stages.length); // "preset" 2
 * m.cascade.dispose();
 * ```
 */
export async function resolveBaseModel(
  spec: string | null,
  options: { modelsDir?: string; pretrainDir?: string; log?: (line: string) => void } = {},
): Promise<BaseModel> {
  const { modelsDir = join("models", "default"), pretrainDir = join("runs", "pretrain") } = options;
  const log = options.log ?? ((l: string) => console.warn(l));
  if (spec?.startsWith("preset:")) {
    const name = spec.slice(7);
    if (name !== "tiny" && name !== "small") {
      throw new RangeError(
        `Cannot load the base model as '--model' preset must be preset:tiny or preset:small: current value is ${
          JSON.stringify(spec)
        }`,
      );
    }
    return { cascade: await createPreset(name, { seed: 0 }), source: spec, kind: "preset" };
  }
  let path = spec;
  if (path === null) {
    for (const f of ["cascade.safetensors", "model.safetensors"]) {
      if (await isFile(join(modelsDir, f))) path = join(modelsDir, f);
    }
    if (path === null) {
      const ckpt = await newestPretrainBase(pretrainDir);
      if (ckpt === null) {
        log(
          `NOTICE: no default model in '${modelsDir}' and no pretraining checkpoint under '${pretrainDir}': personalising the UNTRAINED 'tiny' preset (results are noise; pass --model to choose)`,
        );
        return {
          cascade: await createPreset("tiny", { seed: 0 }),
          source: "preset:tiny",
          kind: "preset",
        };
      }
      log(
        `NOTICE: no default model in '${modelsDir}' yet: personalising the newest pretraining checkpoint '${ckpt}' (partly trained; pass --model to choose)`,
      );
      path = ckpt;
    }
  } else if (!(await isFile(path))) {
    const inDir = ["model.safetensors", "cascade.safetensors"].map((f) => join(path!, f));
    const found = [];
    for (const f of inDir) if (await isFile(f)) found.push(f);
    if (found.length === 0) {
      throw new RangeError(
        `Cannot load the base model as '${path}' is neither a checkpoint file nor a folder holding model.safetensors or cascade.safetensors (nor a DeepFloyd IF folder with model_index.json, or hf:ORG/NAME)`,
      );
    }
    path = found[0];
  }
  // A pretraining run checkpoint (format dreambooth-ts-run) or a cascade checkpoint.
  try {
    const run = await readRunCheckpoint(path);
    if (run.metadata.stage !== "base" || !run.metadata.config) {
      throw new RangeError(
        `Cannot load the base model from '${path}' as it is a '${run.metadata.stage}' run checkpoint, not a base-stage one`,
      );
    }
    const config = createCascadeConfig(JSON.parse(run.metadata.config) as CascadeConfig);
    const tokenizer = await tokenizerFromDescription(config.tokenizer);
    const cascade = buildCascadeSync(config, tokenizer, 0);
    cascade.textEncoder.loadWeights(run.tensors, { prefix: "text_encoder." });
    cascade.stages[0].unet.loadWeights(run.tensors, { prefix: "stages.0." });
    return { cascade, source: path, kind: "pretrain-checkpoint" };
  } catch (e) {
    if (!(e instanceof RangeError) || !/as a run checkpoint/.test(e.message)) throw e;
  }
  const loaded = await loadCheckpoint(path);
  if (loaded.kind !== "cascade") {
    loaded.model.dispose();
    throw new RangeError(
      `Cannot load the base model as '${path}' holds a ${loaded.kind}, not a cascade`,
    );
  }
  return { cascade: loaded.model, source: path, kind: "model" };
}

/**
 * The SR phase of the pipeline: superres/'s `dreamboothSuperRes` by default, or a caller's own (a
 * test's shorter run). It receives the personalised cascade (fine-tuned base stage in place), may
 * fine-tune its SR stages in place, and returns metrics to merge into `dreambooth.json` (the model
 * folder is rewritten after it returns).
 */
export type SuperResHook = (
  context: DreamBoothSuperResContext,
) => Promise<Record<string, unknown> | void>;

/**
 * Options of {@link trainDreamBooth}: the DreamBooth parameters (declared, with their defaults and
 * bounds, in `dreambooth_params.ts`) plus what only a caller in code passes.
 */
export type TrainDreamBoothOptions =
  & Omit<DreamBoothParams, "model" | "identifier" | "superRes">
  & {
    /** The base model (see {@link resolveBaseModel}); `null` = the default chain. */
    model?: string | null;
    /** The identifier; drawn by the paper's rule when absent or `null`. */
    identifier?: string | null;
    /** Fine-tune the SR stages (default true), or the SR step to run instead of superres/'s. */
    superRes?: boolean | SuperResHook;
    /** Command-line arguments for `args.json`. */
    args?: readonly string[];
    /**
     * The command that ran with `args` (e.g. `deno task train`): after a non-finite loss the
     * advice is this command with a lower `--lr` (and `--resume` when there is a checkpoint).
     * Default none (advice in words).
     */
    command?: string;
    /** Stops after the current step (with a checkpoint). */
    signal?: AbortSignal;
    /** Called after every step. */
    onProgress?: (p: { step: number; total: number; loss: number }) => void;
    /** Progress lines. Default `console.log`. */
    log?: (line: string) => void;
    /** Warnings and notices. Default `console.warn`. */
    warn?: (line: string) => void;
  };

/** What {@link trainDreamBooth} returns (also in `dreambooth.json`). */
export interface DreamBoothResult {
  /** The output folder. */
  out: string;
  /** `model.safetensors` in it (null when training stopped early on a non-finite loss). */
  model: string | null;
  /** The identifier. */
  identifier: string;
  /** The class noun. */
  classNoun: string;
  /** The run's summary. */
  summary: TrainingSummary;
  /** Figures: seconds per phase, class images generated/reused, loss. */
  metrics: Record<string, unknown>;
  /** Final sample files. */
  samples: string[];
}

/** A subject of the run with its loaded images. */
interface SubjectData {
  subject: RunSubject;
  instance: InstanceData;
  prior: FloatImage[];
}

/** The resolved DreamBooth parameters (bounds and defaults applied). */
type ResolvedParams = ParamValues<typeof dreamboothParams.specs>;

/** The learning rate textual inversion trains at when none is given. */
const TI_DEFAULT_LR = 5e-3;

/** The learning rate LoRA trains at when none is given (diffusers' train_dreambooth_lora.py). */
const LORA_DEFAULT_LR = 5e-4;

/** The LoRA settings of a `--method lora` run (null for the other methods). */
function loraConfigOf(p: ResolvedParams): LoRAConfig | null {
  if (p.method !== "lora") return null;
  return createLoRAConfig({
    rank: p.rank ?? 4,
    ...(p.loraAlpha !== undefined ? { alpha: p.loraAlpha } : {}),
    targets: p.loraTargets ?? "attn",
  });
}

/**
 * Refuses the LoRA options without `--method lora` (and what LoRA does not support), and the
 * DreamBooth-only settings with `--method textual-inversion` (its own optimizer).
 */
function checkMethodOptions(p: ResolvedParams): void {
  if (p.method !== "lora") {
    for (const k of LORA_PARAM_NAMES) {
      if (p[k] !== undefined) {
        throw new RangeError(
          `Cannot train as '${k}' (${
            dreamboothParams.name(k, "option")
          }) needs --method lora: current value is ${
            JSON.stringify(p[k])
          } with --method ${p.method}`,
        );
      }
    }
  } else {
    // Not yet with LoRA: an EMA of the adapters, one adapter set per concept's SR run.
    for (const k of ["emaDecay", "concepts"] as const) {
      if (p[k] !== undefined) {
        throw new RangeError(
          `Cannot train as '${k}' (${
            dreamboothParams.name(k, "option")
          }) is not supported with --method lora: current value is ${JSON.stringify(p[k])}`,
        );
      }
    }
  }
  if (p.method !== "textual-inversion") return;
  // Textual inversion trains embedding rows with its own optimizer: these are DreamBooth's.
  const unsupported: [keyof typeof p, unknown][] = [
    ["gradAccum", 1],
    ["emaDecay", undefined],
    ["noiseOffset", 0],
    ["lrSchedule", "constant"],
    ["lrWarmup", 0],
  ];
  for (const [k, none] of unsupported) {
    if (p[k] !== none) {
      throw new RangeError(
        `Cannot train as '${k}' (${
          dreamboothParams.name(k, "option")
        }) applies to --method dreambooth, not textual-inversion: current value is ${
          JSON.stringify(p[k])
        }`,
      );
    }
  }
}

/**
 * The one check of every parameter (bounds and defaults from dreambooth_params.ts), then the
 * settings that only DreamBooth takes refused with textual inversion.
 */
function resolveRunParams(options: TrainDreamBoothOptions): ResolvedParams {
  const p = resolveParams(dreamboothParams, {
    ...options,
    superRes: typeof options.superRes === "function" ? true : options.superRes,
  });
  checkMethodOptions(p);
  if (p.concepts !== undefined) {
    const single = [
      "instanceDir",
      "classNoun",
      "identifier",
      "instancePrompt",
      "classPrompt",
      "classDir",
    ] as const;
    for (const k of single) {
      if (options[k] !== undefined && options[k] !== null) {
        throw new RangeError(
          `Cannot train as 'concepts' (--concepts) and '${k}' (${
            dreamboothParams.name(k, "option")
          }) exclude each other: give each concept's in the concepts file`,
        );
      }
    }
    if (p.method !== "dreambooth") {
      throw new RangeError(
        `Cannot train as 'concepts' (--concepts) needs --method dreambooth: current value is ${
          JSON.stringify(p.method)
        }`,
      );
    }
  }
  return p;
}

/** One subject of a run (a one-subject run has one; `--concepts` one per entry). */
interface RunSubject {
  name: string;
  instanceDir: string;
  classNoun: string;
  classDir?: string;
  identifier: DreamBoothIdentifier;
  /** Fills {identifier}/[V] and {class} with this subject's. */
  fill: (q: string) => string;
  /** The concept's own prompts (unfilled), `--concepts` only. */
  instancePrompt?: string;
  classPrompt?: string;
}

/**
 * The subjects of a `--concepts` run: each entry's identifier resolved (drawn ones redrawn until
 * they differ from the others'; a clear error where the tokenizer cannot give another).
 */
async function resolveConceptSubjects(
  specs: readonly ConceptSpec[],
  cascade: Cascade,
  seed: number,
): Promise<RunSubject[]> {
  const taken = new Set(specs.flatMap((c) => c.identifier ? [c.identifier.toLowerCase()] : []));
  const out: RunSubject[] = [];
  for (const [i, c] of specs.entries()) {
    let identifier = await resolveIdentifier(cascade.tokenizer.describe(), {
      identifier: c.identifier ?? null,
      classNoun: c.classNoun,
      seed: seed + i,
    });
    for (let r = 1; c.identifier === undefined && taken.has(identifier.text); r++) {
      if (r > 20) {
        throw new RangeError(
          `Cannot train as concept ${i} ('${c.name}') drew the identifier ${
            JSON.stringify(identifier.text)
          } of another concept: give its 'identifier' in the concepts file`,
        );
      }
      identifier = await resolveIdentifier(cascade.tokenizer.describe(), {
        classNoun: c.classNoun,
        seed: seed + i + 7919 * r,
      });
    }
    taken.add(identifier.text.toLowerCase());
    const fill = (q: string) =>
      fillSubjectPrompt(q, { identifier: identifier.text, classNoun: c.classNoun });
    out.push({
      name: c.name,
      instanceDir: c.instanceDir,
      classNoun: c.classNoun,
      ...(c.classDir !== undefined ? { classDir: c.classDir } : {}),
      identifier,
      fill,
      ...(c.instancePrompt !== undefined ? { instancePrompt: c.instancePrompt } : {}),
      ...(c.classPrompt !== undefined ? { classPrompt: c.classPrompt } : {}),
    });
  }
  return out;
}

/**
 * The run's subjects before any model: a concepts file read and checked (`--concepts`), else the
 * one subject; with the folder(s), first class noun and output folder.
 */
async function resolveSubjects(p: ResolvedParams): Promise<{
  specs: ConceptSpec[] | null;
  instanceDir: string;
  classNoun: string;
  out: string;
}> {
  if (p.concepts === undefined) return { specs: null, ...await resolveSubject(p) };
  const specs = await readConceptsFile(p.concepts);
  return {
    specs,
    instanceDir: specs.map((c) => c.instanceDir).join(", "),
    classNoun: specs[0].classNoun,
    out: p.out ?? join("runs", "dreambooth", specs.map((c) => c.name).join("+")),
  };
}

/** The subject of a one-subject run, its identifier resolved (given, or drawn by the paper's rule). */
async function oneSubject(
  p: ResolvedParams,
  cascade: Cascade,
  ctx: { instanceDir: string; classNoun: string; identifier?: string | null },
): Promise<RunSubject> {
  const { instanceDir, classNoun } = ctx;
  const identifier = await resolveIdentifier(cascade.tokenizer.describe(), {
    identifier: ctx.identifier ?? null,
    classNoun,
    seed: p.seed,
  });
  // {identifier} / [V] and {class} in the prompts a user gives.
  const fill = (q: string) => fillSubjectPrompt(q, { identifier: identifier.text, classNoun });
  const name = instanceDir.replace(/\/+$/, "").split(/[\\/]/).pop() || "subject";
  return {
    name,
    instanceDir,
    classNoun,
    ...(p.classDir !== undefined ? { classDir: p.classDir } : {}),
    identifier,
    fill,
  };
}

/**
 * The DeepFloyd IF branch (dreambooth/if_train.ts) when `model` is an IF stage I folder or
 * `hf:ORG/NAME`; otherwise null, after refusing the IF-only settings.
 */
async function ifBranch(
  p: ResolvedParams,
  ctx: {
    instanceDir: string;
    classNoun: string;
    out: string;
    log: (line: string) => void;
    options: TrainDreamBoothOptions;
  },
): Promise<DreamBoothResult | null> {
  const { instanceDir, classNoun, out, log } = ctx;
  if (p.model !== undefined && (await ifModelKind(p.model)) !== null) {
    if (p.concepts !== undefined) {
      throw new RangeError(
        `Cannot train as 'concepts' (--concepts) is not supported on DeepFloyd IF models yet: train one subject per run`,
      );
    }
    const { signal, onProgress } = ctx.options;
    return await trainIFDreamBooth(p, { instanceDir, classNoun, out, log, signal, onProgress });
  }
  const ifOnly = [["srModel", p.srModel]];
  for (const [k, v] of ifOnly) {
    if (v !== undefined) {
      throw new RangeError(
        `Cannot train as '${k}' (${
          dreamboothParams.name(k as "srModel", "option")
        }) applies to DeepFloyd IF models (--model <IF stage I folder>|hf:ORG/NAME), not ${
          JSON.stringify(p.model ?? "the default model")
        }: current value is ${JSON.stringify(v)}`,
      );
    }
  }
  return null;
}

/**
 * The subject: its folder (default the bundled subject), its class noun (given, else the bundled
 * subject's or the folder's `subject.json`) and the output folder (default under runs/dreambooth/).
 */
async function resolveSubject(
  p: ResolvedParams,
): Promise<{ instanceDir: string; classNoun: string; out: string }> {
  const subject = defaultSubject();
  const instanceDir = p.instanceDir ?? subject.dir;
  let classNoun = p.classNoun;
  if (classNoun === undefined) {
    if (p.instanceDir === undefined) classNoun = subject.classNoun;
    else {
      try {
        classNoun =
          JSON.parse(await Deno.readTextFile(join(instanceDir, "subject.json"))).classNoun;
      } catch {
        // no subject.json
      }
      if (typeof classNoun !== "string") {
        throw new RangeError(
          `Cannot train as 'classNoun' (--class-noun) is required for '${instanceDir}' (it has no subject.json naming one)`,
        );
      }
    }
  }
  const out = p.out ??
    join("runs", "dreambooth", instanceDir.replace(/\/+$/, "").split(/[\\/]/).pop() || "subject");
  return { instanceDir, classNoun: classNoun as string, out };
}

/** The run's {@link DreamBoothConfig} from the parameters; `fill` fills the user's prompts. */
function dreamboothRunConfig(
  p: ResolvedParams,
  subject: { identifier: string; classNoun: string; fill: (q: string) => string },
  subjects: readonly RunSubject[] = [],
): DreamBoothConfig {
  const { fill } = subject;
  // A --concepts run: each concept's prompts, and validation prompts of every concept.
  const concepts = subjects.length > 0
    ? subjects.map((k) => ({
      name: k.name,
      identifier: k.identifier.text,
      classNoun: k.classNoun,
      instancePrompt: k.fill(k.instancePrompt ?? "a {identifier} {class}"),
      classPrompt: k.fill(k.classPrompt ?? "a {class}"),
    }))
    : null;
  const validation = p.validationPrompts?.map(fill) ??
    concepts?.flatMap((k) => [
      ...dreamboothPrompts(k.identifier, k.classNoun).slice(0, 3),
      k.classPrompt,
    ]);
  // New settings only when not at their defaults, so that earlier runs' configs still resume.
  const trainer: Partial<Omit<StageTrainerConfig, "schedule">> = {
    seed: p.seed,
    gamma: p.snrGamma, // min-SNR-γ (the weighting is DreamBooth's default, minSnr)
    ...(p.learningRate !== undefined
      ? { learningRate: p.learningRate }
      : p.method === "lora"
      ? { learningRate: LORA_DEFAULT_LR }
      : {}),
    ...(p.lrSchedule !== "constant" ? { lrSchedule: p.lrSchedule, lrTotalSteps: p.steps } : {}),
    ...(p.lrWarmup > 0 ? { lrWarmupSteps: p.lrWarmup } : {}),
    ...(p.noiseOffset > 0 ? { noiseOffset: p.noiseOffset } : {}),
    ...(p.gradAccum > 1 ? { gradAccum: p.gradAccum } : {}),
  };
  return createDreamBoothConfig({
    identifier: subject.identifier,
    classNoun: subject.classNoun,
    // Textual inversion has no prior term (Gal et al.).
    priorPreservation: p.method === "textual-inversion" ? false : p.priorPreservation,
    priorLossWeight: p.priorLossWeight, // λ of Eq. 2
    numClassImages: p.numClassImages,
    instanceBatch: p.instanceBatch,
    trainTextEncoder: p.trainTextEncoder,
    trainer,
    ...(p.emaDecay !== undefined ? { emaDecay: p.emaDecay } : {}),
    ...(p.instancePrompt !== undefined ? { instancePrompt: fill(p.instancePrompt) } : {}),
    ...(p.classPrompt !== undefined ? { classPrompt: fill(p.classPrompt) } : {}),
    ...(concepts
      ? {
        instancePrompt: concepts[0].instancePrompt,
        classPrompt: concepts[0].classPrompt,
        concepts,
      }
      : {}),
    ...(validation !== undefined ? { validationPrompts: validation } : {}),
  });
}

/**
 * The instance images (with captions, noted) and the user's own class images (`--class-dir`),
 * checked and loaded before any compute; warns when the instance prompt lacks the identifier.
 */
async function loadRunImages(
  p: ResolvedParams,
  ctx: {
    config: DreamBoothConfig;
    instanceDir: string;
    identifier: string;
    /** This subject's instance prompt and own class folder (a concept's, or the run's). */
    instancePrompt: string;
    classDir?: string;
    size: number;
    log: (line: string) => void;
    warn: (line: string) => void;
  },
): Promise<{ instance: InstanceData; ownClass: FloatImage[] }> {
  const { config, size, log, warn, classDir } = ctx;
  const instance = await loadInstanceData(ctx.instanceDir, {
    size,
    flip: p.flip,
    onWarning: (m) => warn(`warning: ${m}`),
  });
  if (instance.captions) {
    const n = instance.captions.slice(0, instance.images.length).filter((q) => q !== null).length;
    log(
      `captions: ${n} of ${instance.images.length} images have their own (NAME.txt or subject.json)`,
    );
    if (p.method === "textual-inversion") {
      warn(`warning: textual-inversion trains on the instance prompt; the captions are not used`);
    }
  }
  if (!ctx.instancePrompt.includes(ctx.identifier)) {
    warn(
      `warning: the instance prompt ${
        JSON.stringify(ctx.instancePrompt)
      } does not contain the identifier ${JSON.stringify(ctx.identifier)}: nothing binds it`,
    );
  }
  // The user's own class images (checked and loaded before any compute).
  let ownClass: FloatImage[] = [];
  if (classDir !== undefined) {
    if (!config.priorPreservation) {
      throw new RangeError(
        `Cannot train as 'classDir' (--class-dir) needs prior preservation, which is off`,
      );
    }
    try {
      ownClass = (await loadSubjectFolder(classDir, {
        size,
        minSide: 1,
        onWarning: () => {},
      })).images.slice(0, config.numClassImages);
    } catch (e) {
      throw new RangeError(
        `Cannot train as 'classDir' (--class-dir) ${JSON.stringify(classDir)} is unusable: ${
          (e as Error).message
        }`,
      );
    }
  }
  return { instance, ownClass };
}

/** The line that opens a run: model, subject, identifier, prior, learning rate, output. */
function runDescription(
  p: ResolvedParams,
  ctx: {
    base: BaseModel;
    config: DreamBoothConfig;
    instanceDir: string;
    numImages: number;
    identifier: DreamBoothIdentifier;
    classNoun: string;
    out: string;
    lora: LoRAConfig | null;
  },
): string {
  const { base, config, identifier } = ctx;
  const size = base.cascade.stages[0].imageSize;
  return `DreamBooth: base model ${base.source} (${size}×${size} base, ${base.cascade.stages.length} stages); subject '${ctx.instanceDir}' (${ctx.numImages} images${
    p.flip ? ", + flips" : ""
  }); ${
    config.concepts
      ? `${config.concepts.length} concepts: ${
        config.concepts.map((k) => `${k.name} "${k.instancePrompt}" / "${k.classPrompt}"`).join(
          ", ",
        )
      }`
      : `identifier ${JSON.stringify(identifier.text)} (${identifier.source}, ids [${
        identifier.ids.join(", ")
      }]); class noun ${JSON.stringify(ctx.classNoun)}`
  }; prior preservation ${
    config.priorPreservation
      ? `on (λ = ${config.priorLossWeight}, ${config.numClassImages} class images)`
      : "off"
  }; text encoder ${config.trainTextEncoder ? "trained" : "frozen"}${
    ctx.lora
      ? `; LoRA rank ${ctx.lora.rank}, alpha ${ctx.lora.alpha}, targets ${ctx.lora.targets}`
      : ""
  }; ${p.steps} steps at lr ${
    p.method === "textual-inversion" ? p.learningRate ?? TI_DEFAULT_LR : config.trainer.learningRate
  } (${p.method}); out '${ctx.out}'`;
}

/**
 * The class-prior images: the user's own (`--class-dir`) topped up with generated ones (cached
 * by prompt, seed and model hash); none without prior preservation. `metrics` is what
 * `dreambooth.json` records of them (undefined when none are used).
 */
async function priorImages(
  cascade: Cascade,
  p: ResolvedParams,
  ctx: {
    config: DreamBoothConfig;
    ownClass: FloatImage[];
    /** This subject's class prompt and own class folder (a concept's, or the run's). */
    classPrompt: string;
    classDir?: string;
    modelHash: string;
    log: (line: string) => void;
  },
): Promise<{ prior: FloatImage[]; metrics?: Record<string, unknown> }> {
  const { config, ownClass, log, classPrompt, classDir } = ctx;
  if (!config.priorPreservation) return { prior: [] };
  const missing = config.numClassImages - ownClass.length;
  if (missing === 0) {
    log(`class images: ${ownClass.length} from '${classDir}' (none generated)`);
    return { prior: ownClass, metrics: { fromClassDir: ownClass.length, generated: 0 } };
  }
  const ci = await classImages(cascade, {
    prompt: classPrompt,
    count: missing,
    seed: p.seed,
    steps: p.classSteps,
    cacheDir: p.cacheDir ?? DEFAULT_CLASS_IMAGE_CACHE,
    modelHash: ctx.modelHash,
    log,
  });
  const metrics = {
    ...(ownClass.length > 0 ? { fromClassDir: ownClass.length } : {}),
    key: ci.key,
    dir: ci.dir,
    generated: ci.generated,
    reused: ci.images.length - ci.generated,
    seconds: +ci.seconds.toFixed(2),
  };
  log(
    `class images: ${
      ownClass.length > 0 ? `${ownClass.length} from '${classDir}' + ` : ""
    }${ci.images.length} of "${classPrompt}" (${ci.generated} generated, ${
      ci.images.length - ci.generated
    } reused from ${ci.dir}) in ${ci.seconds.toFixed(1)} s`,
  );
  return { prior: [...ownClass, ...ci.images], metrics };
}

/**
 * The jobs of the fine-tuning: the DreamBooth job (its step loss is Eq. 2 with λ as declared in
 * dreambooth_params.ts and given as --prior-weight), and with `--method textual-inversion` the
 * textual-inversion job that trains instead (it borrows the DreamBooth job's validation grid).
 */
function createRunJobs(
  cascade: Cascade,
  p: ResolvedParams,
  ctx: {
    config: DreamBoothConfig;
    /** Each subject's images (one, or one per concept). */
    data: readonly SubjectData[];
    identifier: DreamBoothIdentifier;
  },
): { dbJob: DreamBoothJob; tiJob: TextualInversionJob | null } {
  const { config } = ctx;
  const concepts: JobConcept[] = ctx.data.map(({ instance, prior, subject }) => ({
    instanceImages: instance.pool,
    classImages: prior,
    // Per-image captions (NAME.txt beside NAME.jpg), with {identifier}/[V] and {class} filled in.
    instancePrompts: instance.captions?.map((q) => q === null ? null : subject.fill(q)) ?? null,
  }));
  const instance = ctx.data[0].instance;
  const dbJob = createDreamBoothJob(cascade, {
    config,
    ...concepts[0],
    ...(config.concepts ? { concepts } : {}),
    // The step loss: Eq. 2 with λ as declared (dreambooth_params.ts) and given (--prior-weight),
    // summed over the concepts of a --concepts run (each its own prior term).
    loss: dreamboothBatchLoss({
      numInstance: config.instanceBatch,
      priorLossWeight: p.priorLossWeight,
      numConcepts: concepts.length,
    }),
  });
  if (p.method !== "textual-inversion") return { dbJob, tiJob: null };
  try {
    const tiJob = createTextualInversionJob(cascade, {
      identifierIds: ctx.identifier.ids,
      prompt: config.instancePrompt,
      instanceImages: instance.pool,
      batchSize: config.instanceBatch,
      seed: p.seed,
      ...(p.learningRate !== undefined ? { learningRate: p.learningRate } : {}),
    });
    return { dbJob, tiJob };
  } catch (e) {
    dbJob.dispose();
    throw e;
  }
}

/**
 * The scorer of the validation grids (eval's world nets, loaded at the first grid): each
 * subject's identifier, class noun, class prompt and instance photos.
 */
function validationMetricsOf(
  config: DreamBoothConfig,
  data: readonly SubjectData[],
  ctx: { out: string; log: (line: string) => void },
): ValidationMetrics {
  return createValidationMetrics(
    data.map((d, i) => ({
      name: d.subject.name,
      identifier: config.concepts?.[i].identifier ?? config.identifier,
      classNoun: config.concepts?.[i].classNoun ?? config.classNoun,
      classPrompt: config.concepts?.[i].classPrompt ?? config.classPrompt,
      photos: d.instance.images,
    })),
    { runDir: ctx.out, log: ctx.log },
  );
}

/** The job with `onProgress` called after every step. */
function withProgress(
  job: TrainingJob,
  total: number,
  onProgress: TrainDreamBoothOptions["onProgress"],
): TrainingJob {
  const train = job.trainStep.bind(job);
  const tracked = Object.create(job);
  Object.defineProperty(tracked, "step", { get: () => job.step });
  tracked.trainStep = async () => {
    const r = await train();
    onProgress?.({ step: r.step, total, loss: r.loss });
    return r;
  };
  return tracked;
}

/** The learning rate advised after a blow-up: the default when above it, else a tenth. */
function lowerLearningRate(p: ResolvedParams, config: DreamBoothConfig): number {
  const lr = p.method === "textual-inversion"
    ? p.learningRate ?? TI_DEFAULT_LR
    : config.trainer.learningRate;
  const defaultLr = p.method === "textual-inversion"
    ? TI_DEFAULT_LR
    : p.method === "lora"
    ? LORA_DEFAULT_LR
    : DEFAULT_DREAMBOOTH_TRAINER.learningRate;
  return lr > defaultLr ? defaultLr : Number((lr / 10).toPrecision(3));
}

/**
 * Holds one BLAS thread count from the class images to the last SR step (a resume: the count the
 * run recorded), so that the run repeats bit for bit; `runTraining` records it.
 */
async function holdRunThreads(p: ResolvedParams, out: string) {
  return holdBlasThreads(p.resume ? await recordedBlasThreads(out) : undefined);
}

/**
 * The fine-tuning through the shared run machinery (`runTraining`) in the output folder; records
 * its seconds, loss EMA, steps and stop reason in `metrics`.
 */
async function fineTune(
  job: TrainingJob,
  p: ResolvedParams,
  ctx: {
    options: TrainDreamBoothOptions;
    config: DreamBoothConfig;
    modelHash: string;
    instanceDir: string;
    out: string;
    metrics: Record<string, unknown>;
    log: (line: string) => void;
  },
): Promise<TrainingSummary> {
  const { options, config } = ctx;
  const command = options.command;
  const lowerLr = lowerLearningRate(p, config);
  const t1 = performance.now();
  const summary = await runTraining(job, {
    runDir: ctx.out,
    totalSteps: p.steps,
    config: {
      ...config,
      method: p.method,
      ...(p.method === "lora" ? { lora: loraConfigOf(p) } : {}),
      baseModelHash: ctx.modelHash,
      instanceDir: ctx.instanceDir,
      steps: p.steps,
    },
    args: options.args ?? [],
    ...(command !== undefined
      ? {
        retryCommand: ({ resume }: { resume: boolean }) =>
          retryCommand(command, options.args ?? [], { set: { "--lr": String(lowerLr) }, resume }),
      }
      : {}),
    resume: p.resume,
    checkpointEverySteps: p.checkpointEverySteps,
    checkpointsKeep: p.checkpointsKeep,
    sampleEverySteps: p.sampleEverySteps,
    logEverySteps: p.logEverySteps,
    timeBudgetMinutes: p.timeBudgetMinutes ?? Infinity,
    title: `DreamBooth loss (${config.instancePrompt})`,
    signal: options.signal,
    log: ctx.log,
  });
  const { metrics } = ctx;
  metrics.trainingSeconds = +((performance.now() - t1) / 1000).toFixed(2);
  metrics.lossEma = summary.lossEma;
  metrics.steps = summary.step;
  metrics.stopReason = summary.reason;
  return summary;
}

/**
 * The SR phase: superres/'s `dreamboothSuperRes`, the caller's hook, or none (`superRes: false`);
 * rewrites the model folder after it. Returns what `dreambooth.json` records as `superRes`
 * (undefined for a one-stage cascade).
 */
async function superResPhase(
  cascade: Cascade,
  p: ResolvedParams,
  ctx: {
    options: TrainDreamBoothOptions;
    lora: LoRAConfig | null;
    out: string;
    /** Each subject's folder and prompt: several (a --concepts run) are fine-tuned in turn. */
    subjects: readonly { name: string; instanceDir: string; instancePrompt: string }[];
    writeModel: () => Promise<unknown>;
    log: (line: string) => void;
  },
): Promise<unknown> {
  const { options } = ctx;
  const hook: SuperResHook | null = typeof options.superRes === "function"
    ? options.superRes
    : options.superRes === false
    ? null
    : (context) => dreamboothSuperRes(context, ctx.lora ? { lora: ctx.lora } : {});
  if (hook && cascade.stages.length > 1) {
    const t2 = performance.now();
    const several = ctx.subjects.length > 1;
    const all: Record<string, unknown>[] = [];
    for (const k of ctx.subjects) {
      if (several) ctx.log(`superres: concept '${k.name}' (${k.instancePrompt})`);
      const m = await hook({
        cascade,
        // A --concepts run: each concept's SR run in its own folder under <out>/concepts/.
        out: several ? join(ctx.out, "concepts", k.name) : ctx.out,
        instanceDir: k.instanceDir,
        instancePrompt: k.instancePrompt,
        resume: p.resume,
        seed: p.seed,
        log: ctx.log,
        signal: options.signal,
      });
      all.push({ ...(m ?? {}) });
    }
    const metrics = {
      ...(several ? { concepts: all } : all[0]),
      seconds: +((performance.now() - t2) / 1000).toFixed(2),
    };
    await ctx.writeModel();
    return metrics;
  } else if (cascade.stages.length > 1) {
    return "not run (turned off): SR stages copied from the base model";
  }
  return undefined;
}

/**
 * Samples of the DreamBench prompts through the whole cascade, written as `final/NN.png` and
 * `final/grid.png` under `out`. Returns the files written.
 */
async function finalSamples(
  cascade: Cascade,
  ctx: { prompts: string[]; out: string; log: (line: string) => void },
): Promise<string[]> {
  const { out, log, prompts } = ctx;
  // 25 base-stage steps (as the validation grid); SR stages use their own.
  log(
    `samples: ${prompts.length} DreamBench prompts through ${cascade.stages.length} stage${
      cascade.stages.length === 1 ? "" : "s"
    }`,
  );
  // Progress lines with the ETA (at most every 5 s, and at the end of each stage).
  const { images } = await sampleWithProgress(cascade, {
    prompt: prompts,
    seed: 1,
    steps: [25],
    log,
  });
  await Deno.mkdir(join(out, "final"), { recursive: true });
  const files: string[] = [];
  const floats: FloatImage[] = [];
  for (const [i, im] of images.entries()) {
    const f = rgbImageFromUint8(im);
    floats.push(f);
    const file = join(out, "final", `${String(i).padStart(2, "0")}.png`);
    await savePng(file, f);
    files.push(file);
  }
  const grid = join(out, "final", "grid.png");
  await saveImageGrid(grid, floats, {
    labels: prompts,
    columns: 4,
    scale: Math.max(1, Math.round(128 / images[0].width)),
  });
  files.push(grid);
  log(`samples of ${prompts.length} DreamBench prompts → ${grid}`);
  return files;
}

/** What `dreambooth.json` records of a run (`metrics` filled in as the run goes). */
function runRecord(
  identifier: DreamBoothIdentifier,
  ctx: {
    classNoun: string;
    config: DreamBoothConfig;
    method: string;
    instanceDir: string;
    baseModel: string;
    args: readonly string[];
    metrics: Record<string, unknown>;
  },
): Record<string, unknown> {
  const { config } = ctx;
  return {
    identifier: identifier.text,
    identifierIds: identifier.ids,
    identifierSource: identifier.source,
    classNoun: ctx.classNoun,
    instancePrompt: config.instancePrompt,
    classPrompt: config.classPrompt,
    ...(config.concepts ? { concepts: config.concepts } : {}),
    method: ctx.method,
    instanceDir: ctx.instanceDir,
    baseModel: ctx.baseModel,
    config,
    args: ctx.args,
    metrics: ctx.metrics,
  };
}

/**
 * Attaches fresh LoRA adapters to the base stage's UNet (and the text encoder's attention with
 * `trainTextEncoder`); the trainer then trains only them. Returns what `dreambooth.json` records.
 */
function attachLoRA(
  cascade: Cascade,
  lora: LoRAConfig,
  options: { seed: number; text: boolean },
): Record<string, unknown> {
  const unet = cascade.stages[0].unet.addLoRA({ config: lora, seed: options.seed });
  let params = unet.numParams;
  if (options.text) {
    params += cascade.textEncoder.addLoRA({ config: lora, seed: options.seed + 1 }).numParams;
  }
  return { ...lora, baseStageAdapters: unet.targets.size, baseStageAdapterParams: params };
}

/**
 * Adds the adapters attached now to those gathered so far, writes them all to
 * `<out>/lora.safetensors` (with the base model, subject and SR sampling levels in its
 * metadata), then merges them into the cascade (which is then saved as the full model).
 */
async function saveRunAdapters(
  cascade: Cascade,
  adapters: { tensors: Map<string, NamedTensor>; parts: Record<string, LoRAConfig> },
  ctx: {
    baseModel: { source: string; hash: string };
    metrics: Record<string, unknown>;
    out: string;
    subject: Record<string, string>;
    log: (line: string) => void;
  },
): Promise<void> {
  const now = await exportCascadeLoRA(cascade);
  if (now.tensors.size === 0) return;
  for (const [k, v] of now.tensors) adapters.tensors.set(k, v);
  Object.assign(adapters.parts, now.parts);
  const path = join(ctx.out, "lora.safetensors");
  const bytes = await saveLoRAFile(path, adapters, {
    metadata: {
      ...ctx.subject,
      baseModel: ctx.baseModel.source,
      baseModelHash: ctx.baseModel.hash,
      augLevels: JSON.stringify(cascade.stages.map((s) => s.augLevel)),
    },
  });
  let params = 0;
  for (const t of adapters.tensors.values()) params += t.data.length;
  Object.assign(ctx.metrics, { file: path, bytes, params, parts: Object.keys(adapters.parts) });
  const merged = mergeCascadeLoRA(cascade);
  ctx.log(
    `LoRA adapters (${Object.keys(adapters.parts).join(", ")}; ${params} parameters) → ${path} (${
      (bytes / 1024).toFixed(1)
    } KiB); merged ${merged.join(", ")} into the model`,
  );
}

/**
 * Writes `model.safetensors` (the whole cascade; the weight average when there is one). Returns
 * its path and the writer, to rewrite it after the SR phase.
 */
async function writePersonalisedModel(
  cascade: Cascade,
  dbJob: DreamBoothJob,
  ctx: {
    config: DreamBoothConfig;
    identifier: string;
    classNoun: string;
    out: string;
    log: (line: string) => void;
    lora: { baseModel: { source: string; hash: string }; metrics: Record<string, unknown> } | null;
  },
): Promise<{ modelPath: string; writeModel: () => Promise<unknown> }> {
  const { config, classNoun } = ctx;
  if (dbJob.ema) {
    await dbJob.useAverage();
    ctx.log(
      `model: the EMA of the weights (decay ${config.emaDecay}, ${dbJob.ema.updates} updates)`,
    );
  }
  const modelPath = join(ctx.out, "model.safetensors");
  const subject = {
    identifier: ctx.identifier,
    classNoun,
    instancePrompt: config.instancePrompt,
    // A --concepts run: every concept's identifier, class noun and prompts (sample/eval).
    ...(config.concepts ? { concepts: JSON.stringify(config.concepts) } : {}),
  };
  // LoRA: every phase's adapters gathered into lora.safetensors, then merged into the model.
  const adapters = { tensors: new Map<string, NamedTensor>(), parts: {} };
  const writeModel = async () => {
    if (ctx.lora) {
      await saveRunAdapters(cascade, adapters, {
        ...ctx.lora,
        out: ctx.out,
        subject,
        log: ctx.log,
      });
    }
    await saveCheckpoint(modelPath, cascade, { metadata: subject });
  };
  await writeModel();
  return { modelPath, writeModel };
}

/**
 * The phases after a finished fine-tuning: the personalised model folder (SR stages as in the
 * base model; the weight average when there is one), SR fine-tuning (superres/'s, unless the
 * caller gives its own or turns it off), and samples of DreamBench prompts through the whole
 * cascade. Records their figures in `metrics`; returns the model file and the sample files.
 */
async function finishRun(
  cascade: Cascade,
  dbJob: DreamBoothJob,
  p: ResolvedParams,
  ctx: {
    options: TrainDreamBoothOptions;
    config: DreamBoothConfig;
    lora: LoRAConfig | null;
    baseModel: { source: string; hash: string };
    identifier: string;
    classNoun: string;
    subjects: readonly RunSubject[];
    out: string;
    metrics: Record<string, unknown>;
    log: (line: string) => void;
  },
): Promise<{ modelPath: string; samples: string[] }> {
  const { config, identifier, classNoun, out, metrics, log } = ctx;
  // 5. The personalised model folder (LoRA: the adapters file, then the merged model).
  const { modelPath, writeModel } = await writePersonalisedModel(cascade, dbJob, {
    config,
    identifier,
    classNoun,
    out,
    log,
    lora: ctx.lora
      ? { baseModel: ctx.baseModel, metrics: metrics.lora as Record<string, unknown> }
      : null,
  });
  // 6. SR fine-tuning.
  const superRes = await superResPhase(cascade, p, {
    options: ctx.options,
    lora: ctx.lora,
    out,
    subjects: ctx.subjects.map((k, i) => ({
      name: k.name,
      instanceDir: k.instanceDir,
      instancePrompt: config.concepts?.[i].instancePrompt ?? config.instancePrompt,
    })),
    writeModel,
    log,
  });
  if (superRes !== undefined) metrics.superRes = superRes;
  // 7. Samples of DreamBench prompts through the whole cascade.
  const samples: string[] = [];
  if (p.finalSamples) {
    const t3 = performance.now();
    // A --concepts run: the first four prompts of each concept.
    const prompts = config.concepts
      ? config.concepts.flatMap((k) => dreamboothPrompts(k.identifier, k.classNoun).slice(0, 4))
      : dreamboothPrompts(identifier, classNoun);
    samples.push(...await finalSamples(cascade, { prompts, out, log }));
    metrics.sampleSeconds = +((performance.now() - t3) / 1000).toFixed(2);
  }
  return { modelPath, samples };
}

/** Each subject's instance images and own class images, loaded and checked before any compute. */
async function loadSubjects(
  p: ResolvedParams,
  subjects: readonly RunSubject[],
  ctx: {
    config: DreamBoothConfig;
    size: number;
    log: (line: string) => void;
    warn: (line: string) => void;
  },
): Promise<{ subject: RunSubject; instance: InstanceData; ownClass: FloatImage[] }[]> {
  const { config, size, log, warn } = ctx;
  const loaded: { subject: RunSubject; instance: InstanceData; ownClass: FloatImage[] }[] = [];
  for (const [i, subject] of subjects.entries()) {
    const r = await loadRunImages(p, {
      config,
      instanceDir: subject.instanceDir,
      identifier: subject.identifier.text,
      instancePrompt: config.concepts?.[i].instancePrompt ?? config.instancePrompt,
      ...(subject.classDir !== undefined ? { classDir: subject.classDir } : {}),
      size,
      log,
      warn,
    });
    loaded.push({ subject, ...r });
  }
  return loaded;
}

/** Each subject's class-prior images (own, then generated or cached per class prompt). */
async function subjectPriors(
  cascade: Cascade,
  p: ResolvedParams,
  ctx: {
    config: DreamBoothConfig;
    loaded: readonly { subject: RunSubject; instance: InstanceData; ownClass: FloatImage[] }[];
    modelHash: string;
    log: (line: string) => void;
  },
): Promise<{ data: SubjectData[]; classMetrics: unknown[] }> {
  const { config, loaded, modelHash, log } = ctx;
  const data: SubjectData[] = [];
  const classMetrics: unknown[] = [];
  for (const [i, d] of loaded.entries()) {
    const classes = await priorImages(cascade, p, {
      config,
      ownClass: d.ownClass,
      classPrompt: config.concepts?.[i].classPrompt ?? config.classPrompt,
      ...(d.subject.classDir !== undefined ? { classDir: d.subject.classDir } : {}),
      modelHash,
      log,
    });
    if (classes.metrics) classMetrics.push(classes.metrics);
    data.push({ subject: d.subject, instance: d.instance, prior: classes.prior });
  }
  return { data, classMetrics };
}

/** The line that closes a run: the model, its subject, the time, how to sample it. */
function doneLine(
  modelPath: string,
  ctx: {
    identifier: string;
    classNoun: string;
    config: DreamBoothConfig;
    metrics: Record<string, unknown>;
    out: string;
  },
): string {
  const lora = ctx.metrics.lora ? " [--lora-scale S]" : "";
  return `personalised model → ${modelPath} (identifier ${JSON.stringify(ctx.identifier)}, class ${
    JSON.stringify(ctx.classNoun)
  }); ${ctx.metrics.totalSeconds} s in all. Sample it: deno task sample --model ${ctx.out}${lora} --prompt "${ctx.config.instancePrompt} on the beach"`;
}

/**
 * Runs the whole DreamBooth pipeline (see the module doc). Every input check runs before any
 * compute.
 *
 * @param options See {@link TrainDreamBoothOptions}.
 * @returns The {@link DreamBoothResult}.
 *
 * @example
 * ```ts
 * import { initBackend } from "./deps.ts";
 * import { trainDreamBooth } from "./dreambooth_train.ts";
 * await initBackend({ quiet: true });
 * const out = await Deno.makeTempDir(), cacheDir = await Deno.makeTempDir();
 * const r = await trainDreamBooth({
 *   model: "preset:tiny", out, cacheDir, steps: 1, numClassImages: 1, classSteps: 1, instanceBatch: 1,
 *   sampleEverySteps: 0, finalSamples: false, superRes: false, log: () => {}, warn: () => {},
 * });
 * console.log(r.summary.step, r.identifier); // 1 "sks"
 * await Deno.remove(out, { recursive: true });
 * await Deno.remove(cacheDir, { recursive: true });
 * ```
 */
export async function trainDreamBooth(
  options: TrainDreamBoothOptions = {},
): Promise<DreamBoothResult> {
  const log = options.log ?? console.log;
  const warn = options.warn ?? ((l: string) => console.warn(l));
  const t0 = performance.now();
  const p = resolveRunParams(options); // 1. Every check that needs no model (and the concepts file).
  const { method, steps, seed } = p;
  const { specs, instanceDir, classNoun, out } = await resolveSubjects(p);
  const ifResult = await ifBranch(p, { instanceDir, classNoun, out, log, options });
  if (ifResult) return ifResult; // DeepFloyd IF: its own branch.
  // 2. The model (loading weights is not compute), then the checks that need it.
  const base = await resolveBaseModel(options.model ?? null, { log: warn });
  const cascade = base.cascade;
  const threads = await holdRunThreads(p, out);
  try {
    const size = cascade.stages[0].imageSize;
    const subjects = specs
      ? await resolveConceptSubjects(specs, cascade, seed)
      : [await oneSubject(p, cascade, { instanceDir, classNoun, identifier: options.identifier })];
    const identifier = subjects[0].identifier;
    const config = dreamboothRunConfig(p, {
      identifier: identifier.text,
      classNoun,
      fill: subjects[0].fill,
    }, specs ? subjects : []);
    const loaded = await loadSubjects(p, subjects, { config, size, log, warn });
    const lora = loraConfigOf(p);
    log(runDescription(p, {
      base,
      config,
      instanceDir,
      numImages: loaded.reduce((n, d) => n + d.instance.images.length, 0),
      identifier,
      classNoun,
      out,
      lora,
    }));

    // 3. Class images (cached), per class prompt.
    const modelHash = await hashBaseModel(cascade);
    const metrics: Record<string, unknown> = { baseModel: base.source, baseModelHash: modelHash };
    const { data, classMetrics } = await subjectPriors(cascade, p, {
      config,
      loaded,
      modelHash,
      log,
    });
    if (classMetrics.length > 0) {
      metrics.classImages = specs ? classMetrics : classMetrics[0];
    }

    // 4. Fine-tuning through the shared run machinery (LoRA: only the attached adapters train).
    if (lora) metrics.lora = attachLoRA(cascade, lora, { seed, text: p.trainTextEncoder });
    const jobs = createRunJobs(cascade, p, { config, data, identifier });
    using dbJob = jobs.dbJob;
    using tiJob = jobs.tiJob;
    const job = tiJob ? Object.assign(tiJob, { samples: dbJob.samples }) : dbJob;
    using validation = validationMetricsOf(config, data, { out, log }); // grid + eval metrics
    const scored = withValidationMetrics(job, validation);
    const summary = await fineTune(withProgress(scored, steps, options.onProgress), p, {
      options,
      config,
      modelHash,
      instanceDir,
      out,
      metrics,
      log,
    });
    const info = runRecord(identifier, {
      classNoun,
      config,
      method,
      instanceDir,
      baseModel: base.source,
      args: options.args ?? [],
      metrics,
    });
    const result: DreamBoothResult = {
      out,
      model: null,
      identifier: identifier.text,
      classNoun,
      summary,
      metrics,
      samples: [],
    };
    if (summary.reason !== "done") {
      await writeJsonAtomic(join(out, "dreambooth.json"), info);
      return result;
    }

    // 5–7. The personalised model folder, SR fine-tuning, samples of DreamBench prompts.
    const done = await finishRun(cascade, dbJob, p, {
      options,
      config,
      lora,
      baseModel: { source: base.source, hash: modelHash },
      identifier: identifier.text,
      classNoun,
      subjects,
      out,
      metrics,
      log,
    });
    result.model = done.modelPath;
    result.samples.push(...done.samples);
    metrics.totalSeconds = +((performance.now() - t0) / 1000).toFixed(2);
    await writeJsonAtomic(join(out, "dreambooth.json"), info);
    log(doneLine(done.modelPath, { identifier: identifier.text, classNoun, config, metrics, out }));
    return result;
  } finally {
    threads?.release();
    cascade.dispose();
  }
}
