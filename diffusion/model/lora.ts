/**
 * LoRA, low-rank adaptation (Hu et al. 2021, Eq. 3): a frozen layer `h = W x` becomes
 * `h = W x + s · (α / r) · B A x` with a trainable down-projection `A` (rank r) and an
 * up-projection `B` that starts at zero, so the adapted model starts equal to the base model.
 * One implementation for every model here: the cascade's UNets (attention projections, optionally
 * the convolutions, LoCon-style: a k×k down convolution then a 1×1 up projection), the T5 text
 * encoder, and deepfloyd/'s IF UNet. Adapters are stored in the PEFT/diffusers layout
 * (`down` `[r, in]`, `up` `[out, r]`; convolutions `down` `[k, k, in, r]`), and merge exactly into
 * the base weight (`mergeInto`).
 *
 * @module
 */
import { tf } from "../deps.ts";
import { ParamStore } from "./_params.ts";
import type { NamedTensor } from "../io/safetensors.ts";
import { oneOf, positiveInt } from "../_validate.ts";

/** Which layers get adapters: the attention projections, or those and the convolutions. */
export const LORA_TARGETS = ["attn", "attn+conv"] as const;
/** One of {@link LORA_TARGETS}. */
export type LoRATargets = typeof LORA_TARGETS[number];

/** The settings of a set of adapters. */
export interface LoRAConfig {
  /** r, the rank of every adapter. Default 4. */
  readonly rank: number;
  /** α: the update is scaled by α / r. Default the rank (factor 1, as diffusers). */
  readonly alpha: number;
  /** Which layers are adapted. Default "attn". */
  readonly targets: LoRATargets;
}

/**
 * Merges options over the defaults and validates them.
 *
 * @param options Any subset of {@link LoRAConfig}.
 * @returns A new frozen config.
 *
 * @example
 * ```ts
 * import { createLoRAConfig } from "./lora.ts";
 * console.log(createLoRAConfig({ rank: 8 }).alpha); // 8
 * ```
 */
export function createLoRAConfig(options: Partial<LoRAConfig> = {}): LoRAConfig {
  const act = "create a LoRA config";
  const rank = positiveInt(act, "rank", options.rank ?? 4);
  const alpha = options.alpha ?? rank;
  if (typeof alpha !== "number" || !Number.isFinite(alpha) || alpha <= 0) {
    throw new RangeError(
      `Cannot ${act} as 'alpha' must be a finite number > 0: current value is ${alpha}`,
    );
  }
  const targets = oneOf(act, "targets", options.targets ?? "attn", LORA_TARGETS);
  return Object.freeze({ rank, alpha, targets });
}

/** A layer an adapter attaches to: its name and the base weight's shape and layout. */
export interface LoRATarget {
  /** The layer's name (its weight is `<name>.weight`). */
  readonly name: string;
  /**
   * `in-out`: a linear weight `[in, out]` (x @ W); `out-in`: a linear weight `[out, in]` (PyTorch);
   * `conv`: a convolution filter `[k, k, in, out]` (NHWC).
   */
  readonly layout: "in-out" | "out-in" | "conv";
  /** The base weight's shape. */
  readonly shape: readonly number[];
}

/**
 * The adapter's part of a linear layer (Eq. 3 of Hu et al.): `factor · (x Aᵀ) Bᵀ`.
 *
 * @param x Input `[..., in]` (borrowed).
 * @param down A `[r, in]`.
 * @param up B `[out, r]`.
 * @param factor s · α / r.
 * @returns `[..., out]`, owned by the caller.
 */
export function loraLinearDelta(
  x: tf.Tensor,
  down: tf.Tensor,
  up: tf.Tensor,
  factor: number,
): tf.Tensor {
  return tf.tidy(() => {
    const flat = tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D;
    const h = tf.matMul(flat, down as tf.Tensor2D, false, true); // [N, r]
    const d = tf.matMul(h, up as tf.Tensor2D, false, true); // [N, out]
    return tf.reshape(tf.mul(d, factor), [...x.shape.slice(0, -1), up.shape[0]]);
  });
}

/**
 * The adapter's part of a "same"-padded stride-1 convolution: `factor · B (A ∗ x)`, A a k×k
 * convolution to r channels and B a 1×1 projection.
 *
 * @param x Input `[B, H, W, in]` (borrowed).
 * @param down A `[k, k, in, r]`.
 * @param up B `[out, r]`.
 * @param factor s · α / r.
 * @returns `[B, H, W, out]`, owned by the caller.
 */
export function loraConvDelta(
  x: tf.Tensor4D,
  down: tf.Tensor,
  up: tf.Tensor,
  factor: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const h = tf.conv2d(x, down as tf.Tensor4D, 1, "same"); // [B, H, W, r]
    const r = down.shape[3] as number;
    const d = tf.matMul(tf.reshape(h, [-1, r]) as tf.Tensor2D, up as tf.Tensor2D, false, true); // [N, out]
    const [b, hh, ww] = x.shape;
    return tf.reshape(tf.mul(d, factor), [b, hh, ww, up.shape[0]]) as tf.Tensor4D;
  });
}

/**
 * The weight update ΔW = factor · B A in the base weight's layout (what merging adds).
 *
 * @param target The adapted layer.
 * @param down A.
 * @param up B.
 * @param factor s · α / r.
 * @returns ΔW with the base weight's shape, owned by the caller.
 */
export function loraWeightDelta(
  target: LoRATarget,
  down: tf.Tensor,
  up: tf.Tensor,
  factor: number,
): tf.Tensor {
  return tf.tidy(() => {
    if (target.layout === "out-in") {
      return tf.mul(tf.matMul(up as tf.Tensor2D, down as tf.Tensor2D), factor); // [out, in]
    }
    const r = up.shape[1] as number;
    const a = target.layout === "conv" ? tf.reshape(down, [-1, r]) : tf.transpose(down); // [K, r]
    const d = tf.mul(tf.matMul(a as tf.Tensor2D, up as tf.Tensor2D, false, true), factor); // [K, out]
    return tf.reshape(d, [...target.shape]);
  });
}

/** Names of an adapter's two tensors. */
function partNames(name: string): { down: string; up: string } {
  return { down: `${name}.lora_down.weight`, up: `${name}.lora_up.weight` };
}

/**
 * A set of trainable LoRA adapters on named layers of one model; owns its variables (`dispose()`).
 * The model calls {@link LoRASet.apply} on each layer's output; the trainer trains
 * {@link LoRASet.variables} only (the base weights stay frozen).
 */
export class LoRASet {
  /** The settings. */
  readonly config: LoRAConfig;
  /** The adapted layers by name. */
  readonly targets: ReadonlyMap<string, LoRATarget>;
  /** The adapters' parameters (`<layer>.lora_down.weight`, `<layer>.lora_up.weight`). */
  readonly params: ParamStore;
  /** s: multiplies every update at inference (`--lora-scale`; 0 = the base model). Default 1. */
  scale = 1;

  /**
   * Adds fresh adapters: A ~ N(0, 1/r²) (seeded; diffusers' init), B = 0.
   *
   * @param targets The layers to adapt.
   * @param options `config` (any subset of {@link LoRAConfig}), `seed` (default 0).
   *
   * @example
   * ```ts
   * import { initBackend } from "../../backend/mod.ts";
   * await initBackend({ quiet: true });
   * import { LoRASet } from "./lora.ts";
   * using set = new LoRASet([{ name: "q", layout: "in-out", shape: [8, 8] }], { config: { rank: 2 } });
   * console.log(set.numParams); // 32
   * ```
   */
  constructor(
    targets: readonly LoRATarget[],
    options: { config?: Partial<LoRAConfig>; seed?: number } = {},
  ) {
    const c = this.config = createLoRAConfig(options.config);
    if (targets.length === 0) {
      throw new RangeError(`Cannot add LoRA adapters as the model has no layer of '${c.targets}'`);
    }
    this.targets = new Map(targets.map((t) => [t.name, t]));
    const p = this.params = new ParamStore(options.seed ?? 0, true);
    const r = c.rank;
    for (const t of targets) {
      const names = partNames(t.name);
      const [outDim, downShape] = t.layout === "conv"
        ? [t.shape[3], [t.shape[0], t.shape[1], t.shape[2], r]]
        : t.layout === "in-out"
        ? [t.shape[1], [r, t.shape[0]]]
        : [t.shape[0], [r, t.shape[1]]];
      p.add(names.down, downShape, { std: 1 / r });
      p.add(names.up, [outDim, r], "zeros");
    }
  }

  /** α / r. */
  get factor(): number {
    return this.config.alpha / this.config.rank;
  }

  /** Number of scalar parameters of the adapters. */
  get numParams(): number {
    return this.params.count();
  }

  /** The trainable variables. */
  get variables(): tf.Variable[] {
    return [...this.params.vars.values()];
  }

  /** Whether a layer is adapted. */
  has(name: string): boolean {
    return this.targets.has(name);
  }

  /**
   * A layer's output plus its adapter's update at the current scale (`y` itself when the layer
   * has no adapter or the scale is 0).
   *
   * @param name The layer.
   * @param x The layer's input (`[..., in]`, or `[B, H, W, in]` for a convolution).
   * @param y The base layer's output.
   * @returns y + s · (α / r) · B A x.
   */
  apply<T extends tf.Tensor>(name: string, x: tf.Tensor, y: T): T {
    const t = this.targets.get(name);
    if (t === undefined || this.scale === 0) return y;
    const n = partNames(name);
    const down = this.params.get(n.down), up = this.params.get(n.up);
    const f = this.scale * this.factor;
    const d = t.layout === "conv"
      ? loraConvDelta(x as tf.Tensor4D, down, up, f)
      : loraLinearDelta(x, down, up, f);
    return tf.add(y, d) as T;
  }

  /**
   * ΔW of every adapter at the current scale (for merging into the base weights).
   *
   * @returns ΔW by layer name, owned by the caller.
   */
  weightDeltas(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, t] of this.targets) {
      const n = partNames(name);
      out.set(
        name,
        loraWeightDelta(
          t,
          this.params.get(n.down),
          this.params.get(n.up),
          this.scale * this.factor,
        ),
      );
    }
    return out;
  }

  /**
   * Adds every ΔW (at the current scale) to the base weights `<layer>.weight` of a parameter
   * store, in place.
   *
   * @param base The model's parameters.
   */
  mergeInto(base: ParamStore): void {
    const deltas = this.weightDeltas();
    try {
      for (const [name, d] of deltas) {
        const w = base.get(`${name}.weight`);
        tf.tidy(() => w.assign(tf.add(w, d)));
      }
    } finally {
      tf.dispose([...deltas.values()]);
    }
  }

  /** Copies the adapters out (names with `prefix`). */
  export(prefix = ""): Promise<Map<string, NamedTensor>> {
    return this.params.export(prefix);
  }

  /** Loads adapters saved by {@link LoRASet.export}; a missing or mis-shaped tensor throws naming it. */
  import(tensors: Map<string, NamedTensor>, prefix = ""): void {
    this.params.import(tensors, prefix, "the LoRA adapters");
  }

  /** Frees the adapters. */
  dispose(): void {
    this.params.dispose();
  }

  /** Frees the adapters (`using`). */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
