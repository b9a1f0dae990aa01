// Private test probe, run by native_engine_test.ts in a separate process (so that its environment
// and V8 flags decide): without arguments prints initBackend's one line and the report as JSON;
// with `leak` trains the tiny reference UNet on the native engine (run with
// `--v8-flags=--expose-gc`) for N steps (default 120) and prints the tensor count and the memory
// retained after a full GC at steps 20, 120, 220, ..., and the peak RSS, as JSON.
import { tf } from "./deps.ts";
import { initBackend } from "./init_backend.ts";
import { createReferenceUnet } from "./reference_unet.ts";

if (Deno.args[0] !== "leak") {
  const report = await initBackend();
  console.log(JSON.stringify(report));
} else {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  await initBackend({ prefer: "native", quiet: true });
  using unet = createReferenceUnet({ channels: [8, 16, 16], groups: 4, seed: 3 });
  const x0 = tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 5) as tf.Tensor4D;
  const at: { step: number; tensors: number; retained: number; rss: number }[] = [];
  let peak = 0;
  for (let i = 1; i <= Number(Deno.args[1] ?? 120); i++) {
    unet.trainStep(x0, i);
    peak = Math.max(peak, Deno.memoryUsage().rss);
    if (i % 100 === 20) {
      gc();
      const m = Deno.memoryUsage();
      at.push({
        step: i,
        tensors: tf.memory().numTensors,
        retained: m.heapUsed + m.external,
        rss: m.rss,
      });
    }
  }
  x0.dispose();
  console.log(JSON.stringify({ at, peak }));
}
