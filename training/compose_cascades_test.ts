import assert from "assert";
import { join } from "node:path";
import { buildCascade, loadCheckpoint, presetConfig, saveCheckpoint } from "../diffusion/mod.ts";
import { initBackend } from "../backend/mod.ts";
import { readSafetensors, writeSafetensors } from "./deps.ts";
import { composeCascades } from "./compose_cascades.ts";
import { main } from "./compose_cli.ts";

const rangeError = (part: string) => (e: unknown) =>
  e instanceof RangeError && e.message.includes(part);

Deno.test({
  name:
    "composeCascades: a tiny cascade's base and text encoder from a base-only checkpoint, the SR stage kept, loadable",
  sanitizeResources: false,
  fn: async () => {
    await initBackend({ quiet: true });
    const dir = await Deno.makeTempDir();
    try {
      const config = presetConfig("tiny");
      assert.ok(config.stages.length >= 2, "the tiny preset has SR stages");
      {
        using full = await buildCascade(config, { seed: 1 });
        await saveCheckpoint(join(dir, "full.safetensors"), full, { dtype: "F32" });
        using base = await buildCascade({ ...config, stages: config.stages.slice(0, 1) }, {
          seed: 2,
        });
        await saveCheckpoint(join(dir, "base.safetensors"), base, { dtype: "F32" });
      }
      const full = await readSafetensors(join(dir, "full.safetensors"));
      const base = await readSafetensors(join(dir, "base.safetensors"));
      const r = await composeCascades(
        join(dir, "full.safetensors"),
        join(dir, "base.safetensors"),
        ["base", "text_encoder"],
        join(dir, "out"),
        { dtype: "F32" },
      );
      assert.deepEqual(r.taken + r.kept, full.tensors.size);
      assert.deepEqual(r.taken, base.tensors.size);
      const c = await readSafetensors(r.path);
      let fromBase = 0, fromFull = 0, differing = 0;
      for (const [name, t] of c.tensors) {
        const donorPart = name.startsWith("stages.0.") || name.startsWith("text_encoder.");
        const src = donorPart ? base.tensors.get(name)! : full.tensors.get(name)!;
        assert.deepEqual([...t.data], [...src.data], name);
        if (donorPart) {
          fromBase++;
          // Seeds 1 and 2 differ in every randomly initialised tensor (biases start at 0 in both).
          if (t.data.some((v, k) => v !== full.tensors.get(name)!.data[k])) differing++;
        } else fromFull++;
      }
      assert.ok(fromBase > 0 && fromFull > 0);
      // 63 of the 208 taken tensors are randomly initialised (the rest are biases and norm gains).
      assert.ok(differing > fromBase / 4, `${differing} of ${fromBase} taken tensors differ`);
      assert.equal(c.metadata.config, full.metadata.config, "the target's config is kept");
      assert.equal(c.metadata.steps, undefined);
      assert.deepEqual(JSON.parse(c.metadata.composed).parts, ["base", "text_encoder"]);
      const loaded = await loadCheckpoint(r.path);
      assert.equal(loaded.kind, "cascade");
      loaded.model.dispose();
      const info = JSON.parse(await Deno.readTextFile(join(dir, "out", "model.json")));
      assert.deepEqual(info.composed.parts, ["base", "text_encoder"]);
      // The SR stage is not in the base-only donor; the CLI says so and exits 2 (bad arguments).
      await assert.rejects(
        () =>
          composeCascades(
            join(dir, "full.safetensors"),
            join(dir, "base.safetensors"),
            ["sr1"],
            join(dir, "x"),
          ),
        rangeError("part 'sr1' is missing from or configured differently"),
      );
      assert.deepEqual(
        await main([
          "--target",
          join(dir, "full.safetensors"),
          "--donor",
          dir + "/base.safetensors",
          "--parts",
          "sr1",
          "--out",
          join(dir, "x"),
        ]),
        2,
      );
      assert.deepEqual(
        await main([
          "--target",
          join(dir, "full.safetensors"),
          "--donor",
          join(dir, "base.safetensors"),
          "--parts",
          "base",
          "--out",
          join(dir, "cli"),
        ]),
        0,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "composeCascades: refuses no parts, unknown or repeated parts, other shapes, missing files",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const config = (stages: number) =>
        JSON.stringify({ tokenizer: {}, textEncoder: {}, stages: Array(stages).fill({}) });
      const meta = (c: string) => ({ format: "dreambooth-ts", kind: "cascade", config: c });
      const p = (n: string) => join(dir, `${n}.safetensors`);
      const w = (n: number) => ({
        "stages.0.w": { shape: [n], data: new Float32Array(n).fill(n) },
        "stages.1.w": { shape: [1], data: new Float32Array([9]) },
      });
      await writeSafetensors(p("a"), w(2), { metadata: meta(config(2)) });
      await writeSafetensors(p("b"), w(2), { metadata: meta(config(2)) });
      await writeSafetensors(p("c"), w(3), { metadata: meta(config(2)) });
      await writeSafetensors(p("d"), {
        ...w(2),
        "stages.0.extra": { shape: [1], data: new Float32Array([1]) },
      }, { metadata: meta(config(2)) });
      await writeSafetensors(p("e"), w(2), {
        metadata: { format: "dreambooth-ts", kind: "unet", config: config(2) },
      });
      const out = join(dir, "out");
      await assert.rejects(() => composeCascades(p("a"), p("b"), [], out), rangeError("empty"));
      await assert.rejects(
        // deno-lint-ignore no-explicit-any
        () => composeCascades(p("a"), p("b"), ["sr3" as any], out),
        rangeError("part 'sr3' is unknown"),
      );
      await assert.rejects(
        () => composeCascades(p("a"), p("b"), ["base", "base"], out),
        rangeError("repeats"),
      );
      await assert.rejects(
        () => composeCascades(p("a"), p("c"), ["base"], out),
        rangeError("shape"),
      );
      await assert.rejects(
        () => composeCascades(p("a"), p("d"), ["base"], out),
        rangeError("'stages.0.extra'"),
      );
      await assert.rejects(
        () => composeCascades(p("a"), p("e"), ["base"], out),
        rangeError("not a cascade"),
      );
      await assert.rejects(
        () => composeCascades(p("a"), p("zz"), ["base"], out),
        rangeError("donor"),
      );
      await assert.rejects(
        () => composeCascades(p("zz"), p("a"), ["base"], out),
        rangeError("target"),
      );
      const ok = await composeCascades(p("a"), p("b"), ["sr1"], out, { dtype: "F32" });
      assert.deepEqual([ok.taken, ok.kept], [1, 1]);
      assert.deepEqual(await main(["--target", p("a"), "--donor", p("b"), "--out", out]), 2);
      assert.deepEqual(
        await main([
          "--target",
          p("a"),
          "--donor",
          p("b"),
          "--parts",
          "base",
          "--out",
          out,
          "--dtype",
          "F8",
        ]),
        2,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
