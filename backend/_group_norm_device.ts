// Private: GroupNorm composed from tfjs kernels with a closed-form gradient, for device backends
// (webgpu, tensorflow), where the one-pass JavaScript loops of group_norm.ts would read every
// activation back to the host.
import { tf } from "./deps.ts";

/**
 * `y = (x − μ_g) · r_g · γ + β` with `r_g = 1/√(σ²_g + ε)`, statistics per example and group over
 * H, W and the group's C/G channels; gradients for x, γ and β. Every tensor has rank ≤ 4.
 */
export function groupNormDevice(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  groups: number,
  epsilon: number,
): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const cg = c / groups;
  const grouped = [b, h * w, groups, cg]; // [B, HW, G, C/G]
  const forward = (xs: tf.Tensor, gs: tf.Tensor, bs: tf.Tensor, save: tf.GradSaveFunc) => {
    const xg = tf.reshape(xs, grouped);
    const { mean, variance } = tf.moments(xg, [1, 3], true); // [B, 1, G, 1]
    const rstd = tf.rsqrt(tf.add(variance, epsilon));
    const xhat = tf.mul(tf.sub(xg, mean), rstd);
    const y = tf.add(tf.mul(tf.reshape(xhat, [b, h, w, c]), gs), bs);
    save([xhat, rstd, gs]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, r, g] = saved;
        // With dx̂ = dy·γ:  dβ = Σ dy,  dγ = Σ dy·x̂,
        //   dx = r·(dx̂ − mean_g(dx̂) − x̂·mean_g(dx̂·x̂)).
        const dyg = tf.reshape(dy, grouped);
        const dxhat = tf.mul(dyg, tf.reshape(g, [1, 1, groups, cg]));
        const m1 = tf.mean(dxhat, [1, 3], true);
        const m2 = tf.mean(tf.mul(dxhat, xh), [1, 3], true);
        const dx = tf.mul(r, tf.sub(tf.sub(dxhat, m1), tf.mul(xh, m2)));
        const dy2 = tf.reshape(dy, [b * h * w, c]);
        const db = tf.sum(dy2, 0);
        const dg = tf.sum(tf.mul(dy2, tf.reshape(xh, [b * h * w, c])), 0);
        return [tf.reshape(dx, [b, h, w, c]), dg, db];
      },
    };
  };
  const op = tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, gamma, beta) as tf.Tensor4D;
}
