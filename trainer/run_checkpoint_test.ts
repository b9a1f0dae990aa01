import assert from "assert";
import { join } from "node:path";
import {
  loadTrainerState,
  readRunCheckpoint,
  saveTrainerState,
  writeRunCheckpoint,
} from "./run_checkpoint.ts";

const big = (v: number) =>
  new Map([["w", { shape: [1 << 20], data: new Float32Array(1 << 20).fill(v) }]]);

Deno.test("writeRunCheckpoint: round trip, reserved keys, and a non-checkpoint is refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "c.safetensors");
    await writeRunCheckpoint(path, {
      tensors: big(2),
      state: { step: 7, nested: [1] },
      metadata: { stage: "base" },
    });
    const c = await readRunCheckpoint(path);
    assert.deepEqual(c.state, { step: 7, nested: [1] });
    assert.equal(c.metadata.stage, "base");
    assert.equal(c.tensors.get("w")!.data[12345], 2);
    await assert.rejects(
      () => writeRunCheckpoint(path, { tensors: big(1), state: {}, metadata: { state: "x" } }),
      /metadata key 'state' is reserved/,
    );
    assert.equal((await readRunCheckpoint(path)).tensors.get("w")!.data[0], 2); // untouched
    const plain = join(dir, "plain.safetensors");
    const { writeSafetensors } = await import("./deps.ts");
    await writeSafetensors(plain, { w: { shape: [1], data: new Float32Array([1]) } });
    await assert.rejects(() => readRunCheckpoint(plain), /not|lacks format "dreambooth-ts-run"/);
    const leftovers = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".tmp"));
    assert.deepEqual(leftovers, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeRunCheckpoint: a process killed (SIGKILL) while writing leaves a complete checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "c.safetensors");
    await writeRunCheckpoint(path, { tensors: big(0), state: { step: 0 } });
    // A child rewrites the checkpoint in a loop with growing values; it is killed mid-stream.
    const script = `
      import { writeRunCheckpoint } from ${
      JSON.stringify(new URL("./run_checkpoint.ts", import.meta.url).href)
    };
      for (let i = 1; ; i++) {
        await writeRunCheckpoint(${JSON.stringify(path)}, {
          tensors: new Map([["w", { shape: [1 << 20], data: new Float32Array(1 << 20).fill(i) }]]),
          state: { step: i },
        });
        if (i === 1) console.log("first");
      }`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.getReader();
    await reader.read(); // the first rewrite is done
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 100));
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    const c = await readRunCheckpoint(path);
    const step = (c.state as { step: number }).step;
    assert.ok(step >= 1);
    const w = c.tensors.get("w")!.data as Float32Array;
    assert.ok(w.every((v) => v === step), "every value belongs to the same write");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("saveTrainerState/loadTrainerState: the optimizer.m/v.<name> format of existing run checkpoints", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A checkpoint as the jobs wrote it before these helpers existed (names, shapes and state by hand).
    const path = join(dir, "old.safetensors");
    const f = (...x: number[]) => new Float32Array(x);
    await writeRunCheckpoint(path, {
      tensors: new Map([
        ["stages.0.unet.w", { shape: [2], data: f(1, 2) }],
        ["optimizer.m.unet.w", { shape: [2], data: f(0.1, 0.2) }],
        ["optimizer.v.unet.w", { shape: [2], data: f(0.01, 0.04) }],
        ["optimizer.m.text_encoder.e", { shape: [1], data: f(0.5) }],
        ["optimizer.v.text_encoder.e", { shape: [1], data: f(0.25) }],
      ]),
      state: { step: 7, iterations: 6, dataSeed: 1, nextScene: 14 },
    });
    const ckpt = await readRunCheckpoint(path);
    const state = loadTrainerState(ckpt);
    assert.deepEqual(state, {
      step: 7,
      optimizer: {
        iterations: 6,
        moments: {
          "unet.w": { m: f(0.1, 0.2), v: f(0.01, 0.04) },
          "text_encoder.e": { m: f(0.5), v: f(0.25) },
        },
      },
    });
    assert.notEqual(
      state.optimizer.moments["unet.w"].m,
      ckpt.tensors.get("optimizer.m.unet.w")!.data,
    );

    // Saving that state gives back the same tensors and the same state counters.
    const tensors = new Map([["stages.0.unet.w", { shape: [2], data: f(1, 2) }]]);
    const counters = saveTrainerState(tensors, state);
    assert.deepEqual(counters, { step: 7, iterations: 6 });
    assert.deepEqual(new Set(tensors.keys()), new Set(ckpt.tensors.keys()));
    for (const [k, t] of ckpt.tensors) {
      assert.deepEqual(tensors.get(k)!.shape, t.shape, k);
      assert.deepEqual(Array.from(tensors.get(k)!.data), Array.from(t.data), k);
    }

    ckpt.tensors.delete("optimizer.v.unet.w");
    assert.throws(() => loadTrainerState(ckpt), /lacks 'optimizer\.v\.unet\.w'/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
