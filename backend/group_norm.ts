import { tf } from "./deps.ts";
import { jsOp } from "./_js_op.ts";
import { onDevice } from "./_device.ts";
import { groupNormDevice } from "./_group_norm_device.ts";
import { nativeEngineLib } from "./native_engine.ts";

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
 * in place on the wasm heap; on cpu through `dataSync`), where composing it from tfjs ops costs
 * ~10 kernels forward and ~20 backward, several of them slow broadcasts on wasm. On device
 * backends (webgpu, tensorflow) it is composed from the backend's kernels with a closed-form
 * gradient instead, so nothing is read back to the host. The gradient
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
  // On a GPU (webgpu, tensorflow) the loops below would read x back to the host: compose kernels.
  if (onDevice()) return groupNormDevice(x, gamma, beta, groups, epsilon);
  const cg = c / groups;
  const count = h * w * cg;
  const per = h * w;
  const forward = (xs: tf.Tensor, gs: tf.Tensor, bs: tf.Tensor, save: tf.GradSaveFunc) => {
    // Every pass is a tight loop over the C channels of one pixel with per-channel coefficients
    // (group statistics spread to channels), not a loop per group: C/G is often 4.
    const [y, stats] = jsOp([xs, gs, bs], [xs.shape, [b, groups, 2]], ([xv, gv, bv], [yv, sv]) => {
      const lib = nativeEngineLib(); // the native engine: the same pass in C, threaded
      if (lib !== undefined) {
        return lib.nk_group_norm_fwd(xv, gv, bv, yv, sv, b, per, c, groups, epsilon);
      }
      const s1 = new Float64Array(c), s2 = new Float64Array(c);
      const scale = new Float32Array(c), shift = new Float32Array(c);
      for (let n = 0; n < b; n++) {
        const start = n * per * c;
        channelSums(xv, start, per, c, s1, s2);
        for (let g = 0; g < groups; g++) {
          let sum = 0, sq = 0;
          for (let j = g * cg; j < (g + 1) * cg; j++) {
            sum += s1[j];
            sq += s2[j];
          }
          const mean = sum / count;
          const rstd = 1 / Math.sqrt(Math.max(sq / count - mean * mean, 0) + epsilon);
          sv[(n * groups + g) * 2] = mean;
          sv[(n * groups + g) * 2 + 1] = rstd;
          for (let j = g * cg; j < (g + 1) * cg; j++) {
            scale[j] = rstd * gv[j]; // y = x·scale + shift
            shift[j] = bv[j] - mean * rstd * gv[j];
          }
        }
        affine(xv, yv, start, per, c, scale, shift);
      }
    });
    save([xs, gs, stats]); // saves clones
    stats.dispose();
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs2, gs2, st] = saved;
        // With x̂ = (x − μ)·r and dx̂ = dy·γ:  dβ = Σ dy,  dγ = Σ dy·x̂,
        //   dx = r·(dx̂ − mean_g(dx̂) − x̂·mean_g(dx̂·x̂)) = P_c·dy + Q_c·x + R_c  per channel c.
        const [dx, dg, db] = jsOp(
          [dy, xs2, gs2, st],
          [xs2.shape, [c], [c]],
          ([dyv, xv, gv, sv], [dxv, dgv, dbv]) => {
            const lib = nativeEngineLib();
            if (lib !== undefined) {
              return lib.nk_group_norm_bwd(xv, gv, dyv, sv, dxv, dgv, dbv, b, per, c, groups);
            }
            const sDy = new Float64Array(c), sDyX = new Float64Array(c);
            const pc = new Float32Array(c), qc = new Float32Array(c), rc = new Float32Array(c);
            dgv.fill(0);
            dbv.fill(0);
            for (let n = 0; n < b; n++) {
              const start = n * per * c;
              crossSums(dyv, xv, start, per, c, sDy, sDyX);
              for (let g = 0; g < groups; g++) {
                const mean = sv[(n * groups + g) * 2], r = sv[(n * groups + g) * 2 + 1];
                let m1 = 0, m2 = 0;
                for (let j = g * cg; j < (g + 1) * cg; j++) {
                  const sumDyXhat = r * (sDyX[j] - mean * sDy[j]); // Σ dy·x̂
                  dbv[j] += sDy[j];
                  dgv[j] += sumDyXhat;
                  m1 += gv[j] * sDy[j];
                  m2 += gv[j] * sumDyXhat;
                }
                m1 /= count; // mean_g(dx̂)
                m2 /= count; // mean_g(dx̂·x̂)
                for (let j = g * cg; j < (g + 1) * cg; j++) {
                  pc[j] = r * gv[j];
                  qc[j] = -r * r * m2;
                  rc[j] = -r * m1 + r * r * m2 * mean;
                }
              }
              gradAffine(dyv, xv, dxv, start, per, c, pc, qc, rc);
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

/** Per-channel Σx and Σx² over `per` pixels of C channels starting at `start`. */
function channelSums(
  x: Float32Array,
  start: number,
  per: number,
  c: number,
  s1: Float64Array,
  s2: Float64Array,
): void {
  s1.fill(0);
  s2.fill(0);
  for (let p = 0, i = start; p < per; p++) {
    for (let j = 0; j < c; j++, i++) {
      const v = x[i];
      s1[j] += v;
      s2[j] += v * v;
    }
  }
}

/** y = x·scale[c] + shift[c]. */
function affine(
  x: Float32Array,
  y: Float32Array,
  start: number,
  per: number,
  c: number,
  scale: Float32Array,
  shift: Float32Array,
): void {
  for (let p = 0, i = start; p < per; p++) {
    for (let j = 0; j < c; j++, i++) y[i] = x[i] * scale[j] + shift[j];
  }
}

/** Per-channel Σdy and Σdy·x. */
function crossSums(
  dy: Float32Array,
  x: Float32Array,
  start: number,
  per: number,
  c: number,
  sDy: Float64Array,
  sDyX: Float64Array,
): void {
  sDy.fill(0);
  sDyX.fill(0);
  for (let p = 0, i = start; p < per; p++) {
    for (let j = 0; j < c; j++, i++) {
      const d = dy[i];
      sDy[j] += d;
      sDyX[j] += d * x[i];
    }
  }
}

/** dx = P[c]·dy + Q[c]·x + R[c]. */
function gradAffine(
  dy: Float32Array,
  x: Float32Array,
  dx: Float32Array,
  start: number,
  per: number,
  c: number,
  pc: Float32Array,
  qc: Float32Array,
  rc: Float32Array,
): void {
  for (let p = 0, i = start; p < per; p++) {
    for (let j = 0; j < c; j++, i++) dx[i] = pc[j] * dy[i] + qc[j] * x[i] + rc[j];
  }
}
