import { tf } from "./deps.ts";
import { jsOp } from "./_js_op.ts";

/** Options of {@linkcode groupNorm}. */
export interface GroupNormOptions {
  /** Number of channel groups; must divide C (default 32, as in most diffusion UNets). */
  groups?: number;
  /** Added to the variance (default 1e-5). */
  epsilon?: number;
}

/**
 * Group normalisation (Wu & He 2018) of an NHWC batch with a per-channel scale and shift,
 * `y = (x − μ_g) / √(σ²_g + ε) · γ + β`, statistics over H, W and the C/G channels of each
 * group. Forward and backward are one JavaScript pass each over the data (on the wasm backend,
 * in place on the wasm heap; on others through `dataSync`), where composing it from tfjs ops costs
 * ~10 kernels forward and ~20 backward, several of them slow broadcasts on wasm. The gradient
 * (`tf.customGrad`) covers `x`, `gamma` and `beta`.
 *
 * @param x Activations `[B, H, W, C]` (borrowed).
 * @param gamma Scale `[C]` (borrowed).
 * @param beta Shift `[C]` (borrowed).
 * @param options See {@linkcode GroupNormOptions}.
 * @returns `[B, H, W, C]`, owned by the caller.
 * @throws {RangeError} When `groups` does not divide C or the shapes disagree.
 *
 * @example
 * ```ts
 * import { tf } from "./deps.ts";
 * import { groupNorm } from "./group_norm.ts";
 * await tf.setBackend("cpu");
 * const x = tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]);
 * const y = groupNorm(x, tf.ones([2]), tf.zeros([2]), { groups: 1 });
 * console.log(Array.from(y.dataSync()).map((v) => v.toFixed(2))); // ["-1.34", "-0.45", "0.45", "1.34"]
 * ```
 */
export function groupNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  options: GroupNormOptions = {},
): tf.Tensor4D {
  const { groups = 32, epsilon = 1e-5 } = options;
  if (x.rank !== 4) {
    throw new RangeError(
      `Cannot group-normalise as 'x' must have rank 4 [B, H, W, C]: current shape is [${x.shape}]`,
    );
  }
  const [b, h, w, c] = x.shape;
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) {
    throw new RangeError(
      `Cannot group-normalise as 'groups' must be a positive divisor of C=${c}: current value ` +
        `is ${groups}`,
    );
  }
  if (gamma.size !== c || beta.size !== c) {
    throw new RangeError(
      `Cannot group-normalise as 'gamma' and 'beta' must have C=${c} values: current shapes are ` +
        `[${gamma.shape}] and [${beta.shape}]`,
    );
  }
  const cg = c / groups;
  const count = h * w * cg;
  const forward = (xs: tf.Tensor, gs: tf.Tensor, bs: tf.Tensor, save: tf.GradSaveFunc) => {
    // Forward: statistics per (image, group), then normalise, scale and shift.
    const [y, stats] = jsOp([xs, gs, bs], [xs.shape, [b, groups, 2]], ([xv, gv, bv], [yv, sv]) => {
      const per = h * w;
      for (let n = 0; n < b; n++) {
        const sum = new Float64Array(groups), sq = new Float64Array(groups);
        for (let p = 0; p < per; p++) {
          const base = (n * per + p) * c;
          for (let g = 0; g < groups; g++) {
            let s = 0, s2 = 0;
            for (let k = base + g * cg, e = k + cg; k < e; k++) {
              const v = xv[k];
              s += v;
              s2 += v * v;
            }
            sum[g] += s;
            sq[g] += s2;
          }
        }
        for (let g = 0; g < groups; g++) {
          const mean = sum[g] / count;
          const variance = Math.max(sq[g] / count - mean * mean, 0);
          sv[(n * groups + g) * 2] = mean;
          sv[(n * groups + g) * 2 + 1] = 1 / Math.sqrt(variance + epsilon);
        }
        for (let p = 0; p < per; p++) {
          const base = (n * per + p) * c;
          for (let g = 0; g < groups; g++) {
            const mean = sv[(n * groups + g) * 2], rstd = sv[(n * groups + g) * 2 + 1];
            for (let j = g * cg, e = j + cg; j < e; j++) {
              yv[base + j] = (xv[base + j] - mean) * rstd * gv[j] + bv[j];
            }
          }
        }
      }
    });
    save([xs, gs, stats]); // saves clones
    stats.dispose();
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs2, gs2, st] = saved;
        // dβ = Σ dy, dγ = Σ dy·x̂, dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dy·γ.
        const [dx, dg, db] = jsOp(
          [dy, xs2, gs2, st],
          [xs2.shape, [c], [c]],
          ([dyv, xv, gv, sv], [dxv, dgv, dbv]) => {
            const per = h * w;
            dgv.fill(0);
            dbv.fill(0);
            for (let n = 0; n < b; n++) {
              const m1 = new Float64Array(groups), m2 = new Float64Array(groups);
              for (let p = 0; p < per; p++) {
                const base = (n * per + p) * c;
                for (let g = 0; g < groups; g++) {
                  const mean = sv[(n * groups + g) * 2], rstd = sv[(n * groups + g) * 2 + 1];
                  let a1 = 0, a2 = 0;
                  for (let j = g * cg, e = j + cg; j < e; j++) {
                    const d = dyv[base + j], xh = (xv[base + j] - mean) * rstd;
                    dbv[j] += d;
                    dgv[j] += d * xh;
                    const dxh = d * gv[j];
                    a1 += dxh;
                    a2 += dxh * xh;
                  }
                  m1[g] += a1;
                  m2[g] += a2;
                }
              }
              for (let g = 0; g < groups; g++) {
                m1[g] /= count;
                m2[g] /= count;
              }
              for (let p = 0; p < per; p++) {
                const base = (n * per + p) * c;
                for (let g = 0; g < groups; g++) {
                  const mean = sv[(n * groups + g) * 2], rstd = sv[(n * groups + g) * 2 + 1];
                  const a1 = m1[g], a2 = m2[g];
                  for (let j = g * cg, e = j + cg; j < e; j++) {
                    const xh = (xv[base + j] - mean) * rstd;
                    dxv[base + j] = rstd * (dyv[base + j] * gv[j] - a1 - xh * a2);
                  }
                }
              }
            }
          },
        );
        return [dx, dg, db];
      },
    };
  };
  const op = tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, gamma, beta) as tf.Tensor4D;
}
