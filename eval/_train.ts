// Private: the resumable training loop of eval/'s nets (checkpoint on a timer, atomic writes,
// progress with ETA, periodic validation).
import { decodeSafetensors, encodeSafetensors, tf } from "./deps.ts";
import { ConvNet, type ConvNetConfig, JsAdam, variableOf } from "./_convnet.ts";

/** Options of {@link trainLoop}. */
export interface TrainLoopOptions {
  config: ConvNetConfig;
  seed: number;
  steps: number;
  learningRate: number;
  weightDecay?: number;
  checkpoint: string;
  /** Loss of one batch at `step` (scalar, inside variableGrads). */
  loss: (net: ConvNet, step: number) => tf.Scalar;
  /** Called before each step (e.g. to refresh data); may be async. */
  prepare?: (step: number) => Promise<void> | void;
  /** Validation every `validateEvery` steps: returns a line to print. */
  validate?: (net: ConvNet) => string;
  validateEvery?: number;
  /** Called before each checkpoint and validation (e.g. to calibrate normalisation). */
  beforeSave?: (net: ConvNet) => Promise<void> | void;
  checkpointSeconds?: number;
  log?: (msg: string) => void;
}

async function saveCheckpoint(path: string, net: ConvNet, adam: JsAdam, step: number) {
  const tensors = net.toNamedTensors();
  for (const [k, v] of adam.toNamedTensors()) tensors.set(k, v);
  const bytes = encodeSafetensors(tensors, {
    metadata: { step: String(step), config: JSON.stringify(net.config) },
  });
  await Deno.writeFile(path + ".tmp", bytes);
  await Deno.rename(path + ".tmp", path);
}

/** Trains from scratch or resumes from `checkpoint`; returns the net (caller disposes). */
export async function trainLoop(o: TrainLoopOptions): Promise<ConvNet> {
  const log = o.log ?? console.log;
  let net = ConvNet.init(o.config, o.seed);
  const adam = new JsAdam();
  let start = 0;
  try {
    const bytes = await Deno.readFile(o.checkpoint);
    const { tensors, metadata } = decodeSafetensors(bytes, { source: o.checkpoint });
    net.dispose();
    const params = new Map<string, tf.Variable>();
    for (const [k, t] of tensors) {
      if (!k.startsWith("adam.")) {
        const trainable = !k.endsWith(".mean") && !k.endsWith(".var");
        params.set(k, variableOf(tf.tensor(t.data as Float32Array, t.shape), trainable));
      }
    }
    net = new ConvNet(o.config, params);
    adam.load(tensors);
    start = Number(metadata.step);
    log(`resumed from ${o.checkpoint} at step ${start}`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const names = [...net.params.keys()].filter((k) => net.params.get(k)!.trainable);
  const vars = names.map((k) => net.params.get(k)!);
  const t0 = performance.now();
  let lastSave = performance.now(), lossSum = 0, lossN = 0;
  const warmup = Math.min(100, Math.floor(o.steps / 10));
  for (let step = start; step < o.steps; step++) {
    await o.prepare?.(step);
    const lr = step < warmup ? o.learningRate * (step + 1) / warmup : o.learningRate *
      (0.03 + 0.97 * 0.5 * (1 + Math.cos(Math.PI * (step - warmup) / (o.steps - warmup))));
    const { value, grads } = tf.variableGrads(() => o.loss(net, step), vars);
    const named: Record<string, tf.Tensor> = {};
    for (const [i, v] of vars.entries()) named[names[i]] = grads[v.name];
    adam.step(net.params, named, lr, o.weightDecay ?? 0);
    lossSum += value.dataSync()[0];
    lossN++;
    tf.dispose([value, ...Object.values(grads)]);
    const done = step + 1;
    if (done % 20 === 0 || done === o.steps) {
      const rate = (done - start) / ((performance.now() - t0) / 1000);
      log(
        `step ${done}/${o.steps} loss ${(lossSum / lossN).toFixed(3)} lr ${lr.toExponential(1)} ` +
          `${rate.toFixed(2)} steps/s ETA ${((o.steps - done) / rate / 60).toFixed(1)} min`,
      );
      lossSum = lossN = 0;
    }
    if (o.validate && o.validateEvery && done % o.validateEvery === 0) {
      await o.beforeSave?.(net);
      log(`step ${done} validation: ${o.validate(net)}`);
    }
    if ((performance.now() - lastSave) / 1000 > (o.checkpointSeconds ?? 60) || done === o.steps) {
      await o.beforeSave?.(net);
      await saveCheckpoint(o.checkpoint, net, adam, done);
      lastSave = performance.now();
    }
  }
  return net;
}
