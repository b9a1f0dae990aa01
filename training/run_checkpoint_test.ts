import assert from "assert";
import { join } from "node:path";
import { readRunCheckpoint, writeRunCheckpoint } from "./run_checkpoint.ts";

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
