/**
 * An exponential moving average (EMA) of model weights, as diffusion models are sampled from
 * (DDPM, Imagen: the weights averaged over the last ~1/(1 − decay) steps, which removes most of
 * the step-to-step noise that a constant learning rate leaves in the raw weights).
 *
 * After update n (1-based) the shadow is `s ← d_n·s + (1 − d_n)·w` with the warm-up
 * `d_n = min(decay, (1 + n)/(10 + n))`, so that early on the average follows the weights instead
 * of staying at the starting point. The shadow is kept in float32 next to the weights and stored in
 * run checkpoints under `ema.<name>` (with the update count in the run's JSON state), so that a
 * resumed run goes on bit for bit.
 *
 * @module
 */
import { type NamedTensor, tf } from "./deps.ts";

/** The prefix of the shadow weights in a run checkpoint. */
export const EMA_PREFIX = "ema.";

/** The decay used at update `n` (1-based): `min(decay, (1 + n)/(10 + n))`. */
export function emaDecayAt(decay: number, n: number): number {
  return Math.min(decay, (1 + n) / (10 + n));
}

/** An EMA of a set of named variables (borrowed); owns its shadow copies (`dispose()`). */
export class WeightEma {
  /** The target decay in (0, 1). */
  readonly decay: number;
  readonly #sources: Map<string, tf.Variable>;
  readonly #shadow = new Map<string, tf.Variable>();
  #updates = 0;

  /**
   * @param sources The variables to average, by the names their checkpoint uses (e.g.
   * `stages.0.input.weight`); the shadow starts as a copy of them.
   * @param decay The target decay, in (0, 1) (e.g. 0.999: about the last 1,000 updates).
   * @throws {RangeError} When `decay` is outside (0, 1) or there is nothing to average.
   *
   * @example
   * ```ts
   * import { initBackend, tf } from "./deps.ts";
   * import { WeightEma } from "./weight_ema.ts";
   * await initBackend({ quiet: true });
   * const w = tf.variable(tf.tensor1d([0]));
   * using ema = new WeightEma([["w", w]], 0.5);
   * w.assign(tf.tensor1d([1]));
   * ema.update(); // d_1 = min(0.5, 2/11)
   * console.log(((await ema.export()).get("ema.w")!.data as Float32Array)[0].toFixed(4)); // "0.8182"
   * w.dispose();
   * ```
   */
  constructor(sources: Iterable<[string, tf.Variable]>, decay: number) {
    if (typeof decay !== "number" || !(decay > 0 && decay < 1)) {
      throw new RangeError(
        `Cannot create a weight EMA as 'decay' must be a number in (0, 1): current value is ${decay}`,
      );
    }
    this.decay = decay;
    this.#sources = new Map(sources);
    if (this.#sources.size === 0) {
      throw new RangeError(`Cannot create a weight EMA as it was given no variables`);
    }
    for (const [name, v] of this.#sources) {
      const copy = v.clone();
      this.#shadow.set(name, tf.variable(copy, false));
      copy.dispose(); // the variable holds its own reference to the data
    }
  }

  /** Updates applied so far. */
  get updates(): number {
    return this.#updates;
  }

  /** Folds the variables' current values into the average (call after each optimizer step). */
  update(): void {
    const d = emaDecayAt(this.decay, this.#updates + 1);
    tf.tidy(() => {
      for (const [name, s] of this.#shadow) {
        const w = this.#sources.get(name)!;
        s.assign(tf.add(tf.mul(s, d), tf.mul(w, 1 - d)));
      }
    });
    this.#updates++;
  }

  /**
   * Copies the shadow weights out, as `ema.<name>`, for a run checkpoint.
   *
   * @returns Tensors by name (float32).
   */
  async export(): Promise<Map<string, NamedTensor>> {
    const out = new Map<string, NamedTensor>();
    for (const [name, s] of this.#shadow) {
      out.set(`${EMA_PREFIX}${name}`, {
        shape: [...s.shape],
        data: await s.data() as Float32Array,
      });
    }
    return out;
  }

  /**
   * Restores the shadow weights and the update count (e.g. from a run checkpoint).
   *
   * @param tensors Tensors that hold `ema.<name>` for every averaged variable (others ignored).
   * @param updates The update count the shadow was saved at.
   * @throws {RangeError} When a shadow tensor is missing or has another shape.
   */
  load(tensors: Map<string, NamedTensor>, updates: number): void {
    if (!Number.isInteger(updates) || updates < 0) {
      throw new RangeError(
        `Cannot restore a weight EMA as 'updates' must be an integer ≥ 0: current value is ${updates}`,
      );
    }
    const values = new Map<string, NamedTensor>();
    for (const [name, s] of this.#shadow) {
      const t = tensors.get(`${EMA_PREFIX}${name}`);
      if (!t) {
        throw new RangeError(`Cannot restore a weight EMA as '${EMA_PREFIX}${name}' is missing`);
      }
      if (t.shape.join(",") !== s.shape.join(",")) {
        throw new RangeError(
          `Cannot restore a weight EMA as '${EMA_PREFIX}${name}' has shape [${t.shape}], not [${s.shape}]`,
        );
      }
      values.set(name, t);
    }
    for (const [name, s] of this.#shadow) {
      const t = values.get(name)!;
      tf.tidy(() => s.assign(tf.tensor(Float32Array.from(t.data as ArrayLike<number>), s.shape)));
    }
    this.#updates = updates;
  }

  /**
   * Restores the average from a run checkpoint a job wrote with `emaUpdates: ema.updates` in its
   * state and the shadow tensors ({@link WeightEma.export}) among its tensors.
   *
   * @param checkpoint The checkpoint's `tensors` and `state`.
   * @returns Nothing.
   * @throws {RangeError} When the checkpoint holds no weight average.
   */
  restore(checkpoint: { tensors: Map<string, NamedTensor>; state: unknown }): void {
    const updates = (checkpoint.state as { emaUpdates?: number } | null)?.emaUpdates;
    if (updates === undefined) {
      throw new RangeError(`Cannot restore the weight average as the checkpoint holds none`);
    }
    this.load(checkpoint.tensors, updates);
  }

  /** Frees the shadow weights. */
  dispose(): void {
    for (const s of this.#shadow.values()) s.dispose();
    this.#shadow.clear();
  }

  /** Frees the shadow weights (`using`). */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
