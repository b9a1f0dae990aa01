/**
 * Run checkpoints: one safetensors file holding a training job's tensors (model weights, optimizer
 * moments) and, in `__metadata__`, its JSON state (step, data position, loss EMA, elapsed time …),
 * written atomically (temporary file, fsync, rename), so that a run killed at any moment resumes
 * from the last complete checkpoint.
 *
 * @module
 */
import { encodeSafetensors, type NamedTensor, readSafetensors } from "./deps.ts";
import { writeFileAtomic } from "./_atomic.ts";

/** The `format` metadata value of a run checkpoint. */
export const RUN_CHECKPOINT_FORMAT = "dreambooth-ts-run";

/** What a run checkpoint holds. */
export interface RunCheckpoint {
  /** Tensors by name (float32). */
  tensors: Map<string, NamedTensor>;
  /** JSON-serialisable state (stored as the `state` metadata entry). */
  state: unknown;
  /** Extra string metadata (e.g. `config`; cannot be `format` or `state`). */
  metadata?: Record<string, string>;
}

/**
 * Writes a run checkpoint atomically.
 *
 * @param path Destination `.safetensors` path (parent folders are created).
 * @param checkpoint The {@link RunCheckpoint} (tensors stored as float32).
 * @returns Resolves once the file is renamed into place.
 *
 * @example
 * ```ts
 * import { readRunCheckpoint, writeRunCheckpoint } from "./run_checkpoint.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * const tensors = new Map([["w", { shape: [2], data: new Float32Array([1, 2]) }]]);
 * await writeRunCheckpoint(path, { tensors, state: { step: 3 } });
 * console.log((await readRunCheckpoint(path)).state); // { step: 3 }
 * await Deno.remove(path);
 * ```
 */
export async function writeRunCheckpoint(path: string, checkpoint: RunCheckpoint): Promise<void> {
  const extra = checkpoint.metadata ?? {};
  for (const k of ["format", "state"]) {
    if (k in extra) {
      throw new RangeError(`Cannot write a run checkpoint as metadata key '${k}' is reserved`);
    }
  }
  const metadata = {
    ...extra,
    format: RUN_CHECKPOINT_FORMAT,
    state: JSON.stringify(checkpoint.state),
  };
  const bytes = encodeSafetensors(checkpoint.tensors, { metadata, floatDtype: "F32" });
  await writeFileAtomic(path, bytes);
}

/**
 * Reads a run checkpoint written by {@link writeRunCheckpoint}.
 *
 * @param path The file.
 * @returns Its tensors, parsed state and other metadata.
 * @throws {RangeError} When the file is not a run checkpoint (the message names it).
 *
 * @example
 * ```ts
 * import { readRunCheckpoint, writeRunCheckpoint } from "./run_checkpoint.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await writeRunCheckpoint(path, { tensors: new Map(), state: { step: 0 }, metadata: { stage: "base" } });
 * console.log((await readRunCheckpoint(path)).metadata.stage); // "base"
 * await Deno.remove(path);
 * ```
 */
export async function readRunCheckpoint(
  path: string,
): Promise<Required<RunCheckpoint> & { metadata: Record<string, string> }> {
  const { tensors, metadata } = await readSafetensors(path);
  if (metadata.format !== RUN_CHECKPOINT_FORMAT || metadata.state === undefined) {
    throw new RangeError(
      `Cannot read '${path}' as a run checkpoint as its metadata lacks format "${RUN_CHECKPOINT_FORMAT}" and state`,
    );
  }
  const { format: _f, state, ...rest } = metadata;
  return { tensors, state: JSON.parse(state), metadata: rest };
}
