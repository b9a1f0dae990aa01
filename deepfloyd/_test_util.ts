/**
 * Private test helpers: fixtures written by testdata/generate_fixtures.py (NCHW, PyTorch layout).
 *
 * @module
 */
import { type NamedTensor, readSafetensors, tf } from "./deps.ts";

/** The fixtures folder. */
export const TESTDATA: string = new URL("./testdata/", import.meta.url).pathname;

/** Reads one fixture file's tensors. */
export async function readFixture(name: string): Promise<Map<string, NamedTensor>> {
  return (await readSafetensors(`${TESTDATA}${name}`)).tensors;
}

/** The fixture tensor `name` (throws when absent). */
export function fixture(m: Map<string, NamedTensor>, name: string): NamedTensor {
  const t = m.get(name);
  if (!t) throw new Error(`fixture tensor '${name}' is missing`);
  return t;
}

/** `[B, C, H, W]` fixture data as an NHWC tensor. */
export function nhwc(t: NamedTensor): tf.Tensor4D {
  return tf.tidy(() =>
    tf.transpose(tf.tensor4d(t.data as Float32Array, t.shape as [number, number, number, number]), [
      0,
      2,
      3,
      1,
    ])
  );
}

/** max |a − b| / max |b|: the error relative to the reference's scale. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let err = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
}
