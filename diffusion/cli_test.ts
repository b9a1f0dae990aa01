import assert from "assert";
import { main } from "./cli.ts";
import { createPreset } from "./pipeline/presets.ts";
import { saveCheckpoint } from "./io/checkpoint.ts";
import { initBackend } from "./deps.ts";
import { promptFit } from "./pipeline/prompt_fit.ts";

await initBackend({ quiet: true });

Deno.test("cli sample: --help, bad arguments exit 2, a checkpoint samples to a PNG", async () => {
  assert.equal(await main(["sample", "--help"]), 0);
  assert.equal(await main(["sample", "--preset", "tiny"]), 2); // no prompt
  assert.equal(await main(["sample", "--preset", "huge", "--prompt", "a"]), 2);
  assert.equal(await main(["sample", "--preset", "tiny", "--prompt", "a", "--steps", "0"]), 2);
  assert.equal(await main(["sample", "--preset", "tiny", "--prompt", "a", "--backend", "tpu"]), 2);
  assert.equal(await main(["paint"]), 2);
  assert.equal(await main(["sample", "--preset", "tiny", "--model", "x", "--prompt", "a"]), 2);
  const dir = await Deno.makeTempDir();
  try {
    {
      using c = await createPreset("tiny", { seed: 1 });
      await saveCheckpoint(`${dir}/m.safetensors`, c, { dtype: "F16" });
    }
    const out = `${dir}/out.png`;
    const args = [
      "sample",
      "--model",
      `${dir}/m.safetensors`,
      "--prompt",
      "a red dog",
      "--seed",
      "3",
    ];
    assert.equal(
      await main([
        ...args,
        "--steps",
        "2",
        "--stages",
        "1",
        "--out",
        out,
        "--sampler",
        "ancestral",
      ]),
      0,
    );
    const png = await Deno.readFile(out);
    assert.deepEqual(Array.from(png.subarray(1, 4)), [80, 78, 71]);
    assert.equal(new DataView(png.buffer).getUint32(16), 32); // IHDR width
    // A folder holding cascade.safetensors (the layout of models/default) is a model too.
    await Deno.rename(`${dir}/m.safetensors`, `${dir}/cascade.safetensors`);
    const out2 = `${dir}/out2.png`;
    const folderArgs = ["sample", "--model", dir, "--prompt", "a", "--steps", "2", "--stages", "1"];
    assert.equal(await main([...folderArgs, "--out", out2]), 0);
    assert.equal(new DataView((await Deno.readFile(out2)).buffer).getUint32(16), 32);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function stderrOf(f: () => Promise<number>): Promise<{ code: number; err: string }> {
  const lines: string[] = [];
  const { error } = console;
  const write = Deno.stderr.writeSync;
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  Deno.stderr.writeSync = (p: Uint8Array) => p.length;
  try {
    return { code: await f(), err: lines.join("\n") };
  } finally {
    console.error = error;
    Deno.stderr.writeSync = write;
  }
}

Deno.test("cli sample: the prompt rule of RPC: blank refused, long warned (issue 36 item 6)", async () => {
  for (const blank of ["", "   "]) {
    const r = await stderrOf(() => main(["sample", "--preset", "tiny", "--prompt", blank]));
    assert.equal(r.code, 2);
    assert.match(r.err, /^error: Cannot sample as '--prompt' must not be empty\n\nUsage:/);
  }
  const dir = await Deno.makeTempDir();
  try {
    const prompt = "a dog on the beach ".repeat(200);
    const r = await stderrOf(() =>
      main([
        "sample",
        ...["--preset", "tiny", "--prompt", prompt, "--steps", "1", "--stages", "1"],
        ...["--out", `${dir}/x.png`],
      ])
    );
    assert.equal(r.code, 0, r.err);
    using c = await createPreset("tiny", { seed: 0 });
    const { warning } = promptFit(prompt, {
      tokenizer: c.tokenizer,
      length: c.textEncoder.config.maxLength,
    });
    assert.match(warning!, /tokens are dropped/);
    assert.ok(r.err.includes(`warning: ${warning}`), r.err);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli sample: --model naming a folder without a checkpoint, or nothing, says so (no raw OS error)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/folder`);
    await Deno.mkdir(`${dir}/as.safetensors`);
    const cases: [string, RegExp][] = [
      [
        "/etc",
        /^error: Cannot sample as '--model' "\/etc" is a folder without cascade\.safetensors or model\.safetensors/,
      ],
      [`${dir}/folder`, /is a folder without cascade\.safetensors or model\.safetensors/],
      [`${dir}/missing`, /^error: Cannot sample as '--model' ".*missing" does not exist/],
    ];
    for (const [model, pattern] of cases) {
      const r = await stderrOf(() => main(["sample", "--model", model, "--prompt", "a dog"]));
      assert.equal(r.code, 2, r.err); // bad input, found before any work
      assert.match(r.err, pattern);
      assert.doesNotMatch(r.err, /os error|readfile|Usage:/);
    }
    // A folder named like a checkpoint reaches the reader, which says what it is.
    const r = await stderrOf(() =>
      main(["sample", "--model", `${dir}/as.safetensors/`, "--prompt", "a dog"])
    );
    assert.doesNotMatch(r.err, /os error|readfile/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli sample: a runtime error prints its message only, no usage (issue 36 item 8)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/bad.safetensors`, new Uint8Array([1, 2, 3]));
    const r = await stderrOf(() =>
      main(["sample", "--model", `${dir}/bad.safetensors`, "--prompt", "a dog"])
    );
    assert.notEqual(r.code, 0);
    assert.match(r.err, /^error: /);
    assert.doesNotMatch(r.err, /Usage:/);
    // A RangeError found at run time (the cascade has 2 stages, not 8): message only, exit 2.
    const late = await stderrOf(() =>
      main(["sample", "--preset", "tiny", "--prompt", "a", "--stages", "8", "--steps", "1"])
    );
    assert.equal(late.code, 2);
    assert.match(late.err, /'stages' must be an integer in \[1, 2\]/);
    assert.doesNotMatch(late.err, /Usage:/);
    const usage = await stderrOf(() => main(["sample", "--preset", "tiny", "--steps", "-1"]));
    assert.equal(usage.code, 2);
    assert.match(usage.err, /'--steps' must be an integer ≥ 1 and ≤ 1000: current value is "-1"/);
    assert.match(usage.err, /Usage: deno task sample/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
