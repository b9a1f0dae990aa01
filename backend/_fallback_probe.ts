// Private: run by native_kernels_test.ts in a subprocess with DREAMBOOTH_NATIVE=0. Initialises the
// default backend (printing its notice and report), checks conv gradients on it against the cpu
// backend, and prints the report with the error as the last line (JSON).
import { tf } from "./deps.ts";
import { initBackend } from "./init_backend.ts";
import { relativeErrors } from "./_test_util.ts";

const grads = () =>
  tf.tidy(() => {
    const x = tf.randomNormal([3, 7, 9, 5], 0, 1, "float32", 1) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 5, 6], 0, 1, "float32", 2) as tf.Tensor4D;
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, "same")));
    return tf.grads(f)([x, w]).map((g) => g.dataSync() as Float32Array);
  });
type Proc = { listeners(event: string): unknown[] };
const proc = (globalThis as { process?: Proc }).process!;
const listenersBefore = proc.listeners("unhandledRejection").length;
const report = await initBackend();
const listenersAdded = proc.listeners("unhandledRejection").length - listenersBefore;
const got = grads();
await tf.setBackend("cpu");
const ref = grads();
const maxErr = Math.max(...got.map((g, i) => relativeErrors(g, ref[i])[0]));
console.log(JSON.stringify({ ...report, maxErr, listenersAdded }));
