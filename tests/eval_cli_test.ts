// `deno task eval`: --help, a missing --model, and a run with the tiny diffusion preset (untrained:
// checks the wiring to diffusion's cascade, not the quality).
import assert from "assert";
import { join } from "node:path";
import { initBackend } from "../backend/mod.ts";
import { createPreset, saveCheckpoint } from "../diffusion/mod.ts";

const root = new URL("..", import.meta.url).pathname;
const cli = (args: string[]) =>
  new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(root, "eval/cli.ts"), ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("eval CLI: --help and a missing --model", async () => {
  const help = await cli(["--help"]);
  assert.equal(help.code, 0);
  assert.ok(text(help.stdout).includes("--model PATH"));
  const missing = await cli([]);
  assert.equal(missing.code, 2);
  assert.ok(text(missing.stderr).includes("'--model' is required"));
});

Deno.test({
  name: "eval CLI: a cascade checkpoint folder (tiny preset) through the cascade writes the report",
  sanitizeResources: false,
  fn: async () => {
    const out = await Deno.makeTempDir();
    const model = await Deno.makeTempDir();
    try {
      await initBackend({ quiet: true });
      {
        using cascade = await createPreset("tiny");
        await saveCheckpoint(join(model, "cascade.safetensors"), cascade);
      }
      const run = await cli([
        "--model",
        model,
        "--prompts",
        "1",
        "--samples",
        "2",
        "--pres",
        "2",
        "--steps",
        "2",
        "--out",
        out,
        "--backend",
        "wasm-native",
      ]);
      assert.equal(run.code, 0, text(run.stderr));
      assert.ok(text(run.stdout).includes("ETA"));
      const json = JSON.parse(await Deno.readTextFile(join(out, "metrics.json")));
      assert.equal(json.prompts.length, 1);
      assert.equal(json.info.model, model);
      await Deno.stat(join(out, "grids", "prompt-00.png"));
      const preset = await cli(["--model", "preset:nope", "--out", out]);
      assert.notEqual(preset.code, 0);
      assert.ok(text(preset.stderr).includes("preset 'nope'"));
    } finally {
      await Deno.remove(out, { recursive: true });
      await Deno.remove(model, { recursive: true });
    }
  },
});
