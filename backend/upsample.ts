import { tf } from "./deps.ts";

/**
 * Nearest-neighbour upsampling of an NHWC batch by an integer factor, written as reshape + concat
 * so that its gradient is right on every backend (tfjs-backend-cpu 4.22 computes a wrong gradient
 * for `resizeNearestNeighbor` when batch > 1), every intermediate tensor has rank ≤ 4 (rank-5
 * tensors are very slow on wasm), and it stays fast on wasm (whose Tile kernel, behind
 * `broadcastTo`, is ~50× slower than Concat's copies).
 *
 * @param x Images `[B, H, W, C]` (borrowed).
 * @param factor Integer scale factor ≥ 1 (default 2).
 * @returns `[B, H·factor, W·factor, C]`, owned by the caller.
 *
 * @example
 * ```ts
 * import "npm:@tensorflow/tfjs-backend-cpu@4.22.0";
 * import { tf, upsampleNearest } from "./mod.ts";
 * await tf.setBackend("cpu");
 * const y = upsampleNearest(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]));
 * console.log(y.shape); // [1, 4, 4, 1]
 * y.dispose();
 * ```
 */
export function upsampleNearest(x: tf.Tensor4D, factor = 2): tf.Tensor4D {
  if (!Number.isInteger(factor) || factor < 1) {
    throw new RangeError(
      `Cannot upsample as 'factor' must be a positive integer: current value is ${factor}`,
    );
  }
  if (x.rank !== 4) {
    throw new RangeError(
      `Cannot upsample as 'x' must have rank 4 [B, H, W, C]: current shape is [${x.shape}]`,
    );
  }
  if (factor === 1) return tf.clone(x);
  const [b, h, w, c] = x.shape;
  return tf.tidy(() => {
    // [B·H·W, 1, C] → [B·H·W, f, C]: repeat each pixel along the width.
    const px = tf.reshape(x, [b * h * w, 1, c]);
    const wide = tf.concat(new Array(factor).fill(px), 1);
    // [B·H, 1, W·f·C] → [B·H, f, W·f·C]: repeat each row.
    const row = tf.reshape(wide, [b * h, 1, w * factor * c]);
    const tall = tf.concat(new Array(factor).fill(row), 1);
    return tf.reshape(tall, [b, h * factor, w * factor, c]);
  });
}
