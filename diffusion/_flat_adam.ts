/**
 * Private: Adam (Kingma & Ba 2015) over all variables at once. The gradients are gathered into one
 * flat vector and the update runs in plain JS, then each variable is assigned once: a handful of
 * kernels instead of ~15 per variable (tfjs's AdamOptimizer launch overhead dominates small models,
 * and wasm's Slice/SplitV of a long vector are slow).
 *
 * @module
 */
import { tf } from "./deps.ts";

/** Adam state for a fixed list of variables. */
export class FlatAdam {
  readonly #vars: tf.Variable[];
  readonly #m: Float32Array;
  readonly #v: Float32Array;
  #t = 0;

  constructor(
    vars: tf.Variable[],
    readonly learningRate: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = 1e-8,
  ) {
    this.#vars = vars;
    const size = vars.reduce((a, v) => a + v.size, 0);
    this.#m = new Float32Array(size);
    this.#v = new Float32Array(size);
  }

  /** Computes f's gradients and applies one Adam step; returns the loss value. */
  minimize(f: () => tf.Scalar): number {
    this.#t++;
    const { beta1: b1, beta2: b2, epsilon } = this;
    const lrT = this.learningRate * Math.sqrt(1 - b2 ** this.#t) / (1 - b1 ** this.#t);
    const [loss, g, p] = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(f, this.#vars);
      const flat = (ts: tf.Tensor[]) => tf.concat(ts.map((t) => tf.reshape(t, [-1])), 0).dataSync();
      return [
        value.dataSync()[0],
        flat(this.#vars.map((v) => grads[v.name] ?? tf.zerosLike(v))) as Float32Array,
        flat(this.#vars) as Float32Array,
      ];
    });
    const m = this.#m;
    const v = this.#v;
    for (let i = 0; i < g.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i]; // m ← β1 m + (1 − β1) g
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]; // v ← β2 v + (1 − β2) g²
      p[i] -= (lrT * m[i]) / (Math.sqrt(v[i]) + epsilon); // θ ← θ − α_t m / (√v + ε)
    }
    let offset = 0;
    for (const x of this.#vars) {
      const t = tf.tensor(p.subarray(offset, offset + x.size), x.shape, "float32");
      x.assign(t);
      t.dispose();
      offset += x.size;
    }
    return loss;
  }

  /** Frees the state (plain arrays: nothing to do; kept for symmetry). */
  dispose(): void {}
}
