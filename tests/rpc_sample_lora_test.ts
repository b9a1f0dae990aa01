/**
 * The RPC `sample` method with LoRA adapters (issue 32): `lora` (a file or a run folder under the
 * data root) and `loraScale`, declared once with `deno task sample`'s `--lora`/`--lora-scale`.
 * Scale 0 samples the base model bit for bit, scale 1 differs; a path outside the data root, a
 * bad scale, a scale without adapters and adapters with `loaded` are refused before queueing.
 */
import assert from "assert";
import { RpcClient, RpcClientError } from "../rpc/client.ts";
import { startTestServer } from "./rpc_fixtures.ts";
import { initBackend, tf } from "../backend/mod.ts";
import { createPreset, exportCascadeLoRA, saveCheckpoint, saveLoRAFile } from "../diffusion/mod.ts";

await initBackend({ quiet: true });

/**
 * A tiny LoRA run in `dir`: `models/base.safetensors` (the tiny preset with random output layers,
 * which the preset zero-initialises) and `runs/lora1/lora.safetensors`, adapters on the base stage
 * and the text encoder with random up-projections (a trained adapter's stand-in: fresh ones are
 * zero), recording `models/base.safetensors` as their base model.
 */
async function writeLoRARun(dir: string): Promise<void> {
  using c = await createPreset("tiny", { seed: 0 });
  for (const s of c.stages) {
    const w = s.unet.params.get("out.conv.weight");
    tf.tidy(() => w.assign(tf.randomNormal(w.shape, 0, 0.05, "float32", 1)));
  }
  await Deno.mkdir(`${dir}/models`, { recursive: true });
  await saveCheckpoint(`${dir}/models/base.safetensors`, c);
  let seed = 10;
  for (
    const set of [
      c.stages[0].unet.addLoRA({ config: { rank: 2 } }),
      c.textEncoder.addLoRA({ config: { rank: 2 } }),
    ]
  ) {
    for (const [name, v] of set.params.vars) {
      if (name.endsWith("lora_up.weight")) {
        tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.2, "float32", seed++)));
      }
    }
  }
  // As deno task train records it (relative), as a train job over RPC does (the data root's
  // absolute path), and a base model outside the data root.
  const adapters = await exportCascadeLoRA(c);
  const real = await Deno.realPath(dir);
  for (
    const [run, baseModel] of [
      ["lora1", "models/base.safetensors"],
      ["lora2", `${real}/models/base.safetensors`],
      ["lora3", "/elsewhere/base.safetensors"],
    ]
  ) {
    await Deno.mkdir(`${dir}/runs/${run}`, { recursive: true });
    await saveLoRAFile(`${dir}/runs/${run}/lora.safetensors`, adapters, {
      metadata: { baseModel },
    });
  }
}

Deno.test("rpc: sample with lora/loraScale: scale 0 is the base model, 1 differs; bad values refused", async () => {
  const server = await startTestServer();
  const client = new RpcClient(server.url);
  try {
    await writeLoRARun(server.dir);
    const common = { prompt: "a dog", steps: 2, stages: 1, seed: 3 };
    const png = async (params: Record<string, unknown>) =>
      (await client.call<{ png: string }>("sample", { ...common, ...params })).png;
    const base = await png({ model: "models/base.safetensors" });
    // The run folder: its base model is the one the adapters record.
    assert.equal(await png({ lora: "runs/lora1", loraScale: 0 }), base, "scale 0 = base model");
    const one = await png({ lora: "runs/lora1", loraScale: 1 });
    assert.notEqual(one, base, "scale 1 differs from the base model");
    // The file itself, with the model given: the default scale is 1.
    assert.equal(
      await png({ lora: "runs/lora1/lora.safetensors", model: "models/base.safetensors" }),
      one,
    );

    assert.equal(await png({ lora: "runs/lora2" }), one, "an absolute base under the data root");
    const outside = await client.call<{ id: string }>("sample.start", {
      ...common,
      lora: "runs/lora3",
    });
    const failed = await server.rpc.services.jobs.wait(outside.id);
    assert.equal(failed.status, "failed");
    assert.match(
      failed.error?.message ?? "",
      /base model .* is not under the data root: give 'model'/,
    );

    await client.call("model.load", { name: "t", preset: "tiny" });
    for (
      const [params, field] of [
        [{ lora: "../../etc" }, "lora"],
        [{ lora: "/etc/passwd" }, "lora"],
        [{ lora: "runs/missing" }, "lora"],
        [{ lora: "models" }, "lora"], // a folder without lora.safetensors
        [{ lora: "runs/lora1", loraScale: 1000 }, "loraScale"],
        [{ lora: "runs/lora1", loraScale: "1" }, "loraScale"],
        [{ loraScale: 0.5 }, "loraScale"],
        [{ lora: "runs/lora1", loaded: "t" }, "lora"],
      ] as const
    ) {
      const err = await client.call("sample.start", { ...common, ...params }).catch((e) => e);
      assert.ok(err instanceof RpcClientError, JSON.stringify(params));
      assert.equal(err.code, -32602, `${JSON.stringify(params)}: ${err.message}`);
      assert.equal((err.data as { field: string }).field, field, JSON.stringify(params));
    }
    assert.deepEqual(server.rpc.services.jobs.list().length, 6, "refusals queue nothing");
  } finally {
    await server.close();
  }
});
