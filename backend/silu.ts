import { tf } from "./deps.ts";
import { jsOp } from "./_js_op.ts";
import { nativeEngineLib } from "./native_engine.ts";

/**
 * SiLU (swish), `x · sigmoid(x)`, the activation of diffusion UNets. On the native CPU engine it is
 * one fused C pass forward and one backward (`dx = dy · s · (1 + x · (1 − s))`), where composing
 * it costs two kernels forward and about six backward; on every other backend it is
 * `tf.mul(x, tf.sigmoid(x))`, bit for bit what it was.
 *
 * @param x Any float32 tensor (borrowed).
 * @returns `x · sigmoid(x)`, owned by the caller.
 *
 * @example
 * ```ts
 * import { tf } from "./deps.ts";
 * import { silu } from "./silu.ts";
 * await tf.setBackend("cpu");
 * console.log(silu(tf.tensor1d([0, 1])).dataSync()[1].toFixed(4)); // 0.7311
 * ```
 */
export function silu<T extends tf.Tensor>(x: T): T {
  if (nativeEngineLib() === undefined || x.dtype !== "float32") {
    return tf.tidy(() => tf.mul(x, tf.sigmoid(x))) as T;
  }
  const op = tf.customGrad(
    ((xs: tf.Tensor, save: tf.GradSaveFunc) => {
      const lib = nativeEngineLib()!;
      const [y] = jsOp([xs], [xs.shape], ([xv], [yv]) => lib.nk_unary(17, xv, yv, xv.length, 0));
      save([xs]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [dx] = jsOp(
            [saved[0], dy],
            [dy.shape],
            ([xv, dyv], [dxv]) => nativeEngineLib()!.nk_silu_grad(xv, dyv, dxv, xv.length),
          );
          return [dx];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return op(x) as T;
}
