/**
 * Issue 32's training options, each checked for its effect (tiny configs): gradient accumulation,
 * learning-rate warm-up and cosine schedule, offset noise, min-SNR-γ, the weight EMA for
 * fine-tuning, kept step checkpoints and the validation grid; and every bad value refused before
 * any work with a message naming the option.
 */
import assert from "assert";
import { join } from "node:path";
import {
  DEFAULT_SCHEDULE,
  initBackend,
  readRunCheckpoint,
  runTraining,
  StageTrainer,
  type StageTrainerConfig,
  tf,
  UNet,
} from "./deps.ts";
import { readSafetensors } from "../diffusion/mod.ts";
import { trainDreamBooth } from "./dreambooth_train.ts";
import { createDreamBoothConfig, createDreamBoothJob } from "./dreambooth_job.ts";
import { dreamboothParams } from "./dreambooth_params.ts";
import { parseCliArgs } from "../params/mod.ts";
import { createPreset } from "../diffusion/mod.ts";
import { builtInSubjects } from "../data/mod.ts";
import { loadInstanceData } from "./instance_data.ts";
import { main } from "./train_cli.ts";

await initBackend({ quiet: true });

const netConfig = {
  imageSize: 8,
  channels: 8,
  channelMult: [1, 2],
  numResBlocks: [1, 1],
  textDim: 0,
};

/** One trainer on a fresh, identically initialised UNet; returns the weights after `steps` steps. */
async function weightsAfter(
  options: Partial<StageTrainerConfig>,
  batch: tf.Tensor4D,
  steps = 1,
): Promise<{ weights: Float32Array[]; results: { loss: number; learningRate?: number }[] }> {
  using net = new UNet(netConfig, { seed: 7 });
  using trainer = new StageTrainer(net, { schedule: DEFAULT_SCHEDULE, seed: 3, ...options });
  const results = [];
  for (let i = 0; i < steps; i++) results.push(trainer.trainStep({ xStart: batch }));
  const weights = await Promise.all(
    [...net.params.vars.values()].map(async (v) => (await v.data()) as Float32Array),
  );
  return { weights, results };
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((x, i) => x.forEach((v, j) => m = Math.max(m, Math.abs(v - b[i][j]))));
  return m;
}

function images(n: number): tf.Tensor4D {
  return tf.tidy(() => tf.tanh(tf.randomNormal([n, 8, 8, 3], 0, 1, "float32", 11)) as tf.Tensor4D);
}

Deno.test("--grad-accum: 2 micro-batches of b give the same update as one step on 2b", async () => {
  const x = images(4);
  try {
    const whole = await weightsAfter({ gradClip: 0 }, x);
    const accum = await weightsAfter({ gradClip: 0, gradAccum: 2 }, x);
    const d = maxDiff(whole.weights, accum.weights);
    assert.ok(d < 1e-6, `max weight difference ${d}`);
    assert.ok(Math.abs(whole.results[0].loss - accum.results[0].loss) < 1e-5);
    // And it is not the same as one micro-batch alone (the accumulation does something).
    const x2 = tf.slice(x, 0, 2);
    const half = await weightsAfter({ gradClip: 0 }, x2);
    x2.dispose();
    assert.ok(maxDiff(whole.weights, half.weights) > 1e-6);
    // A batch that does not split is refused by name.
    const odd = images(3);
    using net = new UNet(netConfig);
    using t = new StageTrainer(net, { schedule: DEFAULT_SCHEDULE, gradAccum: 2 });
    assert.throws(() => t.trainStep({ xStart: odd }), /'gradAccum'/);
    odd.dispose();
  } finally {
    x.dispose();
  }
});

Deno.test("--lr-warmup / --lr-schedule cosine: the step's learning rate is the schedule's", async () => {
  const x = images(2);
  try {
    // Warm-up over 2 steps: step 1 runs at half the rate, exactly as a constant half rate.
    const warm = await weightsAfter({ learningRate: 1e-2, lrWarmupSteps: 2 }, x);
    const half = await weightsAfter({ learningRate: 5e-3 }, x);
    assert.equal(warm.results[0].learningRate, 5e-3);
    assert.equal(maxDiff(warm.weights, half.weights), 0);
    // Cosine to 0 at step 2: the second step changes nothing.
    const one = await weightsAfter(
      { learningRate: 1e-2, lrSchedule: "cosine", lrTotalSteps: 2 },
      x,
    );
    const two = await weightsAfter(
      { learningRate: 1e-2, lrSchedule: "cosine", lrTotalSteps: 2 },
      x,
      2,
    );
    assert.ok(Math.abs(two.results[1].learningRate!) < 1e-18);
    assert.ok(maxDiff(one.weights, two.weights) < 1e-12);
    // Its step 1 is half-way through the cosine: half the rate, the same update as `half`.
    assert.ok(Math.abs(one.results[0].learningRate! - 5e-3) < 1e-15);
    assert.ok(maxDiff(one.weights, half.weights) < 1e-9);
    assert.ok(maxDiff(one.weights, (await weightsAfter({ learningRate: 1e-2 }, x)).weights) > 0);
  } finally {
    x.dispose();
  }
});

Deno.test("--noise-offset and --snr-gamma change the step's loss; γ → ∞ is the ε weighting", async () => {
  const x = images(4);
  try {
    const plain = await weightsAfter({}, x);
    const offset = await weightsAfter({ noiseOffset: 0.5 }, x);
    assert.notEqual(plain.results[0].loss, offset.results[0].loss);
    const g1 = await weightsAfter({ gamma: 1 }, x);
    const gBig = await weightsAfter({ gamma: 1e6 }, x);
    const eps = await weightsAfter({ weighting: "epsilon" }, x);
    assert.notEqual(g1.results[0].loss, gBig.results[0].loss);
    assert.ok(
      Math.abs(gBig.results[0].loss - eps.results[0].loss) <= 1e-6 * eps.results[0].loss,
      `${gBig.results[0].loss} vs ${eps.results[0].loss}`,
    );
  } finally {
    x.dispose();
  }
});

Deno.test("checkpointsKeep: the newest K step checkpoints are kept, older ones deleted", async () => {
  let step = 0;
  const job = {
    get step() {
      return step;
    },
    trainStep: () => Promise.resolve({ loss: 1 / ++step, gradNorm: 1, step }),
    checkpoint: () => Promise.resolve({ tensors: new Map(), state: { step } }),
    restore: (c: { state: unknown }) => {
      step = (c.state as { step: number }).step;
      return Promise.resolve();
    },
  };
  const runDir = await Deno.makeTempDir();
  try {
    await runTraining(job, {
      runDir,
      totalSteps: 10,
      config: {},
      checkpointEverySteps: 2,
      checkpointsKeep: 2,
      sampleEverySteps: 0,
      log: () => {},
    });
    const kept = [];
    for await (const e of Deno.readDir(join(runDir, "checkpoints"))) kept.push(e.name);
    assert.deepEqual(kept.sort(), ["step_000008.safetensors", "step_000010.safetensors"]);
    const c8 = await readRunCheckpoint(join(runDir, "checkpoints", "step_000008.safetensors"));
    assert.equal((c8.state as { job: { step: number } }).job.step, 8);
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
});

Deno.test("trainDreamBooth: --ema-decay ships the weight average; --validation-every and --checkpoints-keep write their files", async () => {
  const out = await Deno.makeTempDir(), cacheDir = await Deno.makeTempDir();
  try {
    const r = await trainDreamBooth({
      model: "preset:tiny",
      out,
      cacheDir,
      steps: 3,
      numClassImages: 1,
      classSteps: 1,
      instanceBatch: 1,
      gradAccum: 2,
      emaDecay: 0.5,
      lrSchedule: "cosine",
      lrWarmup: 1,
      noiseOffset: 0.1,
      snrGamma: 2,
      checkpointEverySteps: 1,
      checkpointsKeep: 2,
      sampleEverySteps: 2,
      validationPrompts: ["a {identifier} {class} in the snow", "a {class}"],
      finalSamples: false,
      superRes: false,
      log: () => {},
      warn: () => {},
    });
    assert.equal(r.summary.reason, "done");
    const config = JSON.parse(await Deno.readTextFile(join(out, "config.json")));
    assert.deepEqual(
      [
        config.trainer.gradAccum,
        config.trainer.lrSchedule,
        config.trainer.lrTotalSteps,
        config.trainer.lrWarmupSteps,
        config.trainer.noiseOffset,
        config.trainer.gamma,
        config.emaDecay,
      ],
      [2, "cosine", 3, 1, 0.1, 2, 0.5],
    );
    // The model holds the EMA (from the checkpoint's ema.* tensors), not the raw weights.
    const ckpt = await readRunCheckpoint(join(out, "checkpoint.safetensors"));
    const model = await readSafetensors(join(out, "model.safetensors"));
    const name = [...ckpt.tensors.keys()].find((k) =>
      k.startsWith("stages.0.") && /weight/.test(k)
    )!;
    const shipped = model.tensors.get(name)!.data as Float32Array;
    const avg = ckpt.tensors.get(`ema.${name}`)!.data as Float32Array;
    const raw = ckpt.tensors.get(name)!.data as Float32Array;
    assert.equal(maxDiff([Float32Array.from(shipped)], [Float32Array.from(avg)]), 0);
    assert.ok(maxDiff([Float32Array.from(shipped)], [Float32Array.from(raw)]) > 0);
    assert.equal((ckpt.state as { job: { emaUpdates: number } }).job.emaUpdates, 3);
    const kept = [];
    for await (const e of Deno.readDir(join(out, "checkpoints"))) kept.push(e.name);
    assert.deepEqual(kept.sort(), ["step_000002.safetensors", "step_000003.safetensors"]);
    const grids = [];
    for await (const e of Deno.readDir(join(out, "samples"))) grids.push(e.name);
    assert.ok(grids.includes("step_000002.png"), grids.join(", "));
    assert.deepEqual(config.validationPrompts, ["a sks dog in the snow", "a dog"]);
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("deno task train: bad values of the new options are refused before any work, by option name", async () => {
  const cases: [string[], RegExp][] = [
    [["--grad-accum", "0"], /'--grad-accum' must be an integer ≥ 1/],
    [["--ema-decay", "1"], /'--ema-decay' must be a finite number > 0 and < 1/],
    [["--lr-schedule", "linear"], /'--lr-schedule' must be one of constant, cosine/],
    [["--lr-warmup", "1.5"], /'--lr-warmup' must be an integer ≥ 0/],
    [["--noise-offset", "-0.1"], /'--noise-offset' must be a finite number ≥ 0/],
    [["--snr-gamma", "0"], /'--snr-gamma' must be a finite number > 0/],
    [["--checkpoints-keep", "-1"], /'--checkpoints-keep' must be an integer ≥ 0/],
    [["--validation-every", "x"], /'--validation-every' must be an integer ≥ 0/],
    [["--method", "textual-inversion", "--ema-decay", "0.9"], /'emaDecay' \(--ema-decay\)/],
  ];
  const error = console.error, log = console.log, warn = console.warn;
  const out = await Deno.makeTempDir();
  try {
    for (const [args, pattern] of cases) {
      let text = "";
      console.error = console.log = console.warn = (...a: unknown[]) => text += a.join(" ") + "\n";
      let code: number;
      try {
        code = await main(["--model", "preset:tiny", "--out", join(out, "o"), ...args]);
      } finally {
        console.error = error;
        console.log = log;
        console.warn = warn;
      }
      assert.equal(code, 2, `${args.join(" ")}: ${text}`);
      assert.match(text, pattern, `${args.join(" ")}: ${text}`);
      assert.doesNotMatch(text, /class images:|step \d+\//, "no compute before the error");
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("--validation-prompt (repeatable): the validation grid draws exactly those prompts", async () => {
  const parsed = parseCliArgs(dreamboothParams, [
    "--validation-prompt",
    "a sks dog in the snow",
    "--validation-prompt",
    "a dog",
  ]);
  assert.deepEqual(parsed.values.validationPrompts, ["a sks dog in the snow", "a dog"]);
  assert.throws(
    () => parseCliArgs(dreamboothParams, ["--validation-prompt", ""]),
    /'--validation-prompt' item 1 must have 1 to 1000 characters/,
  );
  assert.throws(
    () =>
      parseCliArgs(
        dreamboothParams,
        Array.from({ length: 65 }, () => ["--validation-prompt", "a dog"]).flat(),
      ),
    /'--validation-prompt' must have at most 64 items/,
  );
  using cascade = await createPreset("tiny", { seed: 0 });
  const im = { data: new Float32Array(32 * 32 * 3), width: 32, height: 32 };
  const config = createDreamBoothConfig({
    identifier: "sks",
    classNoun: "dog",
    instanceBatch: 1,
    validationPrompts: parsed.values.validationPrompts,
    sampleSteps: 1,
  });
  using job = createDreamBoothJob(cascade, { config, instanceImages: [im], classImages: [im] });
  const grid = await job.samples!();
  assert.deepEqual(grid.labels, ["a sks dog in the snow", "a dog"]);
  assert.equal(grid.images.length, 2);
});

Deno.test("--instance-prompt, --class-prompt, --class-dir: the prompts trained on; only the missing class images generated", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const classDir = join(tmp, "class");
    await Deno.mkdir(classDir);
    const cat = builtInSubjects().find((s) => s.name === "cat")!;
    const photos = [...Deno.readDirSync(cat.dir)].map((e) => e.name).filter((n) =>
      /\.(png|jpe?g)$/.test(n)
    ).sort().slice(0, 2);
    for (const f of photos) await Deno.copyFile(join(cat.dir, f), join(classDir, f));
    const out = join(tmp, "out");
    const r = await trainDreamBooth({
      model: "preset:tiny",
      out,
      cacheDir: join(tmp, "cache"),
      instancePrompt: "a photo of {identifier} {class}",
      classPrompt: "a photo of a {class}",
      classDir,
      steps: 1,
      numClassImages: 3,
      classSteps: 1,
      instanceBatch: 1,
      sampleEverySteps: 0,
      finalSamples: false,
      superRes: false,
      log: () => {},
      warn: () => {},
    });
    const config = JSON.parse(await Deno.readTextFile(join(out, "config.json")));
    assert.equal(config.instancePrompt, "a photo of sks dog");
    assert.equal(config.classPrompt, "a photo of a dog");
    const ci = r.metrics.classImages as { fromClassDir: number; generated: number; dir: string };
    assert.equal(ci.fromClassDir, 2);
    assert.equal(ci.generated, 1);
    const key = JSON.parse(await Deno.readTextFile(join(ci.dir, "key.json")));
    assert.equal(key.prompt, "a photo of a dog");
    // Refused by name before any work.
    await assert.rejects(
      () =>
        trainDreamBooth({
          model: "preset:tiny",
          out: join(tmp, "out2"),
          classDir: join(tmp, "nowhere"),
          log: () => {},
          warn: () => {},
        }),
      /'classDir' \(--class-dir\)/,
    );
    await assert.rejects(
      () =>
        trainDreamBooth({
          model: "preset:tiny",
          out: join(tmp, "out3"),
          classDir,
          priorPreservation: false,
          log: () => {},
          warn: () => {},
        }),
      /'classDir' \(--class-dir\) needs prior preservation/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("per-image captions: NAME.txt beside NAME.png is that image's prompt; an orphan .txt is still refused", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const dog = builtInSubjects().find((s) => s.name === "dog")!;
    const photos = [...Deno.readDirSync(dog.dir)].map((e) => e.name).filter((n) =>
      /\.(png|jpe?g)$/.test(n)
    ).sort().slice(0, 2);
    for (const f of photos) await Deno.copyFile(join(dog.dir, f), join(tmp, f));
    const stem = photos[0].replace(/\.[^.]+$/, "");
    await Deno.writeTextFile(join(tmp, `${stem}.txt`), "a {identifier} {class} on a sofa\n");
    const data = await loadInstanceData(tmp, { size: 32, onWarning: () => {} });
    assert.deepEqual(data.captions, [
      "a {identifier} {class} on a sofa",
      null,
      "a {identifier} {class} on a sofa", // the flip shares its image's caption
      null,
    ]);
    // Captions may also be listed in subject.json (NAME.txt wins where both exist).
    await Deno.writeTextFile(
      join(tmp, "subject.json"),
      JSON.stringify({
        classNoun: "dog",
        captions: { [photos[0]]: "x", [photos[1]]: "a [V] dog" },
      }),
    );
    const listed = await loadInstanceData(tmp, { size: 32, flip: false, onWarning: () => {} });
    assert.deepEqual(listed.captions, ["a {identifier} {class} on a sofa", "a [V] dog"]);
    await Deno.remove(join(tmp, "subject.json"));
    // The job trains image i on its caption: the rows' prompts, and a different step.
    using cascade = await createPreset("tiny", { seed: 0 });
    const config = createDreamBoothConfig({
      identifier: "sks",
      classNoun: "dog",
      instanceBatch: 4,
    });
    const captions = ["a sks dog on a sofa", null, "a sks dog on a sofa", null];
    const make = (instancePrompts: (string | null)[] | null) =>
      createDreamBoothJob(cascade, {
        config,
        instanceImages: data.pool,
        classImages: [data.images[1]],
        instancePrompts,
      });
    {
      using job = make(captions);
      const b = job.batchAt(1);
      for (let k = 0; k < 4; k++) {
        const i = data.pool.indexOf(b.images[k]);
        assert.equal(b.prompts[k], captions[i] ?? "a sks dog", `row ${k} (image ${i})`);
      }
      assert.ok(b.prompts.slice(0, 4).includes("a sks dog on a sofa"), b.prompts.join(" | "));
    }
    // The tokens the trainer receives are the rows' prompts (captions where given).
    {
      using job = make(captions);
      const b = job.batchAt(1);
      const trainer = job.trainer;
      const original = trainer.trainStepAsync.bind(trainer);
      let seen: Int32Array | null = null;
      trainer.trainStepAsync = (batch) => {
        seen = batch.tokens!.ids.slice();
        return original(batch);
      };
      await job.trainStep();
      const L = cascade.textEncoder.config.maxLength;
      const want = b.prompts.flatMap((q) => Array.from(cascade.tokenizer.encodeFixed(q, L).ids));
      assert.deepEqual(Array.from(seen!), want);
    }
    // An orphan text file is not a caption.
    await Deno.writeTextFile(join(tmp, "notes.txt"), "hello");
    await assert.rejects(() => loadInstanceData(tmp, { size: 32 }), /'notes\.txt'/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
