import { join } from "node:path";
import { defineMethod, type MethodSpec } from "../define_method.ts";
import { s } from "../schema.ts";
import { samplePresets } from "./sample.ts";
import type { LoadedModel } from "../model_host.ts";

/** One checkpoint `model.list` found. */
export interface CheckpointEntry {
  /** Relative to the data root: pass it as `model` to `sample`. */
  path: string;
  /** File size. */
  bytes: number;
  /** ISO time of the last change. */
  modifiedAt: string | null;
}

/** The result of `model.list`. */
export interface ModelListResult {
  /** Checkpoints under `<data root>/models/`, sorted by path. */
  checkpoints: CheckpointEntry[];
  /** Preset names `sample` and `model.load` accept. */
  presets: string[];
  /** Models kept loaded (`model.load`), for `sample {loaded}`. */
  loaded: LoadedModel[];
}

/**
 * `model.list {}` → `{checkpoints, presets, loaded}`: the `.safetensors` files under
 * `<data root>/models/` (where training writes its final checkpoints; at most 1000, depth 4), the
 * preset names `sample` accepts without a checkpoint, and the models kept loaded.
 *
 * @example
 * ```ts
 * import { modelList } from "./model_list.ts";
 * console.log(modelList.name); // model.list
 * ```
 */
export const modelList: MethodSpec<Record<never, never>, ModelListResult> = defineMethod({
  name: "model.list",
  summary: "Cascade checkpoints under <data root>/models/, the preset names, the loaded models.",
  params: s.object({}),
  result: {
    type: "object",
    properties: {
      checkpoints: { type: "array", items: { type: "object" } },
      presets: { type: "array", items: { type: "string" } },
      loaded: { type: "array", items: { type: "object" } },
    },
  },
  handler: async (_params, { services }): Promise<ModelListResult> => {
    const root = services.dataRoot;
    const checkpoints: CheckpointEntry[] = [];
    const walk = async (dir: string, depth: number): Promise<void> => {
      let entries: Deno.DirEntry[];
      try {
        entries = await Array.fromAsync(Deno.readDir(dir));
      } catch {
        return;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : 1));
      for (const e of entries) {
        if (checkpoints.length >= 1000) return;
        const path = join(dir, e.name);
        if (e.isDirectory && depth < 4) await walk(path, depth + 1);
        else if (e.isFile && e.name.endsWith(".safetensors")) {
          const info = await Deno.stat(path);
          checkpoints.push({
            path: root.relative(path),
            bytes: info.size,
            modifiedAt: info.mtime?.toISOString() ?? null,
          });
        }
      }
    };
    await walk(join(root.path, "models"), 1);
    return { checkpoints, presets: [...samplePresets], loaded: services.models.list() };
  },
});
