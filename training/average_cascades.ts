/**
 * Weight averaging of exported cascades (a "model soup"): the element-wise mean of the tensors of
 * several cascade checkpoints that share one config, e.g. two continuations of the same base run
 * trained side by side on different data streams, one per core. Averaging every so often turns two
 * single-threaded runs into one model that has seen both streams (local SGD with a long period);
 * on this 2-core machine two one-thread base runs side by side take ~0.8–0.9 step/s each
 * (reports/default-cascade-lineage.md, session 7, also for what the average measured against its parents).
 *
 * The inputs must agree on their cascade config (the `config` metadata), tensor names and shapes;
 * the mean is taken in float32 and written as float16 (or float32) with the first input's metadata
 * (less its `steps`) plus a `soup` entry naming the inputs, their weights and steps, and a
 * `model.json` beside it. Integer tensors are not averaged: they must be equal in every input.
 *
 * @module
 */
import { join } from "node:path";
import { type NamedTensor, readSafetensors, type SafetensorsContent } from "./deps.ts";
import { writeCascadeFolder } from "./_cascade_folder.ts";

/** Options of {@link averageCascades}. */
export interface AverageCascadesOptions {
  /** Weight of each input (non-negative, not all zero; normalised to sum 1). Default: equal. */
  weights?: readonly number[];
  /** Storage type of the result. Default "F16". */
  dtype?: "F16" | "F32";
  /** File name inside the output folder. Default "cascade.safetensors". */
  fileName?: string;
}

/** What {@link averageCascades} wrote. */
export interface AveragedCascade {
  /** The checkpoint file. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /** The inputs with their normalised weights. */
  inputs: { path: string; weight: number; steps: string | null }[];
  /** Tensors averaged. */
  tensors: number;
}

/** An input given as a folder means its `cascade.safetensors`. */
async function resolveInput(path: string): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new RangeError(`Cannot average cascades as '${path}' does not exist`);
    }
    throw e;
  }
  return info.isDirectory ? join(path, "cascade.safetensors") : path;
}

/**
 * Writes the weighted mean of cascade checkpoints to `<outDir>/cascade.safetensors` (+
 * `model.json`).
 *
 * @param inputs Two or more cascade checkpoints (files or folders holding `cascade.safetensors`).
 * @param outDir Output folder (created).
 * @param options {@link AverageCascadesOptions}.
 * @returns The {@link AveragedCascade}.
 * @throws {RangeError} When fewer than two inputs are given, the weights are invalid, or the inputs
 * differ in kind, config, tensor names or shapes (the message names the first difference).
 *
 * @example
 * ```ts
 * import { writeSafetensors } from "./deps.ts";
 * import { averageCascades } from "./average_cascades.ts";
 * const dir = await Deno.makeTempDir();
 * const metadata = { format: "dreambooth-ts", kind: "cascade", config: "{}" };
 * for (const [name, v] of [["a", 1], ["b", 3]] as const) {
 *   await writeSafetensors(`${dir}/${name}.safetensors`, { w: { shape: [1], data: new Float32Array([v]) } }, { metadata });
 * }
 * const r = await averageCascades([`${dir}/a.safetensors`, `${dir}/b.safetensors`], `${dir}/soup`);
 * console.log(r.inputs.map((i) => i.weight)); // [ 0.5, 0.5 ]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function averageCascades(
  inputs: readonly string[],
  outDir: string,
  options: AverageCascadesOptions = {},
): Promise<AveragedCascade> {
  const { dtype = "F16", fileName = "cascade.safetensors" } = options;
  if (!Array.isArray(inputs) || inputs.length < 2) {
    throw new RangeError(
      `Cannot average cascades as 'inputs' must list at least 2 checkpoints: current length is ${inputs?.length}`,
    );
  }
  const raw = options.weights ?? inputs.map(() => 1);
  if (
    raw.length !== inputs.length || raw.some((w) => !(Number.isFinite(w) && w >= 0)) ||
    !(raw.reduce((a, b) => a + b, 0) > 0)
  ) {
    throw new RangeError(
      `Cannot average cascades as 'weights' must be ${inputs.length} finite numbers ≥ 0, not all 0: current value is ${
        JSON.stringify(raw)
      }`,
    );
  }
  const total = raw.reduce((a, b) => a + b, 0);
  const weights = raw.map((w) => w / total);
  const paths = await Promise.all(inputs.map(resolveInput));
  const files: SafetensorsContent[] = [];
  for (const p of paths) files.push(await readSafetensors(p));
  const first = files[0];
  if (first.metadata.kind !== "cascade" || first.metadata.config === undefined) {
    throw new RangeError(`Cannot average cascades as '${paths[0]}' is not a cascade checkpoint`);
  }
  for (const [i, f] of files.entries()) {
    if (f.metadata.kind !== "cascade" || f.metadata.config !== first.metadata.config) {
      throw new RangeError(
        `Cannot average cascades as '${paths[i]}' has another cascade config than '${paths[0]}'`,
      );
    }
    if (f.tensors.size !== first.tensors.size) {
      throw new RangeError(
        `Cannot average cascades as '${paths[i]}' holds ${f.tensors.size} tensors and '${
          paths[0]
        }' ${first.tensors.size}`,
      );
    }
  }
  const out = new Map<string, NamedTensor>();
  for (const [name, t] of first.tensors) {
    const float = t.data instanceof Float32Array;
    const acc = new Float32Array(t.data.length);
    for (const [i, f] of files.entries()) {
      const o = f.tensors.get(name);
      if (!o || o.shape.join(",") !== t.shape.join(",")) {
        throw new RangeError(
          `Cannot average cascades as tensor '${name}' is ${
            o ? `of shape [${o.shape}]` : "missing"
          } in '${paths[i]}' (shape [${t.shape}] in '${paths[0]}')`,
        );
      }
      if (!float) {
        // Integer tensors (none in today's cascades) are not averaged: they must agree.
        if (o.data.some((v, k) => v !== t.data[k])) {
          throw new RangeError(
            `Cannot average cascades as integer tensor '${name}' differs between '${
              paths[0]
            }' and '${paths[i]}'`,
          );
        }
        continue;
      }
      const d = o.data, w = weights[i];
      for (let k = 0; k < acc.length; k++) acc[k] += w * d[k];
    }
    out.set(name, float ? { shape: [...t.shape], data: acc } : t);
  }
  const described = paths.map((path, i) => ({
    path,
    weight: weights[i],
    steps: files[i].metadata.steps ?? null,
  }));
  // The first input's `steps` would describe only that input: the `soup` entry names them all.
  const { steps: _steps, ...kept } = first.metadata;
  const metadata = { ...kept, soup: JSON.stringify(described) };
  const { path, bytes } = await writeCascadeFolder(outDir, fileName, out, metadata, dtype, {
    soup: described,
  });
  return { path, bytes, inputs: described, tensors: out.size };
}
