/**
 * Private: a named store of trainable tf.Variables with seeded, backend-independent
 * initialisation, and the shared export/import used by checkpoints.
 *
 * @module
 */
import { type HalfDType, HalfTensor, Rng, tf } from "../deps.ts";
import type { NamedTensor } from "../io/safetensors.ts";

/** How a parameter starts. */
export type Init = "zeros" | "ones" | { std: number };

/** Named variables owned by one model. */
export class ParamStore {
  readonly vars: Map<string, tf.Variable> = new Map();
  /** Parameters frozen in 16 bits ({@link ParamStore.storeHalf}); none are in `vars`. */
  readonly halves: Map<string, HalfTensor> = new Map();
  readonly #rng: Rng;
  readonly #trainable: boolean;

  readonly #dry: boolean;
  #dryCount = 0;

  /**
   * @param seed Seed of the initialisation.
   * @param trainable Whether the variables are trainable.
   * @param dry Count parameters without allocating anything (for parameter counts of huge models).
   */
  constructor(seed: number, trainable = true, dry = false) {
    this.#rng = new Rng(seed);
    this.#trainable = trainable;
    this.#dry = dry;
  }

  /** Creates a parameter. */
  add(name: string, shape: number[], init: Init): tf.Variable {
    if (this.vars.has(name)) throw new Error(`Parameter '${name}' is defined twice`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (this.#dry) {
      this.#dryCount += n;
      return null as unknown as tf.Variable;
    }
    const data = init === "zeros"
      ? new Float32Array(n)
      : init === "ones"
      ? new Float32Array(n).fill(1)
      : this.#rng.normals(n, init.std);
    const t = tf.tensor(data, shape, "float32");
    const v = tf.variable(t, this.#trainable);
    t.dispose();
    this.vars.set(name, v);
    return v;
  }

  /** Returns a parameter by name. */
  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`Unknown parameter '${name}'`);
    return v;
  }

  /**
   * A parameter as a tensor for an op: the variable, or a 16-bit parameter widened to float32
   * (owned by the caller's `tf.tidy`, so the float32 copy lives only as long as that scope).
   */
  tensor(name: string): tf.Tensor {
    const h = this.halves.get(name);
    return h !== undefined ? h.widen() : this.get(name);
  }

  /**
   * Re-stores every parameter in 16 bits (frozen: no longer in `vars`, so nothing trains it),
   * freeing the float32 variables: the store then costs half its float32 bytes.
   */
  async storeHalf(dtype: HalfDType): Promise<void> {
    for (const [name, v] of [...this.vars]) {
      const data = (await v.data()) as Float32Array;
      this.halves.set(name, HalfTensor.fromValues(data, v.shape, { dtype }));
      v.dispose();
      this.vars.delete(name);
    }
  }

  /** Number of scalar parameters. */
  count(): number {
    let n = this.#dryCount;
    for (const v of this.vars.values()) n += v.size;
    for (const h of this.halves.values()) n += h.size;
    return n;
  }

  /** Copies every parameter out (for checkpoints). */
  async export(prefix = ""): Promise<Map<string, NamedTensor>> {
    const out = new Map<string, NamedTensor>();
    for (const [name, v] of this.vars) {
      out.set(prefix + name, { shape: [...v.shape], data: (await v.data()) as Float32Array });
    }
    for (const [name, h] of this.halves) {
      const t = tf.tidy(() => h.widen());
      out.set(prefix + name, { shape: [...h.shape], data: (await t.data()) as Float32Array });
      t.dispose();
    }
    return out;
  }

  /**
   * Assigns every parameter from `tensors` (names with `prefix`). A missing tensor or a shape
   * mismatch throws naming the tensor; extra tensors under the prefix are reported too.
   */
  import(tensors: Map<string, NamedTensor>, prefix = "", what = "the model"): void {
    const shapes = new Map<string, readonly number[]>();
    for (const [name, v] of this.vars) shapes.set(name, v.shape);
    for (const [name, h] of this.halves) shapes.set(name, h.shape);
    for (const [name, shape] of shapes) {
      const v = { shape };
      const t = tensors.get(prefix + name);
      if (!t) {
        throw new RangeError(
          `Cannot load ${what} as tensor '${
            prefix + name
          }' is missing (expected shape [${v.shape}])`,
        );
      }
      if (t.shape.join() !== v.shape.join()) {
        throw new RangeError(
          `Cannot load ${what} as tensor '${
            prefix + name
          }' has shape [${t.shape}] but the model expects [${v.shape}]`,
        );
      }
    }
    for (const key of tensors.keys()) {
      if (key.startsWith(prefix) && !shapes.has(key.slice(prefix.length))) {
        throw new RangeError(
          `Cannot load ${what} as tensor '${key}' is not a parameter of the model`,
        );
      }
    }
    for (const [name, v] of this.vars) {
      const t = tensors.get(prefix + name)!;
      const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
      tf.tidy(() => v.assign(tf.tensor(data, v.shape, "float32")));
    }
    for (const [name, h] of this.halves) {
      const t = tensors.get(prefix + name)!;
      this.halves.set(name, HalfTensor.fromValues(t.data, h.shape, { dtype: h.dtype }));
      h.dispose();
    }
  }

  /** Frees every variable. */
  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    for (const h of this.halves.values()) h.dispose();
    this.halves.clear();
  }
}
