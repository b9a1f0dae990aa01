/**
 * Finds and loads the cascade to personalise: a checkpoint path, `preset:NAME`, or (no model
 * given) the default model. The default model is `models/default/cascade.safetensors`; until it
 * ships, the pretraining run under `runs/pretrain/` with SR stages that trained the most steps
 * (newest on ties; its base run is the one its `config.json` names; exported with
 * trainer/'s `exportCascade` into `runs/superres/pretrain_export/`), else the `tiny` preset with a
 * loud one-line notice (its SR stage is untrained: figures from it say nothing about quality).
 *
 * @module
 */
import { join } from "node:path";
import {
  type Cascade,
  createPreset,
  exportCascade,
  loadCheckpoint,
  PRESET_NAMES,
  type PresetName,
} from "./deps.ts";

/** What {@link loadSrCascade} loaded. */
export interface LoadedSrCascade {
  /** The cascade, owned by the caller. */
  cascade: Cascade;
  /** Where it came from: a path, `preset:NAME`, or `pretrain:RUN_DIRS`. */
  source: string;
}

/** Options of {@link loadSrCascade}. */
export interface LoadSrCascadeOptions {
  /** The repository root that holds `models/` and `runs/`. Default: the current directory. */
  root?: string;
  /** Where notices go. Default `console.warn`. */
  warn?: (line: string) => void;
  /** Seed of a preset's weights. Default 0. */
  seed?: number;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await Deno.stat(p)).isFile;
  } catch {
    return false;
  }
}

/** Newest pretraining runs with SR stages: [base, sr1(, sr2)] run folders, or null. */
async function pretrainRuns(root: string): Promise<string[] | null> {
  const dir = join(root, "runs", "pretrain");
  const runs: { dir: string; stage: string; base: string | null; steps: number; mtime: number }[] =
    [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.isDirectory) continue;
      const d = join(dir, e.name);
      const ckpt = join(d, "checkpoint.safetensors");
      if (!(await isFile(ckpt)) || !(await isFile(join(d, "config.json")))) continue;
      const cfg = JSON.parse(await Deno.readTextFile(join(d, "config.json")));
      if (cfg?.stage !== "sr1" && cfg?.stage !== "sr2") continue;
      const summary = await Deno.readTextFile(join(d, "summary.json")).then(JSON.parse, () => ({}));
      runs.push({
        dir: d,
        stage: cfg.stage,
        base: typeof cfg.baseCheckpoint === "string" ? cfg.baseCheckpoint : null,
        steps: Number.isInteger(summary?.step) ? summary.step : 0,
        mtime: (await Deno.stat(ckpt)).mtime?.getTime() ?? 0,
      });
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  // The most-trained SR run (a scratch run of a few steps loses to the real one), newest on ties.
  const rank = (a: typeof runs[0], b: typeof runs[0]) => b.steps - a.steps || b.mtime - a.mtime;
  const sr1 = runs.filter((r) => r.stage === "sr1" && r.base).sort(rank)[0];
  if (!sr1) return null;
  const baseCkpt = sr1.base!.startsWith("/") ? sr1.base! : join(root, sr1.base!);
  const baseDir = baseCkpt.replace(/\/checkpoint\.safetensors$/, "");
  const sr2 = runs.filter((r) => r.stage === "sr2" && r.base === sr1.base)
    .sort(rank)[0];
  return [baseDir, sr1.dir, ...(sr2 ? [sr2.dir] : [])];
}

/**
 * Loads the cascade named by `model` (see the module docs for the default).
 *
 * @param model A `.safetensors` cascade checkpoint, `preset:NAME` (tiny, small), or undefined /
 * "default" for the default model.
 * @param options See {@link LoadSrCascadeOptions}.
 * @returns The {@link LoadedSrCascade}.
 * @throws {RangeError} When the model is not a cascade with an SR stage, or the preset is unknown.
 *
 * @example
 * ```ts
 * import { initBackend } from "./deps.ts";
 * import { loadSrCascade } from "./load_sr_cascade.ts";
 * await initBackend({ quiet: true });
 * const { cascade, source } = await loadSrCascade("preset:tiny");
 * console.log(source, cascade.stages.length); // "preset:tiny" 2
 * cascade.dispose();
 * ```
 */
export async function loadSrCascade(
  model?: string,
  options: LoadSrCascadeOptions = {},
): Promise<LoadedSrCascade> {
  const { root = ".", warn = console.warn, seed = 0 } = options;
  let loaded: LoadedSrCascade;
  if (model !== undefined && model !== "default") {
    if (model.startsWith("preset:")) {
      const name = model.slice("preset:".length) as PresetName;
      if (!PRESET_NAMES.includes(name)) {
        throw new RangeError(
          `Cannot load the model as 'preset' must be one of ${
            PRESET_NAMES.join(", ")
          }: current value is ${JSON.stringify(name)}`,
        );
      }
      loaded = { cascade: await createPreset(name, { seed }), source: model };
    } else {
      const ck = await loadCheckpoint(model);
      if (ck.kind !== "cascade") {
        ck.model.dispose();
        throw new RangeError(
          `Cannot load the model as '${model}' holds a ${ck.kind}, not a cascade`,
        );
      }
      loaded = { cascade: ck.model as Cascade, source: model };
    }
  } else {
    const shipped = join(root, "models", "default", "cascade.safetensors");
    const runs = await isFile(shipped) ? null : await pretrainRuns(root);
    if (await isFile(shipped)) {
      loaded = await loadSrCascade(shipped, options);
    } else if (runs) {
      const out = join(root, "runs", "superres", "pretrain_export");
      const { path } = await exportCascade(runs, out, { dtype: "F32", warn, maxBytes: 1 << 30 });
      warn(
        `NOTICE: no default model (models/default/cascade.safetensors) yet: using the pretraining runs ${
          runs.join(" + ")
        } (base + SR stages, exported to ${path})`,
      );
      loaded = { ...(await loadSrCascade(path, options)), source: `pretrain:${runs.join(",")}` };
    } else {
      warn(
        "NOTICE: no default model (models/default/cascade.safetensors) and no pretraining run with SR stages under runs/pretrain/: using the UNTRAINED tiny preset (figures mean nothing)",
      );
      loaded = await loadSrCascade("preset:tiny", options);
    }
  }
  if (loaded.cascade.stages.length < 2) {
    loaded.cascade.dispose();
    throw new RangeError(
      `Cannot fine-tune super-resolution as the model '${loaded.source}' has no SR stage`,
    );
  }
  return loaded;
}
