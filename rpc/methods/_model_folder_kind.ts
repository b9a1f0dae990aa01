import { join } from "node:path";
import { DataRoot } from "../data_root.ts";
import type { JobKind } from "../job_kind.ts";

/** Options of {@linkcode withDataRootPaths}. */
export interface DataRootPathsOptions {
  /**
   * Run in `<data root>/models/<job id>/` (where `model.list` finds checkpoints) instead of the
   * job's own `jobs/<job id>/` (default false).
   */
  modelFolder?: boolean;
}

/** Whether a model field names a Hugging Face repository (`hf:ORG/NAME[@REV]`) rather than a path. */
export function isHubSource(value: unknown): boolean {
  return typeof value === "string" && value.startsWith("hf:");
}

/**
 * Wraps a worker job kind so that (1) its path params (relative to the data root, already
 * checked by `prepare`) reach the worker as absolute paths, (2) with `modelFolder`, its folder is
 * `<data root>/models/<job id>/` instead of `jobs/<job id>/` (the same folder again on
 * `jobs.resume`), and (3) absolute paths under the data root in its result (top-level strings and
 * arrays of strings) come back relative to it.
 *
 * @param kind The job kind (usually from `workerJobKind`).
 * @param pathFields The params holding paths relative to the data root.
 * @param options `modelFolder`: run in `models/<job id>/`.
 * @returns The wrapped kind.
 */
export function withDataRootPaths<P extends object>(
  kind: JobKind<P, unknown>,
  pathFields: readonly (keyof P & string)[],
  options: DataRootPathsOptions = {},
): JobKind<P, unknown> {
  return {
    ...kind,
    run: async (params, ctx) => {
      const root = await DataRoot.open(ctx.dataRoot);
      const resolved = { ...params } as Record<string, unknown>;
      for (const field of pathFields) {
        const value = resolved[field];
        // `hf:ORG/NAME[@REV]` names a Hugging Face repository (DeepFloyd IF), not a path.
        if (value !== undefined && !isHubSource(value)) {
          resolved[field] = await root.resolve(value, { field });
        }
      }
      let dir = ctx.dir;
      if (options.modelFolder) {
        dir = join(root.path, "models", ctx.id);
        await Deno.mkdir(dir, { recursive: true });
      }
      const result = await kind.run(resolved as P, {
        id: ctx.id,
        signal: ctx.signal,
        dir,
        relDir: options.modelFolder ? root.relative(dir) : ctx.relDir,
        dataRoot: ctx.dataRoot,
        resume: ctx.resume,
        progress: (u) => ctx.progress(u),
      });
      const rel = (v: unknown): unknown =>
        typeof v === "string" && v.startsWith(root.path + "/") ? root.relative(v) : v;
      if (result === null || typeof result !== "object" || Array.isArray(result)) return result;
      return Object.fromEntries(
        Object.entries(result).map(([k, v]) => [k, Array.isArray(v) ? v.map(rel) : rel(v)]),
      );
    },
  };
}

/**
 * Wraps a worker job kind that writes a model: {@linkcode withDataRootPaths} with
 * `modelFolder: true`, so its folder is `<data root>/models/<job id>/`, where `model.list` finds
 * the checkpoints it writes.
 *
 * @param kind The job kind (usually from `workerJobKind`).
 * @param pathFields The params holding paths relative to the data root.
 * @returns The wrapped kind.
 */
export function inModelFolder<P extends object>(
  kind: JobKind<P, unknown>,
  pathFields: readonly (keyof P & string)[],
): JobKind<P, unknown> {
  return withDataRootPaths(kind, pathFields, { modelFolder: true });
}
