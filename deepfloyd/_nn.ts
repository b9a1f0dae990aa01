/**
 * Private layers of deepfloyd/ in diffusers' conventions, on NHWC tensors of rank ≤ 4. Weights keep
 * PyTorch's names; linear weights keep PyTorch's `[out, in]` layout, convolution weights arrive
 * already transposed to tfjs's `[kh, kw, in, out]` (see `IFUNet`).
 *
 * @module
 */
import { groupNorm, tf } from "./deps.ts";

/** A read-only view of weights by PyTorch name. */
export type Weights = ReadonlyMap<string, tf.Tensor>;

/** The weight `name`, or a RangeError naming it. */
export function weight(w: Weights, name: string): tf.Tensor {
  const t = w.get(name);
  if (!t) throw new RangeError(`Cannot run the model as weight '${name}' is missing`);
  return t;
}

/** x Wᵀ + b over the last axis for a PyTorch `nn.Linear` named `name` (bias when present). */
export function linear(w: Weights, name: string, x: tf.Tensor): tf.Tensor {
  const wt = weight(w, `${name}.weight`) as tf.Tensor2D;
  const inDim = x.shape[x.rank - 1];
  const flat = tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
  let y: tf.Tensor = tf.matMul(flat, wt, false, true);
  const b = w.get(`${name}.bias`);
  if (b) y = tf.add(y, b);
  return tf.reshape(y, [...x.shape.slice(0, -1), wt.shape[0]]);
}

/** Stride-1 "same" convolution of a PyTorch `nn.Conv2d` (odd kernel, padding (k−1)/2). */
export function conv(w: Weights, name: string, x: tf.Tensor4D): tf.Tensor4D {
  return tf.fused.conv2d({
    x,
    filter: weight(w, `${name}.weight`) as tf.Tensor4D,
    strides: 1,
    pad: "same",
    bias: w.get(`${name}.bias`),
  });
}

/** PyTorch `nn.GroupNorm` on `[B, H, W, C]`. */
export function groupNormOf(
  w: Weights,
  name: string,
  x: tf.Tensor4D,
  groups: number,
  eps: number,
): tf.Tensor4D {
  return groupNorm(
    x,
    weight(w, `${name}.weight`) as tf.Tensor1D,
    weight(w, `${name}.bias`) as tf.Tensor1D,
    { groups, epsilon: eps },
  );
}

/** PyTorch `nn.LayerNorm` over the last axis (biased variance). */
export function layerNorm(w: Weights, name: string, x: tf.Tensor, eps = 1e-5): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, weight(w, `${name}.weight`)), weight(w, `${name}.bias`));
}

/** The activations diffusers' `get_activation` names that IF configs use. */
export type Activation = "gelu" | "silu" | "swish" | "mish" | "relu";

/** Applies an activation: GELU is PyTorch's exact erf form. */
export function activate<T extends tf.Tensor>(x: T, act: Activation): T {
  switch (act) {
    case "gelu":
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))) as T;
    case "silu":
    case "swish":
      return tf.mul(x, tf.sigmoid(x)) as T;
    case "mish":
      return tf.mul(x, tf.tanh(tf.softplus(x))) as T;
    case "relu":
      return tf.relu(x) as T;
  }
}

/**
 * Multi-head attention softmax(q kᵀ · scale) v on `[B, N, H·D]` queries and `[B, M, H·D]`
 * keys/values; heads are contiguous `D`-wide slices of the channels, as in diffusers.
 */
export function multiHeadAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  heads: number,
  scale: number,
): tf.Tensor3D {
  const [b, n, hd] = q.shape as number[];
  const m = k.shape[1] as number;
  const d = hd / heads;
  const split = (x: tf.Tensor, len: number) =>
    tf.reshape(tf.transpose(tf.reshape(x, [b, len, heads, d]), [0, 2, 1, 3]), [b * heads, len, d]);
  const scores = tf.matMul(split(tf.mul(q, scale), n) as tf.Tensor3D, split(k, m), false, true);
  const out = tf.matMul(tf.softmax(scores), split(v, m)); // [B·H, N, D]
  return tf.reshape(tf.transpose(tf.reshape(out, [b, heads, n, d]), [0, 2, 1, 3]), [
    b,
    n,
    hd,
  ]) as tf.Tensor3D;
}

/** 2×2 average pooling, stride 2 (diffusers' `Downsample2D(use_conv=False)`). */
export function avgPool2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.avgPool(x, 2, 2, "valid");
}
