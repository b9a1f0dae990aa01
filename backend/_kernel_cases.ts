// Private test helpers: the shape table every native kernel is checked on against tfjs's cpu
// backend (odd sizes, strides, paddings, batch 1 and 3), and finite-difference gradient checks.
import { tf } from "./deps.ts";
import { relativeErrors } from "./_test_util.ts";

/** `reference`, when given, replaces `run` on the cpu backend (where tfjs itself is wrong). */
export type Case = { name: string; run: () => tf.Tensor[]; reference?: () => tf.Tensor[] };
export const rnd = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, "float32", seed);

/** Every case computes outputs on the current backend; the table is compared across backends. */
export function kernelCases(): Case[] {
  return [...matMulCases(), ...reductionAndElementwiseCases(), ...convCases()];
}

/** matMul in every transposition and batch layout, and fused.matMul with each activation. */
function matMulCases(): Case[] {
  const cases: Case[] = [];
  const t = (s: number[]) => [...s.slice(0, -2), s.at(-1)!, s.at(-2)!];
  const matmuls: [number[], number[]][] = [
    [[5, 7], [7, 3]],
    [[3, 5, 7], [3, 7, 6]],
    [[2, 3, 5, 7], [2, 3, 7, 4]],
    [[3, 5, 7], [7, 6]], // b shared: batch folds into M
    [[5, 7], [3, 7, 6]], // a shared
    [[1, 33, 65], [1, 65, 17]],
  ];
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    for (const [as, bs] of matmuls) {
      const sa = ta ? t(as) : as, sb = tb ? t(bs) : bs;
      cases.push({
        name: `matMul [${sa}]·[${bs}] transposeA=${ta} transposeB=${tb}`,
        run: () => [tf.matMul(rnd(sa, 1), rnd(sb, 2), ta, tb)],
      });
    }
  }
  // Both batches broadcast: tfjs 4.22's own cpu and wasm kernels return 90 of the 180 values
  // here, so the reference broadcasts explicitly.
  cases.push({
    name: "matMul [2,1,5,7]·[1,3,7,6] (both batches broadcast)",
    run: () => [tf.matMul(rnd([2, 1, 5, 7], 1), rnd([1, 3, 7, 6], 2))],
    reference: () => [
      tf.matMul(
        tf.broadcastTo(rnd([2, 1, 5, 7], 1), [2, 3, 5, 7]),
        tf.broadcastTo(rnd([1, 3, 7, 6], 2), [2, 3, 7, 6]),
      ),
    ],
  });
  for (const activation of ["linear", "relu", "sigmoid", "leakyrelu", "elu", "relu6"] as const) {
    for (const [ta, tb] of [[false, false], [true, true]]) {
      cases.push({
        name: `fused.matMul ${activation} transposeA=${ta} transposeB=${tb}`,
        run: () => [
          tf.fused.matMul({
            a: rnd(ta ? [3, 13, 9] : [3, 9, 13], 1),
            b: rnd(tb ? [6, 13] : [13, 6], 2),
            transposeA: ta,
            transposeB: tb,
            bias: rnd([6], 3),
            activation,
            leakyreluAlpha: 0.1,
          }),
        ],
      });
    }
  }
  cases.push({
    name: "fused.matMul prelu, full-shape bias",
    run: () => [
      tf.fused.matMul({
        a: rnd([9, 13], 1),
        b: rnd([13, 6], 2),
        bias: rnd([9, 6], 3),
        activation: "prelu",
        preluActivationWeights: rnd([6], 4),
      }),
    ],
  });
  return cases;
}

/** Reductions, casts, broadcasting arithmetic and split. */
function reductionAndElementwiseCases(): Case[] {
  const cases: Case[] = [];
  cases.push({
    name: "sum/mean over leading (GEMV), interleaved and trailing axes, cast, clone",
    run: () => {
      const x = rnd([3, 5, 7, 6], 1);
      return [
        tf.sum(x, [0, 1, 2]),
        tf.sum(x, 0, true),
        tf.sum(x, [1, 3]),
        tf.sum(x, [0, 2], true),
        tf.sum(x, [1, 2]),
        tf.sum(x, [2, 3]),
        tf.mean(x, [1, 3], true),
        tf.mean(x, [0, 1]),
        tf.mean(x, [0, 2]),
        tf.sum(tf.reshape(x, [3, 5, 1, 7, 6]), [1, 4]),
        tf.sum(tf.reshape(x, [15, 7, 2, 3]), 2), // avgPool2's [B·H/2, W/2, 2, C] sum
        tf.mean(x, [1, 2], true),
        tf.max(x, [1, 2]),
        tf.min(x, 2),
        tf.sum(x),
        tf.cast(x, "float32"),
        tf.clone(x),
        tf.cast(tf.cast(tf.mul(x, 10), "int32"), "float32"),
      ];
    },
  });
  cases.push({
    name: "broadcasting add/sub/mul/div (short runs in JS, others wasm's own)",
    run: () => {
      const x = rnd([3, 10, 4, 3], 1), g = rnd([3, 1, 4, 1], 2), row = rnd([3], 3);
      const col = rnd([3, 10, 1, 1], 4), pos = tf.add(tf.abs(rnd([1, 10, 4, 1], 5)), 0.5);
      return [
        tf.add(x, g),
        tf.sub(g, x),
        tf.mul(x, col),
        tf.div(x, pos),
        tf.div(pos, x),
        tf.add(x, row),
        tf.mul(x, tf.scalar(3)),
        tf.sub(rnd([5, 1, 3], 6), rnd([4, 1], 7)),
        tf.mul(rnd([2, 1, 40], 8), rnd([2, 3, 1], 9)),
      ];
    },
  });
  cases.push({
    name: "split (SplitV) on every axis, even and uneven sizes, short and long runs",
    run: () => {
      const x = rnd([3, 5, 4, 24], 1);
      return [
        ...tf.split(x, [16, 8], 3),
        ...tf.split(x, [1, 2, 2], 1),
        ...tf.split(x, 3, 0),
        ...tf.split(x, [3, -1], 2),
        ...tf.split(x, 8, 3),
      ];
    },
  });
  return cases;
}

/** conv2d forward, gradients and fused, over kernel sizes, strides and paddings. */
function convCases(): Case[] {
  const cases: Case[] = [];
  // [batch, h, w, ci, co, k, stride, pad]
  type Pad = "same" | "valid" | [[0, 0], [number, number], [number, number], [0, 0]];
  const convs: [number, number, number, number, number, number, number, Pad][] = [];
  for (const k of [1, 3]) {
    for (const s of [1, 2]) {
      for (const p of ["same", "valid"] as const) {
        convs.push([1, 7, 9, 5, 6, k, s, p], [3, 8, 5, 3, 7, k, s, p]);
      }
    }
  }
  // Even kernels pad more on the bottom/right; explicit paddings are asymmetric on purpose.
  convs.push(
    [2, 6, 6, 5, 3, 5, 1, "same"],
    [2, 9, 7, 6, 5, 4, 2, "same"],
    [2, 6, 7, 3, 4, 2, 1, "same"],
    [2, 6, 7, 3, 4, 4, 1, "same"],
    [2, 6, 7, 3, 4, 3, 1, [[0, 0], [2, 0], [0, 3], [0, 0]]],
    [2, 6, 7, 3, 4, 3, 2, [[0, 0], [1, 2], [3, 0], [0, 0]]],
    // ≥ 64² output pixels with few channels: the native engine's per-tap scheme under "auto".
    [1, 64, 65, 5, 3, 3, 1, "same"],
  );
  for (const [n, h, w, ci, co, k, s, p] of convs) {
    cases.push({
      name: `conv2d x[${n},${h},${w},${ci}] ${k}×${k}→${co} stride ${s} ${p}: y, dx, dw, fused`,
      run: () => {
        const x = rnd([n, h, w, ci], 1) as tf.Tensor4D;
        const f = rnd([k, k, ci, co], 2) as tf.Tensor4D;
        const y = tf.conv2d(x, f, s, p);
        const r = rnd(y.shape, 3);
        const loss = (a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, p), r));
        const [dx, df] = tf.grads(loss)([x, f]);
        const fused = tf.fused.conv2d({
          x,
          filter: f,
          strides: s,
          pad: p,
          bias: rnd([co], 4),
          activation: "relu",
        });
        const fusedLinear = tf.fused.conv2d({
          x,
          filter: f,
          strides: s,
          pad: p,
          bias: rnd([co], 5),
        });
        return [y, dx, df, fused, fusedLinear];
      },
    });
  }
  return cases;
}

/** [name, loss(a, b), shape of a, shape of b]: each loss is linear in the input varied. */
export type GradientCheck = [string, (a: tf.Tensor, b: tf.Tensor) => tf.Scalar, number[], number[]];

/** Losses whose gradients are compared with central finite differences. */
export function gradientChecks(): GradientCheck[] {
  return [
    [
      "matMul tA",
      (a, b) => tf.sum(tf.mul(tf.matMul(a, b, true, false), tf.reshape(tf.range(1, 13), [3, 4]))),
      [5, 3],
      [5, 4],
    ],
    [
      "conv 3×3 s1 same",
      (a, b) =>
        tf.sum(
          tf.mul(
            tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "same"),
            tf.reshape(tf.linspace(-1, 1, 2 * 5 * 5 * 3), [2, 5, 5, 3]),
          ),
        ),
      [2, 5, 5, 2],
      [3, 3, 2, 3],
    ],
    [
      "conv 3×3 s2 valid",
      (a, b) =>
        tf.sum(
          tf.mul(
            tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, "valid"),
            tf.reshape(tf.linspace(-1, 1, 2 * 2 * 3 * 3), [2, 2, 3, 3]),
          ),
        ),
      [2, 5, 7, 2],
      [3, 3, 2, 3],
    ],
    [
      "conv 1×1 s2 same",
      (a, b) =>
        tf.sum(
          tf.mul(
            tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, "same"),
            tf.reshape(tf.linspace(-1, 1, 1 * 3 * 3 * 3), [1, 3, 3, 3]),
          ),
        ),
      [1, 5, 5, 2],
      [1, 1, 2, 3],
    ],
  ];
}

/** Options of {@link checkGradients}. */
export interface CheckGradientsOptions {
  /** The finite-difference step of a check (default 0.5: the losses are linear in the input). */
  eps?: (name: string) => number;
  /** Which inputs of a check to vary (default both). */
  inputs?: (name: string) => readonly ("a" | "b")[];
}

/**
 * Compares each check's gradients (`tf.grads` on the current backend) with central finite
 * differences at about eight entries of each input; fails naming the check, input and entry.
 */
export function checkGradients(checks: GradientCheck[], options: CheckGradientsOptions = {}): void {
  const { eps = () => 0.5, inputs = () => ["a", "b"] as const } = options;
  for (const [name, f, sa, sb] of checks) {
    tf.tidy(() => {
      const a = rnd(sa, 11), b = rnd(sb, 12);
      const [ga, gb] = tf.grads(f)([a, b]).map((g) => g.dataSync());
      for (const which of inputs(name)) {
        const [v, g] = which === "a" ? [a, ga] : [b, gb];
        const base = v.dataSync().slice();
        const step = eps(name);
        for (let i = 0; i < base.length; i += Math.max(1, Math.floor(base.length / 7))) {
          const at = (delta: number) => {
            const p = base.slice();
            p[i] += delta;
            const t = tf.tensor(p, v.shape);
            return (which === "a" ? f(t, b) : f(a, t)).dataSync()[0];
          };
          const fd = (at(step) - at(-step)) / (2 * step);
          if (!(Math.abs(fd - g[i]) <= 1e-3 * Math.max(1, Math.abs(fd)))) {
            throw new Error(`${name} d/d${which}[${i}]: finite difference ${fd}, gradient ${g[i]}`);
          }
        }
      }
    });
  }
}

/** Runs every case on the current backend (`reference`: a case's reference where it has one). */
export function runCases(cases: Case[], reference = false): Float32Array[][] {
  return cases.map((c) =>
    tf.tidy(() =>
      (reference && c.reference ? c.reference() : c.run()).map((x) => x.dataSync() as Float32Array)
    )
  );
}

/**
 * The outputs of `got` that differ from `ref` (same cases, same order) by 1e-4 relative or more,
 * in max or in norm, one line each (`note` follows the case's name).
 */
export function caseFailures(
  cases: Case[],
  outputs: { got: Float32Array[][]; ref: Float32Array[][]; note?: string },
): string[] {
  const { got, ref, note = "" } = outputs;
  const failures: string[] = [];
  cases.forEach((c, i) =>
    ref[i].forEach((r, j) => {
      const [maxErr, normErr] = relativeErrors(got[i][j], r);
      if (!(maxErr < 1e-4 && normErr < 1e-4)) {
        failures.push(`${c.name}${note} output ${j}: max ${maxErr}, norm ${normErr}`);
      }
    })
  );
  return failures;
}
