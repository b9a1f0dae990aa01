import assert from "assert";
import { join } from "node:path";
import { defaultSubject } from "../data/mod.ts";

const cli = new URL("./train_cli.ts", import.meta.url).pathname;

/** Runs the CLI in a subprocess (tiny preset); bad inputs must fail before any compute. */
async function run(args: string[]): Promise<{ code: number; text: string; seconds: number }> {
  const t0 = performance.now();
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, "--model", "preset:tiny", "--no-samples", "--no-superres", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  return { code: r.code, text, seconds: (performance.now() - t0) / 1000 };
}

Deno.test("deno task train: bad inputs give clear errors before any compute", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const empty = join(tmp, "empty");
    await Deno.mkdir(empty);
    const notImages = join(tmp, "notes");
    await Deno.mkdir(notImages);
    await Deno.copyFile(join(defaultSubject().dir, "00.png"), join(notImages, "00.png"));
    await Deno.writeTextFile(join(notImages, "notes.txt"), "hello");
    const tiny = join(tmp, "tiny");
    await Deno.mkdir(tiny);
    await Deno.copyFile(join(defaultSubject().dir, "00.png"), join(tiny, "00.png"));
    const sharp = (await import("npm:sharp@0.35.5")).default;
    await sharp(new Uint8Array([200, 10, 10]), { raw: { width: 1, height: 1, channels: 3 } })
      .png().toFile(join(tiny, "dot.png"));
    const out = join(tmp, "out");
    const cases: [string[], RegExp][] = [
      [["--instance-dir", empty, "--class-noun", "dog"], /holds no images/],
      [["--instance-dir", notImages, "--class-noun", "dog"], /'notes.txt'/],
      [
        ["--instance-dir", tiny, "--class-noun", "dog"],
        /as a photo is smaller than 64 px on the short side: 'dot\.png' \(1×1\)/,
      ],
      [["--instance-dir", empty], /'classNoun' \(--class-noun\) is required/],
      [["--lr=-1"], /'--lr' must be a finite number > 0 and ≤ 10: current value is "-1"/],
      [["--lr", "NaN"], /'--lr' must be a finite number > 0 and ≤ 10: current value is "NaN"/],
      [["--prior-weight", "Infinity"], /'--prior-weight' must be a finite number/],
      [
        ["--steps", "2.5"],
        /'--steps' must be an integer ≥ 1 and ≤ 1000000: current value is "2.5"/,
      ],
      // Issue 36 item 7: bounds of the declaration, before any work, in option names.
      [["--lr", "1e308"], /'--lr' must be a finite number > 0 and ≤ 10: current value is "1e308"/],
      [["--batch", "0"], /'--batch' must be an integer ≥ 1 and ≤ 256: current value is "0"/],
      [
        ["--steps", "abc"],
        /'--steps' must be an integer ≥ 1 and ≤ 1000000: current value is "abc"/,
      ],
      // Issue 36 item 8: a negative number after a space gets the range message.
      [["--lr", "-1"], /'--lr' must be a finite number > 0 and ≤ 10: current value is "-1"/],
      [["--seed", "-1"], /'--seed' must be an integer ≥ 0 and ≤ 2147483647: current value is "-1"/],
      [["--identifier", "zwx"], /identifier "zwx" as it does not round-trip/],
      [["--class-noun", ""], /prior preservation needs a class noun/],
      [["--method", "lora"], /'--method' must be one of dreambooth, textual-inversion/],
    ];
    for (const [args, pattern] of cases) {
      const r = await run([...args, "--out", out]);
      assert.notEqual(r.code, 0, `${args.join(" ")}: ${r.text}`);
      assert.match(r.text, pattern, `${args.join(" ")}: ${r.text}`);
      assert.doesNotMatch(r.text, /class images:|step \d+\//, "no compute before the error");
      assert.ok(!(await Deno.stat(join(out, "loss.jsonl")).catch(() => null)), "no run started");
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("deno task train: a single image warns and continues; greyscale/alpha PNGs are handled", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const one = join(tmp, "one");
    await Deno.mkdir(one);
    // A greyscale + alpha PNG (sharp writes it): data/ flattens alpha onto white and expands grey.
    const sharp = (await import("npm:sharp@0.35.5")).default;
    const ga = new Uint8Array(80 * 64 * 2).map((_, k) => (k % 2 ? 128 : 90));
    await sharp(ga, { raw: { width: 80, height: 64, channels: 2 } })
      .png().toFile(join(one, "grey_alpha.png"));
    const r = await run([
      "--instance-dir",
      one,
      "--class-noun",
      "dog",
      "--out",
      join(tmp, "out"),
      "--cache-dir",
      join(tmp, "cache"),
      "--steps",
      "1",
      "--num-class-images",
      "1",
      "--class-steps",
      "1",
      "--batch",
      "1",
      "--sample-every",
      "0",
    ]);
    assert.equal(r.code, 0, r.text);
    assert.match(r.text, /warning: .*single image/);
    assert.match(r.text, /summary: done at step 1\/1/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("deno task train --lr 10: the stop message is true and its advice, run as printed, continues the run", async () => {
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
      return {
        code: r.code,
        text: new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr),
      };
    };
    const common = `deno task train --model preset:tiny --lr 10 --steps 20 --num-class-images 8 ` +
      `--class-steps 5 --no-samples --no-superres --cache-dir ${join(tmp, "cache")}`;
    // Before the first checkpoint (the command): nothing to resume, a fresh start advised.
    const fresh = join(tmp, "lr10");
    const a = await sh(`${common} --out ${fresh}`);
    assert.equal(a.code, 1, a.text);
    const errorA = a.text.split("\n").find((l) => l.startsWith("error:"))!;
    assert.match(
      errorA,
      /No checkpoint had been written yet \(the first was due at step 50\), so there is nothing to resume/,
    );
    assert.doesNotMatch(errorA, /checkpoint\.safetensors/);
    assert.ok(!(await Deno.stat(join(fresh, "checkpoint.safetensors")).catch(() => null)));
    const adviceA = errorA.split("to start again with a lower learning rate: ")[1];
    assert.match(adviceA, /^deno task train .* --lr 0\.0001$/);
    const a2 = await sh(adviceA);
    assert.equal(a2.code, 0, a2.text);
    assert.match(a2.text, /summary: done at step 20\/20/);
    await Deno.stat(join(fresh, "model.safetensors"));
    // After a checkpoint: that checkpoint is named, and the advice resumes it with the lower rate.
    const ck = join(tmp, "ck");
    const b = await sh(`${common} --checkpoint-every 5 --out ${ck}`);
    assert.equal(b.code, 1, b.text);
    const errorB = b.text.split("\n").find((l) => l.startsWith("error:"))!;
    const m = errorB.match(
      /The last good checkpoint \(step (\d+)\) is kept in '(.*)'; to continue from it with a lower learning rate: (.*)$/,
    );
    assert.ok(m, errorB);
    await Deno.stat(m[2]);
    assert.match(m[3], / --lr 0\.0001 --resume$/);
    const b2 = await sh(m[3]);
    assert.equal(b2.code, 0, b2.text);
    assert.match(b2.text, new RegExp(`resuming '.*' from step ${m[1]} `));
    assert.match(b2.text, /resuming with changed settings: trainer\.learningRate 10 → 0\.0001/);
    assert.match(b2.text, /summary: done at step 20\/20 \(this run: \d+ steps/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
