/**
 * Private building blocks shared by the text encoder and the UNets. Every tensor stays at rank ≤ 4
 * (rank-5 tensors are very slow on wasm); attention uses 3-D batched matmuls.
 *
 * @module
 */
import { fusedSilu, groupNorm as fusedGroupNorm, maxKernelElements, tf } from "../deps.ts";

/** x @ W + b over the last axis, for inputs of rank 2 or 3. W is `[in, out]`. */
export function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const inDim = x.shape[x.rank - 1];
  const outDim = w.shape[1] as number;
  const flat = x.rank === 2 ? x : tf.reshape(x, [-1, inDim]);
  const y = b
    ? tf.fused.matMul({ a: flat as tf.Tensor2D, b: w as tf.Tensor2D, bias: b })
    : tf.matMul(flat as tf.Tensor2D, w as tf.Tensor2D);
  return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), outDim]);
}

/** x @ Wᵀ for an HF-layout `[out, in]` weight. */
export function linearT(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const inDim = x.shape[x.rank - 1];
  const flat = tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
  const y = tf.matMul(flat, w as tf.Tensor2D, false, true);
  return tf.reshape(y, [...x.shape.slice(0, -1), w.shape[0]]);
}

/** 2-D convolution, NHWC, "same" padding, stride 1, with bias. W is `[k, k, in, out]`. */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor): tf.Tensor4D {
  return tf.fused.conv2d({
    x,
    filter: w as tf.Tensor4D,
    strides: 1,
    pad: "same",
    bias: b,
  });
}

/** SiLU(x) = x · sigmoid(x) (backend/'s: fused on the native engine). */
export function silu<T extends tf.Tensor>(x: T): T {
  return fusedSilu(x);
}

/** GELU, tanh approximation (T5 v1.1's `gelu_new`). */
export function geluTanh<T extends tf.Tensor>(x: T): T {
  const c = Math.sqrt(2 / Math.PI);
  const inner = tf.mul(c, tf.add(x, tf.mul(0.044715, tf.mul(x, tf.mul(x, x)))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

/**
 * GroupNorm over `[B, H, W, C]` with `groups` groups, then the affine γ, β: backend/'s fused
 * `groupNorm` (one JS pass forward and backward instead of ~30 kernels).
 */
export function groupNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  groups: number,
  eps = 1e-5,
): tf.Tensor4D {
  return fusedGroupNorm(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, { groups, epsilon: eps });
}

/** GroupNorm composed from tfjs ops (rank ≤ 4), kept as the reference for the fused kernel. */
export function groupNormComposed(
  x: tf.Tensor4D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  groups: number,
  eps = 1e-5,
): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const g = groups;
  const grouped = tf.reshape(x, [b, h * w, g, c / g]); // [B, HW, G, C/G]
  const { mean, variance } = tf.moments(grouped, [1, 3], true); // [B, 1, G, 1]
  const normed = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(tf.reshape(normed, [b, h, w, c]), gamma), beta);
}

/** The largest group count ≤ `groups` that divides `channels`. */
export function groupsFor(channels: number, groups: number): number {
  let g = Math.min(groups, channels);
  while (channels % g !== 0) g--;
  return g;
}

/** RMSNorm (T5 layer norm): x / sqrt(mean(x²) + eps) · w, over the last axis. */
export function rmsNorm(x: tf.Tensor, w: tf.Tensor, eps = 1e-6): tf.Tensor {
  const variance = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), w);
}

/** Average-pools `[B, H, W, C]` by 2 with reshapes and sums only (rank ≤ 4, gradient everywhere). */
export function avgPool2(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const rows = tf.sum(tf.reshape(x, [b * (h / 2), 2, w / 2, 2 * c]), 1); // [B·H/2, W/2, 2C]
  const cols = tf.sum(tf.reshape(rows, [b * (h / 2), w / 2, 2, c]), 2); // [B·H/2, W/2, C]
  return tf.reshape(tf.mul(cols, 0.25), [b, h / 2, w / 2, c]);
}

/** `[B, N, H·D]` → `[B·H, N, D]`. */
export function splitHeads(x: tf.Tensor, heads: number): tf.Tensor3D {
  const [b, n, hd] = x.shape;
  if (heads === 1) return x as tf.Tensor3D;
  const d = hd / heads;
  return tf.reshape(tf.transpose(tf.reshape(x, [b, n, heads, d]), [0, 2, 1, 3]), [
    b * heads,
    n,
    d,
  ]);
}

/** `[B·H, N, D]` → `[B, N, H·D]`. */
export function mergeHeads(x: tf.Tensor3D, heads: number): tf.Tensor3D {
  if (heads === 1) return x;
  const [bh, n, d] = x.shape;
  const b = bh / heads;
  return tf.reshape(tf.transpose(tf.reshape(x, [b, heads, n, d]), [0, 2, 1, 3]), [
    b,
    n,
    heads * d,
  ]);
}

/**
 * Multi-head attention on projected q `[B, N, H·D]`, k, v `[B, M, H·D]`: softmax(q kᵀ · scale + bias) v.
 * `bias` broadcasts to `[B, H, N, M]` (a key mask `[B, 1, 1, M]`, a position bias `[1, H, N, M]`).
 * When the `[B·H, N, M]` scores would exceed `maxScoreElements` (default: what one kernel of the
 * backend can bind, `maxKernelElements()`: finite on webgpu only) they are computed in blocks of
 * query rows, the same values.
 */
export function attention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  heads: number,
  options: { scale?: number; bias?: tf.Tensor | null; maxScoreElements?: number } = {},
): tf.Tensor3D {
  const [b, n, qd] = q.shape as number[];
  const m = k.shape[1] as number;
  const d = qd / heads;
  const scale = options.scale ?? 1 / Math.sqrt(d);
  const qh = splitHeads(q, heads); // [B·H, N, D]
  const kh = splitHeads(k, heads); // [B·H, M, D]
  const vh = splitHeads(v, heads); // [B·H, M, D]
  const bias = options.bias ?? null;
  // softmax(q kᵀ · scale + bias) v for query rows [r0, r0 + rows): [B·H, rows, D]
  const rowsOut = (r0: number, rows: number) => {
    const qc = rows === n ? qh : tf.slice(qh, [0, r0, 0], [b * heads, rows, d]);
    let scores: tf.Tensor = tf.matMul(scale === 1 ? qc : tf.mul(qc, scale), kh, false, true); // [B·H, rows, M]
    if (bias) {
      // bias broadcasts to [B, H, N, M]; take its rows when it has them.
      const bc = rows === n || bias.shape[2] === 1
        ? bias
        : tf.slice(bias, [0, 0, r0, 0], [-1, -1, rows, -1]);
      scores = tf.reshape(tf.add(tf.reshape(scores, [b, heads, rows, m]), bc), [
        b * heads,
        rows,
        m,
      ]);
    }
    const weights = tf.softmax(scores); // over M
    return tf.matMul(weights, vh) as tf.Tensor3D;
  };
  // A GPU binds at most maxKernelElements() per tensor: split the [B·H, N, M] scores by query rows.
  const limit = options.maxScoreElements ?? maxKernelElements();
  const perRow = b * heads * m;
  if (perRow * n <= limit) return mergeHeads(rowsOut(0, n), heads); // [B, N, H·D]
  const rows = Math.max(1, Math.floor(limit / perRow));
  const parts: tf.Tensor3D[] = [];
  for (let r0 = 0; r0 < n; r0 += rows) parts.push(rowsOut(r0, Math.min(rows, n - r0)));
  return mergeHeads(tf.concat(parts, 1) as tf.Tensor3D, heads); // [B, N, H·D]
}

/** Additive attention bias from a key mask `[B, M]` (1 = keep): `[B, 1, 1, M]` of 0 / −1e9. */
export function maskBias(mask: tf.Tensor): tf.Tensor4D {
  const [b, m] = mask.shape;
  return tf.reshape(tf.mul(tf.sub(1, tf.cast(mask, "float32")), -1e9), [b, 1, 1, m]);
}
