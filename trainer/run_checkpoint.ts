/**
 * Run checkpoints: one safetensors file holding a training job's tensors (model weights, optimizer
 * moments) and, in `__metadata__`, its JSON state (step, data position, loss EMA, elapsed time …),
 * written atomically (temporary file, fsync, rename), so that a run killed at any moment resumes
 * from the last complete checkpoint.
 *
 * @module
 */
import { type AdamState, encodeSafetensors, type NamedTensor, readSafetensors } from "./deps.ts";
import { writeFileAtomic } from "./deps.ts";

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

/** A trainer's resumable state (a `StageTrainer`'s). */
export interface TrainerState {
  /** Steps taken. */
  step: number;
  /** Adam's iterations and moments by (stable) variable name. */
  optimizer: AdamState;
}

const MOMENT_M = "optimizer.m.";
const MOMENT_V = "optimizer.v.";

/**
 * Puts a trainer's state into a run checkpoint: each Adam moment pair becomes the 1-D tensors
 * `optimizer.m.<name>` and `optimizer.v.<name>` of `tensors`; the counters are returned for the
 * checkpoint's JSON state. {@link loadTrainerState} reads both back.
 *
 * @param tensors The checkpoint's tensors (written to; the moments are shared, not copied).
 * @param state The trainer's state (e.g. `trainer.getState()`).
 * @returns `{ step, iterations }`, to begin the checkpoint's `state` with.
 *
 * @example
 * ```ts
 * import { saveTrainerState } from "./run_checkpoint.ts";
 * import type { NamedTensor } from "./deps.ts";
 * const tensors = new Map<string, NamedTensor>();
 * const m = new Float32Array([0.1, 0.2]), v = new Float32Array([0.01, 0.04]);
 * const state = saveTrainerState(tensors, { step: 3, optimizer: { iterations: 3, moments: { w: { m, v } } } });
 * console.log(state, [...tensors.keys()]); // { step: 3, iterations: 3 } [ "optimizer.m.w", "optimizer.v.w" ]
 * ```
 */
export function saveTrainerState(
  tensors: Map<string, NamedTensor>,
  state: TrainerState,
): { step: number; iterations: number } {
  for (const [name, m] of Object.entries(state.optimizer.moments)) {
    tensors.set(`${MOMENT_M}${name}`, { shape: [m.m.length], data: m.m });
    tensors.set(`${MOMENT_V}${name}`, { shape: [m.v.length], data: m.v });
  }
  return { step: state.step, iterations: state.optimizer.iterations };
}

/**
 * Reads a trainer's state back from a run checkpoint that {@link saveTrainerState} filled: `step`
 * and `iterations` from its JSON state, the Adam moments (copied) from its `optimizer.m.*` and
 * `optimizer.v.*` tensors.
 *
 * @param checkpoint The checkpoint (e.g. from {@link readRunCheckpoint}).
 * @returns The state, for the trainer's `setState`.
 * @throws {RangeError} When an `optimizer.m.<name>` tensor has no `optimizer.v.<name>` partner.
 *
 * @example
 * ```ts
 * import { loadTrainerState } from "./run_checkpoint.ts";
 * const tensors = new Map([
 *   ["optimizer.m.w", { shape: [1], data: new Float32Array([0.5]) }],
 *   ["optimizer.v.w", { shape: [1], data: new Float32Array([0.25]) }],
 * ]);
 * const state = loadTrainerState({ tensors, state: { step: 7, iterations: 7 } });
 * console.log(state.step, state.optimizer.moments.w.v[0]); // 7 0.25
 * ```
 */
export function loadTrainerState(checkpoint: RunCheckpoint): TrainerState {
  const st = checkpoint.state as { step: number; iterations: number };
  const moments: AdamState["moments"] = {};
  for (const [name, t] of checkpoint.tensors) {
    if (!name.startsWith(MOMENT_M)) continue;
    const key = name.slice(MOMENT_M.length);
    const v = checkpoint.tensors.get(`${MOMENT_V}${key}`);
    if (!v) throw new RangeError(`Cannot restore as the checkpoint lacks '${MOMENT_V}${key}'`);
    moments[key] = {
      m: Float32Array.from(t.data as Float32Array),
      v: Float32Array.from(v.data as Float32Array),
    };
  }
  return { step: st.step, optimizer: { iterations: st.iterations, moments } };
}
