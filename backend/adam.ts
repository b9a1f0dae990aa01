import { tf } from "./deps.ts";
import type { WasmBackend } from "./_wasm.ts";
import { onDevice } from "./_device.ts";
import { nativeEngineLib } from "./native_engine.ts";
import type { NativeBackend } from "./_engine_kernels.ts";

/** Options of {@linkcode createAdam} (defaults as `tf.train.adam`). */
export interface AdamOptions {
  /** Step size (default 0.001). */
  learningRate?: number;
  /** First-moment decay (default 0.9). */
  beta1?: number;
  /** Second-moment decay (default 0.999). */
  beta2?: number;
  /** Added to √v̂ (default: the backend's epsilon, 1e-7 on cpu and wasm). */
  epsilon?: number;
}

/** Everything {@linkcode Adam} needs to resume: step count and moments by variable name. */
export interface AdamState {
  /** Steps taken. */
  iterations: number;
  /** First and second moment estimates per variable name (copies). */
  moments: Record<string, { m: Float32Array; v: Float32Array }>;
}

/** The optimizer {@linkcode createAdam} returns. */
export interface Adam {
  /** Steps taken. */
  readonly iterations: number;
  /**
   * Computes `f`'s gradients with respect to `variables` and takes one step.
   *
   * @returns The loss, owned by the caller.
   */
  minimize(f: () => tf.Scalar, variables: tf.Variable[]): tf.Scalar;
  /**
   * One step with the given gradients (borrowed), one per variable, in order; `options.learningRate`
   * overrides the step size for this step only (learning-rate schedules).
   */
  applyGradients(
    variables: tf.Variable[],
    gradients: tf.Tensor[],
    options?: { learningRate?: number },
  ): void;
  /**
   * A copy of the state, for checkpoints (store `m` and `v` next to the weights). Reads moments
   * kept on a device synchronously: on webgpu under Deno use {@linkcode Adam.readState}.
   */
  getState(): AdamState;
  /** The same copy as {@linkcode Adam.getState}, read with `await tensor.data()` (any backend). */
  readState(): Promise<AdamState>;
  /**
   * Resumes from a state `getState` returned (copied in; variables are matched by name).
   *
   * @throws {RangeError} When `iterations` is not a non-negative integer or `m`/`v` differ in
   * length.
   */
  setState(state: AdamState): void;
  /** Frees the moment estimates. */
  dispose(): void;
  [Symbol.dispose](): void;
}

/**
 * Adam (Kingma & Ba 2015) computed in one JavaScript pass per variable instead of tfjs's ~10
 * kernel calls per variable and step: the same update as `tf.train.adam` (same bias correction
 * and epsilon placement, so the two agree to float32 rounding), with the moment estimates kept in
 * plain `Float32Array`s (not tensors). On the wasm backend the weights and gradients are read in
 * place on the wasm heap and the new weights written straight into a new heap tensor, which the
 * variable is then assigned (tensors stay immutable: anything that shared the old value keeps
 * it); on cpu they go through `dataSync`/`tf.tensor`. For the 1.9 M-weight reference
 * UNet this replaces ~1,400 kernel calls per step. On device backends (webgpu, tensorflow) the
 * moments are device tensors and the update is composed from the backend's kernels (the same
 * formula), so a step reads nothing back to the host.
 *
 * @param options See {@linkcode AdamOptions}.
 * @returns The optimizer (dispose it to drop its state).
 *
 * @example
 * ```ts
 * import { tf } from "./deps.ts";
 * import { createAdam } from "./adam.ts";
 * await tf.setBackend("cpu");
 * const w = tf.variable(tf.tensor1d([1, -2]));
 * using adam = createAdam({ learningRate: 0.1 });
 * tf.dispose(adam.minimize(() => tf.sum(tf.square(w)), [w]));
 * console.log(Array.from(w.dataSync()).map((x) => x.toFixed(1))); // ["0.9", "-1.9"]
 * w.dispose();
 * ```
 */
export function createAdam(options: AdamOptions = {}): Adam {
  const { learningRate: baseLearningRate = 0.001, beta1 = 0.9, beta2 = 0.999 } = options;
  checkAdamOptions(baseLearningRate, beta1, beta2);
  const store = createMomentStore();
  let iterations = 0;
  let accBeta1 = beta1, accBeta2 = beta2;

  const applyGradients = (
    variables: tf.Variable[],
    gradients: tf.Tensor[],
    stepOptions: { learningRate?: number } = {},
  ) => {
    const learningRate = stepOptions.learningRate ?? baseLearningRate;
    checkStep(learningRate, variables, gradients);
    const epsilon = options.epsilon ?? tf.backend().epsilon();
    const c1 = 1 - accBeta1, c2 = 1 - accBeta2;
    const coefficients: StepCoefficients = {
      beta1,
      beta2,
      stepOverC1: learningRate / c1,
      invC2: 1 / c2,
      epsilon,
    };
    const device = onDevice();
    for (let k = 0; k < variables.length; k++) {
      const variable = variables[k], grad = gradients[k];
      if (variable.dtype !== "float32" || !tf.util.arraysEqual(variable.shape, grad.shape)) {
        throw new RangeError(
          `Cannot apply gradients as gradient ${k} must be float32 [${variable.shape}]: current ` +
            `shape is [${grad.shape}]`,
        );
      }
      if (device) deviceStep(variable, grad, store.deviceState(variable), coefficients);
      else hostStep(variable, grad, store.hostState(variable), coefficients);
    }
    iterations++;
    accBeta1 *= beta1;
    accBeta2 *= beta2;
  };

  const minimize = (f: () => tf.Scalar, variables: tf.Variable[]) => {
    const { value, grads } = tf.variableGrads(f, variables);
    try {
      applyGradients(variables, variables.map((v) => grads[v.name]));
    } finally {
      tf.dispose(grads);
    }
    return value;
  };

  const setState = (state: AdamState) => {
    checkAdamState(state);
    store.replace(state.moments);
    iterations = state.iterations;
    // The same products as the steps formed (β^(n+1) by powering can differ in the last bit),
    // so that a resumed optimizer continues bit for bit.
    accBeta1 = accumulatedPower(beta1, iterations);
    accBeta2 = accumulatedPower(beta2, iterations);
  };
  return {
    get iterations() {
      return iterations;
    },
    minimize,
    applyGradients,
    getState: () => ({ iterations, moments: store.copy() }),
    readState: async () => ({ iterations, moments: await store.read() }),
    setState,
    dispose: store.clear,
    [Symbol.dispose]: store.clear,
  };
}

/** Throws a RangeError naming the first of `learningRate`, `beta1`, `beta2` out of range. */
function checkAdamOptions(learningRate: number, beta1: number, beta2: number): void {
  for (const [name, value] of Object.entries({ learningRate, beta1, beta2 })) {
    if (!Number.isFinite(value) || value < 0 || (name !== "learningRate" && value >= 1)) {
      throw new RangeError(
        `Cannot create Adam as '${name}' must be ${
          name === "learningRate" ? "a finite number ≥ 0" : "in [0, 1)"
        }: current value is ${value}`,
      );
    }
  }
}

/** Throws a RangeError when a step's `learningRate` or gradient count is invalid. */
function checkStep(learningRate: number, variables: tf.Variable[], gradients: tf.Tensor[]): void {
  if (!Number.isFinite(learningRate) || learningRate < 0) {
    throw new RangeError(
      `Cannot apply gradients as 'learningRate' must be a finite number ≥ 0: current value is ${learningRate}`,
    );
  }
  if (variables.length !== gradients.length) {
    throw new RangeError(
      `Cannot apply gradients as 'gradients' must have one tensor per variable: current length ` +
        `is ${gradients.length}, variables ${variables.length}`,
    );
  }
}

/** Throws a RangeError when `state` cannot be resumed from. */
function checkAdamState(state: AdamState): void {
  if (!Number.isInteger(state.iterations) || state.iterations < 0) {
    throw new RangeError(
      `Cannot set Adam state as 'iterations' must be a non-negative integer: current value ` +
        `is ${state.iterations}`,
    );
  }
  for (const [name, { m, v }] of Object.entries(state.moments)) {
    if (m.length !== v.length) {
      throw new RangeError(
        `Cannot set Adam state as 'moments.${name}' must have m and v of one length: current ` +
          `lengths are ${m.length} and ${v.length}`,
      );
    }
  }
}

/** `beta`^(n+1) formed as the steps form it: one multiplication per step. */
function accumulatedPower(beta: number, n: number): number {
  let acc = beta;
  for (let i = 0; i < n; i++) acc *= beta;
  return acc;
}

/** The constants of one Adam step (the learning rate and bias corrections folded in). */
interface StepCoefficients {
  beta1: number;
  beta2: number;
  /** α / (1 − β1^t). */
  stepOverC1: number;
  /** 1 / (1 − β2^t). */
  invC2: number;
  epsilon: number;
}

/** The moment estimates of every variable, on the host or (device backends) as variables. */
interface MomentStore {
  /** The host moments of `variable` (pulled off the device, or zeros when absent or resized). */
  hostState(variable: tf.Variable): { m: Float32Array; v: Float32Array };
  /** The device moments of `variable`, made from the host copy (e.g. after setState) or zeros. */
  deviceState(variable: tf.Variable): { m: tf.Variable; v: tf.Variable };
  /** A copy of all moments, read synchronously. */
  copy(): AdamState["moments"];
  /** A copy of all moments, read with `await tensor.data()`. */
  read(): Promise<AdamState["moments"]>;
  /** Drops everything and copies `moments` in. */
  replace(moments: AdamState["moments"]): void;
  /** Drops everything. */
  clear(): void;
}

function createMomentStore(): MomentStore {
  // Keyed by variable name, so that a state restored from a checkpoint finds rebuilt variables.
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  // On device backends: the moments as (non-trainable) variables, by the same names.
  const deviceMoments = new Map<string, { m: tf.Variable; v: tf.Variable }>();

  const deviceState = (variable: tf.Variable) => {
    const { name, shape } = variable, n = variable.size;
    let dm = deviceMoments.get(name);
    if (dm !== undefined && dm.m.size === n) return dm;
    dm?.m.dispose();
    dm?.v.dispose();
    const host = moments.get(name);
    const from = (a: Float32Array | undefined) =>
      tf.tidy(() =>
        tf.variable(a && a.length === n ? tf.tensor(a, shape) : tf.zeros(shape), false)
      );
    dm = { m: from(host?.m), v: from(host?.v) };
    moments.delete(name);
    deviceMoments.set(name, dm);
    return dm;
  };
  /** Moves the device moments of `name` (if any) to the host copy (a step off the device). */
  const pullToHost = (name: string) => {
    const dm = deviceMoments.get(name);
    if (dm === undefined) return;
    moments.set(name, {
      m: Float32Array.from(dm.m.dataSync()),
      v: Float32Array.from(dm.v.dataSync()),
    });
    dm.m.dispose();
    dm.v.dispose();
    deviceMoments.delete(name);
  };
  const hostState = (variable: tf.Variable) => {
    const n = variable.size;
    pullToHost(variable.name);
    let state = moments.get(variable.name);
    if (state === undefined || state.m.length !== n) {
      state = { m: new Float32Array(n), v: new Float32Array(n) };
      moments.set(variable.name, state);
    }
    return state;
  };
  const hostCopy = () => {
    const out: AdamState["moments"] = {};
    for (const [name, { m, v }] of moments) out[name] = { m: m.slice(), v: v.slice() };
    return out;
  };
  const copy = () => {
    const out = hostCopy();
    for (const [name, { m, v }] of deviceMoments) {
      out[name] = { m: Float32Array.from(m.dataSync()), v: Float32Array.from(v.dataSync()) };
    }
    return out;
  };
  const read = async () => {
    const out = hostCopy();
    for (const [name, { m, v }] of deviceMoments) {
      const [md, vd] = await Promise.all([m.data(), v.data()]);
      out[name] = { m: Float32Array.from(md), v: Float32Array.from(vd) };
    }
    return out;
  };
  const clear = () => {
    moments.clear();
    for (const { m, v } of deviceMoments.values()) tf.dispose([m, v]);
    deviceMoments.clear();
  };
  const replace = (from: AdamState["moments"]) => {
    clear();
    for (const [name, { m, v }] of Object.entries(from)) {
      moments.set(name, { m: Float32Array.from(m), v: Float32Array.from(v) });
    }
  };
  return { hostState, deviceState, copy, read, replace, clear };
}

/** One step of `variable` on a device backend: moments and weights updated by tfjs kernels. */
function deviceStep(
  variable: tf.Variable,
  grad: tf.Tensor,
  dm: { m: tf.Variable; v: tf.Variable },
  c: StepCoefficients,
): void {
  tf.tidy(() => {
    const [mi, vi, next] = updateOps(
      variable,
      grad,
      dm.m,
      dm.v,
      c.beta1,
      c.beta2,
      c.stepOverC1,
      c.invC2,
      c.epsilon,
    );
    dm.m.assign(mi);
    dm.v.assign(vi);
    variable.assign(next);
  });
}

/**
 * One step of `variable` with host moments: in place on the wasm heap, in the native engine's
 * arrays (its threaded C update), or through `dataSync`/`tf.tensor` on cpu.
 */
function hostStep(
  variable: tf.Variable,
  grad: tf.Tensor,
  state: { m: Float32Array; v: Float32Array },
  c: StepCoefficients,
): void {
  const n = variable.size;
  const { m, v } = state;
  const lib = nativeEngineLib(); // the native engine: the same update in C, threaded
  let info: tf.TensorInfo | null = null;
  let out: Float32Array;
  let p: Float32Array, g: Float32Array;
  if (tf.getBackend() === "wasm") {
    const wasm = tf.backend() as unknown as WasmBackend;
    info = wasm.makeOutput([...variable.shape], "float32");
    // Views made after the allocation (it may grow the heap and replace its buffer).
    const buffer = wasm.wasm.HEAPU8.buffer;
    const at = (t: tf.TensorInfo) =>
      new Float32Array(buffer, wasm.dataIdMap.get(t.dataId)!.memoryOffset, n);
    out = at(info);
    p = at(variable);
    g = at(grad);
  } else if (lib !== undefined) {
    // The native engine: its arrays in place, the new weights into one from its pool.
    const be = tf.backend() as unknown as NativeBackend;
    info = be.makeOwned([...variable.shape]);
    out = be.valuesOf(info);
    p = be.valuesOf(variable);
    g = be.valuesOf(grad);
  } else {
    out = new Float32Array(n);
    p = variable.dataSync() as Float32Array;
    g = grad.dataSync() as Float32Array;
  }
  const { beta1, beta2, stepOverC1, invC2, epsilon } = c;
  if (lib !== undefined) {
    lib.nk_adam(p, g, m, v, out, n, beta1, beta2, stepOverC1, invC2, epsilon);
  } else update(p, g, m, v, out, n, beta1, beta2, stepOverC1, invC2, epsilon);
  const value = info !== null
    ? tf.engine().makeTensorFromTensorInfo(info)
    : tf.tensor(out, variable.shape, "float32");
  variable.assign(value);
  value.dispose();
}

/** The Adam update of one variable (a separate function so the JIT sees one monomorphic loop). */
function update(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  out: Float32Array,
  n: number,
  beta1: number,
  beta2: number,
  stepOverC1: number,
  invC2: number,
  epsilon: number,
): void {
  const b1 = 1 - beta1, b2 = 1 - beta2;
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + b1 * gi; // m_t
    const vi = beta2 * v[i] + b2 * gi * gi; // v_t
    m[i] = mi;
    v[i] = vi;
    // θ_t = θ_{t−1} − α · m̂_t / (√v̂_t + ε), m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t)
    out[i] = p[i] - stepOverC1 * mi / (Math.sqrt(vi * invC2) + epsilon);
  }
}

/**
 * {@linkcode update} composed from tfjs kernels (device backends): returns m_t, v_t and θ_t.
 * Call inside `tf.tidy`.
 */
function updateOps(
  p: tf.Tensor,
  g: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  beta1: number,
  beta2: number,
  stepOverC1: number,
  invC2: number,
  epsilon: number,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const mi = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)); // m_t
  const vi = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)); // v_t
  // θ_t = θ_{t−1} − α · m̂_t / (√v̂_t + ε), m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t)
  const next = tf.sub(
    p,
    tf.div(tf.mul(mi, stepOverC1), tf.add(tf.sqrt(tf.mul(vi, invC2)), epsilon)),
  );
  return [mi, vi, next];
}
