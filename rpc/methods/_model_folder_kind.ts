import { join } from "node:path";
import { DataRoot } from "../data_root.ts";
import type { JobKind } from "../job_kind.ts";

/**
 * Wraps a worker job kind that writes a model so that (1) its path params (relative to the data
 * root, already checked by `prepare`) reach the worker as absolute paths, (2) its folder is
 * `<data root>/models/<job id>/` instead of `jobs/<job id>/`, where `model.list` finds the
 * checkpoints it writes (the same folder again on `jobs.resume`), and (3) absolute paths under the
 * data root in its result come back relative to it.
 *
 * @param kind The job kind (usually from `workerJobKind`).
 * @param pathFields The params holding paths relative to the data root.
 * @returns The wrapped kind.
 */
export function inModelFolder<P extends object>(
  kind: JobKind<P, unknown>,
  pathFields: readonly (keyof P & string)[],
): JobKind<P, unknown> {
  return {
    ...kind,
    run: async (params, ctx) => {
      const root = await DataRoot.open(ctx.dataRoot);
      const resolved = { ...params } as Record<string, unknown>;
      for (const field of pathFields) {
        const value = resolved[field];
        if (value !== undefined) resolved[field] = await root.resolve(value, { field });
      }
      const dir = join(root.path, "models", ctx.id);
      await Deno.mkdir(dir, { recursive: true });
      const result = await kind.run(resolved as P, {
        id: ctx.id,
        signal: ctx.signal,
        dir,
        relDir: root.relative(dir),
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
