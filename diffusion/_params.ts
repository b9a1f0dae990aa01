/**
 * Private: a named store of trainable tf.Variables with seeded, backend-independent
 * initialisation, and the shared export/import used by checkpoints.
 *
 * @module
 */
import { tf } from "./deps.ts";
import { Rng } from "./rng.ts";
import type { NamedTensor } from "./safetensors.ts";

/** How a parameter starts. */
export type Init = "zeros" | "ones" | { std: number };

/** Named variables owned by one model. */
export class ParamStore {
  readonly vars: Map<string, tf.Variable> = new Map();
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

  /** Number of scalar parameters. */
  count(): number {
    let n = this.#dryCount;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** Copies every parameter out (for checkpoints). */
  async export(prefix = ""): Promise<Map<string, NamedTensor>> {
    const out = new Map<string, NamedTensor>();
    for (const [name, v] of this.vars) {
      out.set(prefix + name, { shape: [...v.shape], data: (await v.data()) as Float32Array });
    }
    return out;
  }

  /**
   * Assigns every parameter from `tensors` (names with `prefix`). A missing tensor or a shape
   * mismatch throws naming the tensor; extra tensors under the prefix are reported too.
   */
  import(tensors: Map<string, NamedTensor>, prefix = "", what = "the model"): void {
    for (const [name, v] of this.vars) {
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
      if (key.startsWith(prefix) && !this.vars.has(key.slice(prefix.length))) {
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
  }

  /** Frees every variable. */
  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
