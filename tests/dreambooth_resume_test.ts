/**
 * Acceptance 3 of issue 6: `deno task train` killed with SIGKILL after its first checkpoint, then
 * resumed with `--resume`, continues from the last checkpoint; the loss log is continuous and no
 * file in the output folder is corrupt (tiny preset). Acceptance 4 of issue 32: the resumed run
 * ends with the same weights, bit for bit, as the same run uninterrupted (with a weight EMA, a
 * cosine schedule with warm-up and offset noise, so that every piece of state is checkpointed).
 */
import assert from "assert";
import { join } from "node:path";
import { readLossLog, readRunCheckpoint } from "../trainer/mod.ts";
import { loadCheckpoint, readSafetensors } from "../diffusion/mod.ts";
import { loadImage } from "../data/mod.ts";
import { initBackend } from "../backend/mod.ts";

await initBackend({ quiet: true });

const cli = new URL("../dreambooth/train_cli.ts", import.meta.url).pathname;
// Bit-for-bit equality needs the same BLAS thread count in every run: OpenBLAS's sgemm rounds
// differently with 1 and 2 threads. A run holds the count chosen at its start and records it
// (args.json, its checkpoints); a resume holds the recorded count, even against
// DREAMBOOTH_BLAS_THREADS (backend/blas.ts, trainer/training_run.ts). The first run is not pinned;
// the resume is pinned to another count (which it must ignore); the uninterrupted run is pinned to
// the recorded count, as the same run with the same count.

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...await walk(p));
    else out.push(p);
  }
  return out;
}

Deno.test("deno task train: SIGKILL after the first checkpoint, --resume finishes; loss log continuous, no corrupt file", async () => {
  const out = await Deno.makeTempDir();
  const straight = await Deno.makeTempDir();
  const cacheDir = await Deno.makeTempDir();
  const steps = 12;
  const args = [
    "run",
    "-A",
    cli,
    "--model",
    "preset:tiny",
    "--out",
    out,
    "--cache-dir",
    cacheDir,
    "--steps",
    String(steps),
    "--checkpoint-every",
    "3",
    "--validation-every",
    "6",
    "--log-every",
    "4",
    "--num-class-images",
    "2",
    "--class-steps",
    "2",
    "--batch",
    "1",
    "--no-samples",
    "--no-superres",
    "--ema-decay",
    "0.9",
    "--lr-schedule",
    "cosine",
    "--lr-warmup",
    "2",
    "--noise-offset",
    "0.05",
  ];
  try {
    const child = new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "null" })
      .spawn();
    const ckpt = join(out, "checkpoint.safetensors");
    const deadline = Date.now() + 60_000;
    let killedAt = -1;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      const log = await readLossLog(join(out, "loss.jsonl"));
      const hasCkpt = await Deno.stat(ckpt).then(() => true, () => false);
      if (hasCkpt && log.length >= 4) {
        child.kill("SIGKILL");
        killedAt = log.length;
        break;
      }
    }
    const status = await child.status;
    assert.ok(killedAt > 0, "the child never reached its first checkpoint");
    assert.equal(status.signal, "SIGKILL");
    const mid = await readRunCheckpoint(ckpt);
    const midStep = (mid.state as { run: { step: number } }).run.step;
    assert.ok(midStep >= 3 && midStep < steps, `checkpoint at step ${midStep}`);

    const recorded = JSON.parse(await Deno.readTextFile(join(out, "args.json")))[0].blasThreads;
    const blas: { resume?: Record<string, string>; same?: Record<string, string> } =
      recorded === undefined ? {} : {
        resume: { DREAMBOOTH_BLAS_THREADS: String(recorded === 1 ? 2 : 1) },
        same: { DREAMBOOTH_BLAS_THREADS: String(recorded) },
      };
    const resumed = await new Deno.Command(Deno.execPath(), {
      env: blas.resume,
      args: [...args, "--resume"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(resumed.stdout) +
      new TextDecoder().decode(resumed.stderr);
    assert.equal(resumed.code, 0, text);
    assert.match(text, new RegExp(`resuming '.*' from step ${midStep}`));

    const log = await readLossLog(join(out, "loss.jsonl"));
    assert.deepEqual(log.map((p) => p.step), Array.from({ length: steps }, (_, i) => i + 1));
    assert.ok(log.every((p) => Number.isFinite(p.loss)));
    // Every file parses: JSON, safetensors, PNG; no temporary file is left behind.
    for (const f of await walk(out)) {
      assert.ok(!f.endsWith(".tmp"), `leftover ${f}`);
      if (f.endsWith(".json")) JSON.parse(await Deno.readTextFile(f));
      if (f.endsWith(".png")) await loadImage(f);
      if (f.endsWith(".jsonl")) {
        for (const l of (await Deno.readTextFile(f)).split("\n").filter(Boolean)) JSON.parse(l);
      }
    }
    assert.equal((await readRunCheckpoint(ckpt)).state && true, true);
    const model = await loadCheckpoint(join(out, "model.safetensors"));
    assert.equal(model.kind, "cascade");
    model.model.dispose();
    const info = JSON.parse(await Deno.readTextFile(join(out, "dreambooth.json")));
    assert.equal(info.identifier, "sks");
    assert.equal(info.classNoun, "dog");
    const args2 = JSON.parse(await Deno.readTextFile(join(out, "args.json")));
    assert.equal(args2.length, 2);
    assert.equal(args2[1].fromStep, midStep);
    assert.equal(args2[1].blasThreads, recorded, "the resume held the recorded BLAS thread count");

    // The same run uninterrupted (same class-image cache): the same bits everywhere.
    const once = await new Deno.Command(Deno.execPath(), {
      env: blas.same,
      args: args.map((a) => a === out ? straight : a),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(once.code, 0, new TextDecoder().decode(once.stderr));
    const lossOnce = await readLossLog(join(straight, "loss.jsonl"));
    assert.deepEqual(log.map((p) => p.loss), lossOnce.map((p) => p.loss), "per-step losses");
    for (const file of ["model.safetensors", "checkpoint.safetensors"]) {
      const a = await readSafetensors(join(out, file));
      const b = await readSafetensors(join(straight, file));
      assert.deepEqual([...a.tensors.keys()].sort(), [...b.tensors.keys()].sort());
      let compared = 0;
      for (const [name, t] of a.tensors) {
        const u = b.tensors.get(name)!;
        const bytes = (x: typeof t) =>
          new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength);
        assert.deepEqual(t.shape, u.shape, name);
        assert.ok(
          bytes(t).length === bytes(u).length && bytes(t).every((v, i) => v === bytes(u)[i]),
          `${file}: '${name}' differs between the resumed and the uninterrupted run`,
        );
        compared++;
      }
      assert.ok(compared > 10, `${file}: ${compared} tensors compared`);
    }
    // The EMA and the optimizer moments are in the checkpoint that was compared.
    const names = [...(await readRunCheckpoint(ckpt)).tensors.keys()];
    assert.ok(names.some((n) => n.startsWith("ema.")), "EMA checkpointed");
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(straight, { recursive: true });
    await Deno.remove(cacheDir, { recursive: true });
  }
});
