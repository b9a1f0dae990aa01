/**
 * Turns finished pretraining runs (one run folder per stage, base first) into one shippable cascade
 * checkpoint: the text encoder and base UNet from the base run, each SR UNet from its run, stored
 * as float16 with the cascade config, so that `loadCheckpoint` and `deno task sample --model`
 * load it. Also writes `model.json` (steps, loss and source of each stage, size).
 *
 * @module
 */
import { join } from "node:path";
import {
  buildCascadeSync,
  type CascadeConfig,
  createCascadeConfig,
  type NamedTensor,
  readSafetensors,
  saveCheckpoint,
  tokenizerFromDescription,
} from "./deps.ts";
import { readRunCheckpoint } from "./run_checkpoint.ts";
import { EMA_PREFIX } from "./weight_ema.ts";
import { writeJsonAtomic } from "./deps.ts";

/** Options of {@link exportCascade}. */
export interface ExportCascadeOptions {
  /** Storage type of the weights. Default "F16". */
  dtype?: "F16" | "F32";
  /** Refuse to write more than this many bytes. Default 40 MiB. */
  maxBytes?: number;
  /** File name of the checkpoint inside the output folder. Default "cascade.safetensors". */
  fileName?: string;
  /** Where notes go (e.g. a text encoder that differs between runs). Default `console.warn`. */
  warn?: (line: string) => void;
  /**
   * Which weights of a run that kept a weight average (`pretrain --ema-decay`) to ship: "ema"
   * (default: the average, as diffusion models are sampled) or "raw" (the last step's). Runs
   * without an average always give their raw weights.
   */
  weights?: "ema" | "raw";
}

/** What {@link exportCascade} wrote. */
export interface ExportedCascade {
  /** The checkpoint file. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /**
   * Stages exported, base first, with their step and loss EMA (`step` null for a base taken from
   * an exported cascade that records none, e.g. an average).
   */
  stages: {
    stage: string;
    run: string;
    step: number | null;
    imageSize: number;
    lossEma: number | null;
    /** Which weights were exported: the run's weight average or its last step's. */
    weights: "ema" | "raw";
  }[];
  /** Scalar parameters in all. */
  params: number;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

interface Loaded {
  dir: string;
  tensors: Map<string, NamedTensor>;
  /** The run's trainer state; null for an exported cascade. */
  state: unknown;
  metadata: Record<string, string>;
  config: CascadeConfig;
  /** An exported cascade's recorded base step, if any. */
  step?: number;
}

/** A missing file, as the OS says it or as readSafetensors wraps it (the OS error as its cause). */
const isNotFound = (e: unknown) =>
  e instanceof Deno.errors.NotFound ||
  (e instanceof Error && e.cause instanceof Deno.errors.NotFound);

// An exported cascade as the base "run": its config cut to the base stage (what a base run's
// checkpoint records), so the SR runs' configs are compared with it as with a run's.
async function loadExportedBase(path: string): Promise<Loaded> {
  let file;
  try {
    file = await readSafetensors(path);
  } catch (e) {
    if (isNotFound(e)) {
      throw new RangeError(`Cannot export a cascade as the base cascade '${path}' does not exist`);
    }
    throw e;
  }
  const { tensors, metadata } = file;
  if (metadata.kind !== "cascade" || metadata.config === undefined) {
    throw new RangeError(
      `Cannot export a cascade as '${path}' is not an exported cascade (its metadata kind is '${metadata.kind}')`,
    );
  }
  const full = JSON.parse(metadata.config);
  const steps: [string, number][] = metadata.steps ? JSON.parse(metadata.steps) : [];
  return {
    dir: path,
    tensors,
    state: null,
    metadata: { ...metadata, stage: "base" },
    config: createCascadeConfig({ ...full, stages: full.stages.slice(0, 1) }),
    step: steps.find(([s]) => s === "base")?.[1],
  };
}

/**
 * Reads each run's checkpoint (the first entry may be an exported cascade file) and checks that
 * each is the stage of its position and that all were trained with one cascade config.
 */
async function loadRuns(runDirs: readonly string[]): Promise<Loaded[]> {
  const ckpts: Loaded[] = [];
  for (const [i, dir] of runDirs.entries()) {
    if (dir.endsWith(".safetensors")) {
      if (i > 0) {
        throw new RangeError(
          `Cannot export a cascade as '${dir}' is a file in place of SR stage ${i}: only the base (the first entry) may come from an exported cascade`,
        );
      }
      ckpts.push(await loadExportedBase(dir));
      continue;
    }
    const path = join(dir, "checkpoint.safetensors");
    let c;
    try {
      c = await readRunCheckpoint(path);
    } catch (e) {
      if (isNotFound(e)) {
        throw new RangeError(`Cannot export a cascade as run '${dir}' has no checkpoint (${path})`);
      }
      throw e;
    }
    if (c.metadata.stageIndex !== String(i) || !c.metadata.config) {
      throw new RangeError(
        `Cannot export a cascade as run '${dir}' is not stage ${i} (its checkpoint says stage '${c.metadata.stage}')`,
      );
    }
    ckpts.push({ dir, ...c, config: createCascadeConfig(JSON.parse(c.metadata.config)) });
  }
  const final: CascadeConfig = ckpts[ckpts.length - 1].config;
  for (const c of ckpts) {
    const n = c.config.stages.length;
    if (
      !sameJson(c.config.textEncoder, final.textEncoder) ||
      !sameJson(c.config.tokenizer, final.tokenizer) ||
      !sameJson(c.config.stages, final.stages.slice(0, n))
    ) {
      throw new RangeError(
        `Cannot export a cascade as run '${c.dir}' was trained with a cascade config that differs from '${
          ckpts[ckpts.length - 1].dir
        }''s`,
      );
    }
  }
  return ckpts;
}

/**
 * Exports the checkpoints of a base run and optional SR runs (in stage order) as one cascade.
 *
 * The first entry may instead be an exported cascade file (`.safetensors`, e.g. an averaged base
 * that no run checkpoint holds): its base stage and text encoder are taken, so that an SR run
 * fine-tuned against that encoder (`deno task pretrain --base-run FILE`) exports without a base run.
 *
 * @param runDirs Run folders, base first (each holds `checkpoint.safetensors` from `deno task
 * pretrain`); the first may be an exported cascade file.
 * @param outDir The output folder (created), e.g. `models/default`.
 * @param options See {@link ExportCascadeOptions}.
 * @returns What was written.
 * @throws {RangeError} When a run is missing, out of order, its config disagrees with the others,
 * or the file would exceed `maxBytes`.
 *
 * @example
 * ```ts
 * import { buildCascade, createCascadeConfig, initBackend, presetConfig } from "./deps.ts";
 * import { writeRunCheckpoint } from "./run_checkpoint.ts";
 * import { exportCascade } from "./export_cascade.ts";
 * await initBackend({ quiet: true });
 * // A base-stage run checkpoint, as `deno task pretrain --stage base` writes it.
 * const tiny = createCascadeConfig(presetConfig("tiny"));
 * const config = { ...tiny, stages: tiny.stages.slice(0, 1) };
 * using cascade = await buildCascade(config);
 * const tensors = new Map([
 *   ...await cascade.textEncoder.exportWeights({ prefix: "text_encoder." }),
 *   ...await cascade.stages[0].unet.exportWeights({ prefix: "stages.0." }),
 * ]);
 * const runDir = await Deno.makeTempDir();
 * await writeRunCheckpoint(`${runDir}/checkpoint.safetensors`, {
 *   tensors,
 *   state: { step: 1 },
 *   metadata: { stage: "base", stageIndex: "0", config: JSON.stringify(config) },
 * });
 * const out = await Deno.makeTempDir();
 * console.log((await exportCascade([runDir], out)).stages.length); // 1
 * await Deno.remove(runDir, { recursive: true });
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function exportCascade(
  runDirs: readonly string[],
  outDir: string,
  options: ExportCascadeOptions = {},
): Promise<ExportedCascade> {
  const { dtype = "F16", maxBytes = 40 * 2 ** 20, fileName = "cascade.safetensors" } = options;
  const weights = options.weights ?? "ema";
  if (weights !== "ema" && weights !== "raw") {
    throw new RangeError(
      `Cannot export a cascade as 'weights' must be "ema" or "raw": current value is ${
        JSON.stringify(weights)
      }`,
    );
  }
  const warn = options.warn ?? console.warn;
  if (!Array.isArray(runDirs) || runDirs.length === 0 || runDirs.length > 3) {
    throw new RangeError(
      `Cannot export a cascade as 'runDirs' must list 1 to 3 run folders (base first): current length is ${runDirs?.length}`,
    );
  }
  const ckpts = await loadRuns(runDirs);
  const final: CascadeConfig = ckpts[ckpts.length - 1].config;

  const tokenizer = await tokenizerFromDescription(final.tokenizer);
  using cascade = buildCascadeSync(final, tokenizer);
  const base = ckpts[0];
  // A run that kept a weight average holds it under "ema." beside its raw weights.
  const averaged = ckpts.map((c, i) =>
    weights === "ema" && c.state !== null && c.tensors.has(`${EMA_PREFIX}stages.${i}.input.weight`)
  );
  const pre = (i: number) => averaged[i] ? EMA_PREFIX : "";
  const encoderPrefix = `${pre(0)}text_encoder.`;
  cascade.textEncoder.loadWeights(base.tensors, { prefix: encoderPrefix });
  ckpts.forEach((c, i) =>
    cascade.stages[i].unet.loadWeights(c.tensors, { prefix: `${pre(i)}stages.${i}.` })
  );
  // SR runs train on the text encoder they copied at their start: it should be the final base one
  // (stages that do not read text, textDim 0, do not care).
  for (const [i, c] of ckpts.entries()) {
    if (i === 0 || cascade.stages[i].unet.config.textDim === 0) continue;
    let maxDiff = 0;
    for (const [name, t] of base.tensors) {
      if (!name.startsWith(encoderPrefix)) continue;
      const o = c.tensors.get(name.slice(pre(0).length));
      if (!o) continue;
      const a = t.data as Float32Array, b = o.data as Float32Array;
      for (let k = 0; k < a.length; k++) maxDiff = Math.max(maxDiff, Math.abs(a[k] - b[k]));
    }
    if (maxDiff > 0) {
      const why = base.state === null
        ? `the one in '${base.dir}' (max |Δ| ${
          maxDiff.toExponential(2)
        }): the SR run was not trained against this file`
        : `the base run's final one (max |Δ| ${
          maxDiff.toExponential(2)
        }): the base run went on after this SR run started`;
      warn(`note: run '${c.dir}' trained on a text encoder that differs from ${why}`);
    }
  }
  const stepOf = (c: Loaded) =>
    c.state === null ? c.step ?? null : (c.state as { run?: { step?: number } }).run?.step ?? 0;
  const emaOf = (c: Loaded) => {
    if (c.state === null) return null;
    const r = (c.state as { run?: { lossEma?: number; emaWeight?: number } }).run;
    return r && r.emaWeight ? r.lossEma! / r.emaWeight : null;
  };
  const stages = ckpts.map((c, i) => ({
    stage: c.metadata.stage,
    run: c.dir,
    step: stepOf(c),
    imageSize: final.stages[i].imageSize,
    lossEma: emaOf(c),
    weights: averaged[i] ? "ema" as const : "raw" as const,
  }));
  await Deno.mkdir(outDir, { recursive: true });
  const path = join(outDir, fileName);
  const tmp = `${path}.export.tmp`;
  await saveCheckpoint(tmp, cascade, {
    dtype,
    metadata: { steps: JSON.stringify(stages.map((s) => [s.stage, s.step])) },
  });
  const bytes = (await Deno.stat(tmp)).size;
  if (bytes > maxBytes) {
    await Deno.remove(tmp);
    throw new RangeError(
      `Cannot export a cascade as the checkpoint would be ${bytes} bytes, over 'maxBytes' (${maxBytes})`,
    );
  }
  await Deno.rename(tmp, path);
  const result: ExportedCascade = { path, bytes, stages, params: cascade.numParams };
  await writeJsonAtomic(join(outDir, "model.json"), {
    file: fileName,
    dtype,
    bytes,
    params: cascade.numParams,
    stages,
    exportedAt: new Date().toISOString(),
  });
  return result;
}
