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
      // IF-only settings with the project's own cascade (issue 31).
      [["--sr-model", empty], /'srModel' \(--sr-model\) applies to DeepFloyd IF models/],
      [["--model", empty], /nor a DeepFloyd IF folder with model_index\.json/],
      [["--method", "sdxl"], /'--method' must be one of dreambooth, lora, textual-inversion/],
      // LoRA options: bounds, and only with --method lora (issue 32).
      [
        ["--method", "lora", "--rank", "0"],
        /'--rank' must be an integer ≥ 1.*current value is "0"/,
      ],
      [
        ["--method", "lora", "--rank", "2.5"],
        /'--rank' must be an integer.*current value is "2\.5"/,
      ],
      [["--method", "lora", "--lora-alpha", "0"], /'--lora-alpha' must be .*> 0.*"0"/],
      [
        ["--method", "lora", "--lora-targets", "mlp"],
        /'--lora-targets' must be one of attn, attn\+conv: current value is "mlp"/,
      ],
      [
        ["--rank", "4"],
        /'rank' \(--rank\) needs --method lora: current value is 4 with --method dreambooth/,
      ],
      [["--lora-targets", "attn"], /'loraTargets' \(--lora-targets\) needs --method lora/],
      [
        ["--method", "lora", "--ema-decay", "0.9"],
        /'emaDecay' \(--ema-decay\) is not supported with --method lora/,
      ],
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
      "--validation-every",
      "0",
    ]);
    assert.equal(r.code, 0, r.text);
    assert.match(r.text, /warning: .*single image/);
    assert.match(r.text, /summary: done at step 1\/1/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
