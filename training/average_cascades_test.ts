import assert from "assert";
import { join } from "node:path";
import { buildCascade, loadCheckpoint, presetConfig, saveCheckpoint } from "../diffusion/mod.ts";
import { initBackend } from "../backend/mod.ts";
import { readSafetensors, writeSafetensors } from "./deps.ts";
import { averageCascades } from "./average_cascades.ts";
import { main } from "./average_cli.ts";

const rangeError = (part: string) => (e: unknown) =>
  e instanceof RangeError && e.message.includes(part);

Deno.test({
  name: "averageCascades: the weighted mean of two tiny cascades, loadable, with the inputs named",
  sanitizeResources: false,
  fn: async () => {
    await initBackend({ quiet: true });
    const dir = await Deno.makeTempDir();
    try {
      const config = presetConfig("tiny");
      for (const seed of [1, 2]) {
        using c = await buildCascade(config, { seed });
        await saveCheckpoint(join(dir, `s${seed}.safetensors`), c, { dtype: "F32" });
      }
      const a = await readSafetensors(join(dir, "s1.safetensors"));
      const b = await readSafetensors(join(dir, "s2.safetensors"));
      const r = await averageCascades(
        [join(dir, "s1.safetensors"), join(dir, "s2.safetensors")],
        join(dir, "soup"),
        { weights: [3, 1], dtype: "F32" },
      );
      assert.deepEqual(r.inputs.map((i) => i.weight), [0.75, 0.25]);
      const s = await readSafetensors(r.path);
      assert.deepEqual(s.tensors.size, a.tensors.size);
      let checked = 0, differing = 0;
      for (const [name, t] of a.tensors) {
        const u = b.tensors.get(name)!.data as Float32Array;
        const m = s.tensors.get(name)!.data as Float32Array;
        const d = t.data as Float32Array;
        for (let k = 0; k < d.length; k++) {
          assert.ok(Math.abs(m[k] - (0.75 * d[k] + 0.25 * u[k])) <= 1e-6, name);
          if (d[k] !== u[k]) differing++;
          checked++;
        }
      }
      assert.ok(differing > checked / 4, "the two seeds should give different weights");
      assert.deepEqual(JSON.parse(s.metadata.soup).length, 2);
      assert.equal(s.metadata.steps, undefined, "one input's steps must not describe the average");
      const loaded = await loadCheckpoint(r.path);
      assert.deepEqual(loaded.kind, "cascade");
      loaded.model.dispose();
      const info = JSON.parse(await Deno.readTextFile(join(dir, "soup", "model.json")));
      assert.deepEqual(info.soup[1].weight, 0.25);
      // The CLI, with a folder as input and equal weights.
      assert.deepEqual(
        await main([
          "--out",
          join(dir, "cli"),
          "--inputs",
          `${join(dir, "soup")},${join(dir, "s1.safetensors")}`,
        ]),
        0,
      );
      assert.deepEqual(
        (await loadCheckpoint(join(dir, "cli", "cascade.safetensors"))).kind,
        "cascade",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "averageCascades: refuses one input, bad weights, other configs and other tensors",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const meta = (config: string) => ({ format: "dreambooth-ts", kind: "cascade", config });
      const w = (v: number[]) => ({ w: { shape: [v.length], data: new Float32Array(v) } });
      await writeSafetensors(join(dir, "a.safetensors"), w([1, 2]), { metadata: meta("{}") });
      await writeSafetensors(join(dir, "b.safetensors"), w([3, 4]), { metadata: meta("{}") });
      await writeSafetensors(join(dir, "c.safetensors"), w([3, 4]), { metadata: meta('{"x":1}') });
      await writeSafetensors(join(dir, "d.safetensors"), w([3, 4, 5]), { metadata: meta("{}") });
      await writeSafetensors(join(dir, "e.safetensors"), w([3, 4]), {
        metadata: { format: "dreambooth-ts", kind: "unet", config: "{}" },
      });
      const p = (n: string) => join(dir, `${n}.safetensors`);
      const out = join(dir, "out");
      await assert.rejects(() => averageCascades([p("a")], out), rangeError("at least 2"));
      await assert.rejects(
        () => averageCascades([p("a"), p("b")], out, { weights: [0, 0] }),
        rangeError("'weights'"),
      );
      await assert.rejects(
        () => averageCascades([p("a"), p("b")], out, { weights: [1, -1] }),
        rangeError("'weights'"),
      );
      await assert.rejects(() => averageCascades([p("a"), p("c")], out), rangeError("config"));
      await assert.rejects(() => averageCascades([p("a"), p("d")], out), rangeError("shape"));
      await assert.rejects(() => averageCascades([p("a"), p("e")], out), rangeError("config"));
      await assert.rejects(() => averageCascades([p("a"), p("zz")], out), rangeError("not exist"));
      const ok = await averageCascades([p("a"), p("b")], out, { dtype: "F32" });
      assert.deepEqual([...(await readSafetensors(ok.path)).tensors.get("w")!.data], [2, 3]);
      // Integer tensors are copied when equal and refused when they differ.
      const ints = (v: number[], f: number) => ({
        w: { shape: [1], data: new Float32Array([f]) },
        n: { shape: [v.length], data: new Int32Array(v), dtype: "I32" as const },
      });
      await writeSafetensors(p("i1"), ints([7, 8], 1), { metadata: meta("{}") });
      await writeSafetensors(p("i2"), ints([7, 8], 3), { metadata: meta("{}") });
      await writeSafetensors(p("i3"), ints([7, 9], 3), { metadata: meta("{}") });
      const iok = await readSafetensors(
        (await averageCascades([p("i1"), p("i2")], join(dir, "int"), { dtype: "F32" })).path,
      );
      assert.deepEqual([...iok.tensors.get("n")!.data], [7, 8]);
      assert.deepEqual([...iok.tensors.get("w")!.data], [2]);
      await assert.rejects(
        () => averageCascades([p("i1"), p("i3")], join(dir, "int")),
        rangeError("integer tensor 'n' differs"),
      );
      assert.deepEqual(await main(["--out", out, "--inputs", p("a")]), 2);
      assert.deepEqual(
        await main(["--out", out, "--weights", "1", "--inputs", `${p("a")},${p("b")}`]),
        2,
      );
      assert.deepEqual(await main(["--inputs", `${p("a")},${p("b")}`]), 2);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
