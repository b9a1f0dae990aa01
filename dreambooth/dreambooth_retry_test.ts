/**
 * Issue 36 acceptance 2: after a loss blow-up, `deno task train` ends with a message that is true
 * and advice that works: the advised command, run as printed by a shell, continues the run.
 *
 * The blow-up is injected at step 13 (where `--lr 10` on the tiny preset first gave NaN on the
 * wasm-native backend): whether a given backend's numerics overflow within 20 steps is chance,
 * and the test must not depend on it. Everything after it (the message, the advice, running the
 * advice through the real CLI) is the product's.
 */
import assert from "assert";
import { join } from "node:path";
import { initBackend } from "./deps.ts";
import { trainDreamBooth } from "./dreambooth_train.ts";
import { NonFiniteLossError } from "./deps.ts";

await initBackend({ quiet: true });

Deno.test("deno task train --lr 10: after a blow-up the message is true and its advice, run as printed, continues the run", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    // `deno task train` as a user types it: a `deno` on the PATH, run from the repository root.
    const bin = join(tmp, "bin");
    await Deno.mkdir(bin);
    await Deno.symlink(Deno.execPath(), join(bin, "deno"));
    const env = { PATH: `${bin}:${Deno.env.get("PATH") ?? ""}` };
    const root = new URL("..", import.meta.url).pathname;
    const sh = async (line: string) => {
      const r = await new Deno.Command("sh", { args: ["-c", line], cwd: root, env }).output();
      const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
      return { code: r.code, text };
    };
    const cache = join(tmp, "cache");
    /** The command (its arguments as the CLI hands them on), stopped at step 13. */
    const run = async (out: string, extra: string[], checkpointEverySteps?: number) => {
      const args = [
        ...["--model", "preset:tiny", "--lr", "10", "--steps", "20", "--num-class-images", "8"],
        ...["--class-steps", "5", "--no-samples", "--no-superres", "--cache-dir", cache],
        ...["--out", out, ...extra],
      ];
      const lines: string[] = [];
      const r = await trainDreamBooth({
        model: "preset:tiny",
        learningRate: 10,
        steps: 20,
        numClassImages: 8,
        classSteps: 5,
        finalSamples: false,
        superRes: false,
        cacheDir: cache,
        out,
        ...(checkpointEverySteps ? { checkpointEverySteps } : {}),
        args,
        command: "deno task train",
        onProgress: ({ step }) => {
          if (step === 13) throw new NonFiniteLossError(13, NaN, NaN);
        },
        log: (l) => lines.push(l),
        warn: () => {},
      });
      assert.equal(r.summary.reason, "non-finite loss");
      return lines;
    };

    // Before the first checkpoint: nothing to resume, and a fresh start is advised.
    const fresh = join(tmp, "lr10");
    const a = await run(fresh, []);
    const errorA = a.find((l) => l.startsWith("error:"))!;
    assert.match(
      errorA,
      /No checkpoint had been written yet \(the first was due at step 50\), so there is nothing to resume/,
    );
    assert.doesNotMatch(errorA, /checkpoint\.safetensors/);
    assert.match(
      a.at(-1)!,
      /^summary: non-finite loss at step 13\/20 \(no checkpoint\).*\| no checkpoint \|/,
    );
    assert.ok(!(await Deno.stat(join(fresh, "checkpoint.safetensors")).catch(() => null)));
    const adviceA = errorA.split("to start again with a lower learning rate: ")[1];
    assert.match(adviceA, /^deno task train --model preset:tiny .* --out \S+ --lr 0\.0001$/);
    const a2 = await sh(adviceA);
    assert.equal(a2.code, 0, a2.text);
    assert.match(a2.text, /20 steps at lr 0\.0001/);
    assert.match(a2.text, /summary: done at step 20\/20 \(this run: 20 steps/);
    await Deno.stat(join(fresh, "model.safetensors"));

    // After a checkpoint: that checkpoint is named, and the advice resumes it at a lower rate.
    const ck = join(tmp, "ck");
    const b = await run(ck, ["--checkpoint-every", "5"], 5);
    const errorB = b.find((l) => l.startsWith("error:"))!;
    const m = errorB.match(
      /The last good checkpoint \(step 10\) is kept in '(.*)'; to continue from it with a lower learning rate: (.*)$/,
    );
    assert.ok(m, errorB);
    await Deno.stat(m[1]);
    assert.match(m[2], / --checkpoint-every 5 --lr 0\.0001 --resume$/);
    const b2 = await sh(m[2]);
    assert.equal(b2.code, 0, b2.text);
    assert.match(b2.text, /resuming '.*' from step 10 /);
    assert.match(b2.text, /resuming with changed settings: trainer\.learningRate 10 → 0\.0001/);
    assert.match(b2.text, /summary: done at step 20\/20 \(this run: 10 steps/);
    const history = JSON.parse(await Deno.readTextFile(join(ck, "args.json")));
    assert.deepEqual(history.at(-1).changed, {
      "trainer.learningRate": { from: 10, to: 0.0001 },
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
