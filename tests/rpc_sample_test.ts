/**
 * `sample`, `sample.start` and `model.list` on the tiny preset (fresh weights): the job runs in
 * a worker with progress per sampler step, writes a PNG served at /files, answers base64 from
 * the synchronous method, refuses bad params before queueing, and cancels at the next step.
 */
import assert from "assert";
import { RpcClient, RpcClientError } from "../rpc/client.ts";
import { startTestServer, within } from "./rpc_fixtures.ts";
import { initBackend } from "../backend/mod.ts";
import { createPreset, promptFit } from "../diffusion/mod.ts";

const pngSignature = [137, 80, 78, 71, 13, 10, 26, 10];

Deno.test("rpc: sample on the tiny preset in a worker; model.list; bad params; cancel", async () => {
  const server = await startTestServer();
  const client = new RpcClient(server.url);
  const jobs = server.rpc.services.jobs;
  try {
    const { id } = await client.call<{ id: string }>("sample.start", {
      prompt: "a dog on the beach",
      steps: 3,
      stages: 1,
      seed: 1,
    });
    const done = await within(jobs.wait(id), 60_000);
    assert.equal(done.status, "succeeded", JSON.stringify(done.error));
    assert.deepEqual(done.progress?.step, 3);
    assert.equal(done.progress?.total, 3);
    const result = done.result as { file: string; width: number; height: number; seed: number };
    assert.equal(result.file, `jobs/${id}/sample.png`);
    assert.equal(result.width, 32);
    const png = new Uint8Array(await (await fetch(client.fileUrl(result.file))).arrayBuffer());
    assert.deepEqual([...png.slice(0, 8)], pngSignature);

    const sync = await client.call<{ png: string; file: string; id: string; url: string }>(
      "sample",
      {
        prompt: "a dog",
        steps: 2,
        stages: 1,
      },
    );
    const bytes = Uint8Array.from(atob(sync.png), (c) => c.charCodeAt(0));
    assert.deepEqual([...bytes.slice(0, 8)], pngSignature);
    assert.equal(sync.file, `jobs/${sync.id}/sample.png`);
    assert.equal(sync.url, `/files/jobs/${sync.id}/sample.png`);
    assert.equal((await fetch(`${server.url}${sync.url}`)).status, 200);

    for (
      const [params, field] of [
        [{ prompt: "x", preset: "tiny", model: "a.safetensors" }, "preset"],
        [{ prompt: "x", model: "../../etc/passwd" }, "model"],
        [{ prompt: "x", model: "missing.safetensors" }, "model"],
        [{ prompt: "x", preset: "huge" }, "preset"],
        [{ prompt: "x", steps: 0 }, "steps"],
        [{ prompt: "x", guidance: -1 }, "guidance"],
        [{ prompt: "" }, "prompt"],
      ] as const
    ) {
      const err = await client.call("sample.start", params).catch((e) => e as RpcClientError);
      assert.ok(err instanceof RpcClientError);
      assert.equal(err.code, -32602, JSON.stringify(params));
      assert.equal((err as RpcClientError).data && (err.data as { field: string }).field, field);
    }

    await Deno.mkdir(`${server.dir}/models/run1`, { recursive: true });
    await Deno.writeFile(`${server.dir}/models/run1/final.safetensors`, new Uint8Array(16));
    const listed = await client.call<
      { checkpoints: { path: string; bytes: number }[]; presets: string[] }
    >(
      "model.list",
      {},
    );
    assert.deepEqual(listed.checkpoints.map((c) => [c.path, c.bytes]), [[
      "models/run1/final.safetensors",
      16,
    ]]);
    assert.deepEqual(listed.presets, ["tiny", "small"]);
    // A file that is not a checkpoint fails the job, not the server.
    const bad = await client.call<{ id: string }>("sample.start", {
      prompt: "x",
      model: "models/run1/final.safetensors",
    });
    const failed = await within(jobs.wait(bad.id), 60_000);
    assert.equal(failed.status, "failed");

    const long = await client.call<{ id: string }>("sample.start", {
      prompt: "x",
      steps: 500,
      stages: 1,
    });
    const end = Date.now() + 60_000;
    while ((jobs.get(long.id).progress?.step ?? 0) < 1 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await client.call("jobs.cancel", { id: long.id });
    const cancelled = await within(jobs.wait(long.id), 30_000);
    assert.equal(cancelled.status, "cancelled");
    assert.ok((cancelled.progress?.step ?? 0) < 500);
    assert.equal((await client.health()).status, "ok");
  } finally {
    await server.close();
  }
});

Deno.test("rpc: model.load keeps a cascade loaded for sample {loaded}; model.unload frees it", async () => {
  const server = await startTestServer();
  const client = new RpcClient(server.url);
  try {
    const info = await client.call("model.load", { name: "tiny1", preset: "tiny" });
    assert.equal(info.name, "tiny1");
    assert.equal(info.source, "preset:tiny");
    assert.deepEqual(info.stages.map((s) => s.imageSize), [32, 128]);
    assert.deepEqual((await client.call("model.list", {})).loaded.map((m) => m.name), ["tiny1"]);
    const a = await client.call("sample", {
      prompt: "a dog",
      loaded: "tiny1",
      steps: 2,
      stages: 1,
      seed: 3,
    });
    const b = await client.call("sample", {
      prompt: "a dog",
      loaded: "tiny1",
      steps: 2,
      stages: 1,
      seed: 3,
    });
    assert.equal(a.width, 32);
    assert.equal(a.png, b.png); // same model, same seed: same bits
    const job = await client.call("jobs.get", { id: a.id });
    assert.equal(job.progress?.step, 2);

    for (
      const [method, params, field] of [
        ["model.load", { name: "x", preset: "tiny", model: "a.safetensors" }, "preset"],
        ["model.load", { name: "x" }, "model"],
        ["model.load", { name: "../x", preset: "tiny" }, "name"],
        ["model.load", { name: "x", model: "../../etc/passwd" }, "model"],
        ["sample.start", { prompt: "x", loaded: "nope" }, "loaded"],
        ["sample.start", { prompt: "x", loaded: "tiny1", preset: "tiny" }, "loaded"],
      ] as const
    ) {
      const err = await client.call(method, params).catch((e) => e as RpcClientError);
      assert.ok(err instanceof RpcClientError, `${method} ${JSON.stringify(params)}`);
      assert.equal(err.code, -32602, `${method} ${JSON.stringify(params)}: ${err.message}`);
      assert.equal(
        (err.data as { field: string }).field,
        field,
        `${method} ${JSON.stringify(params)}`,
      );
    }
    await Deno.writeFile(`${server.dir}/junk.safetensors`, new Uint8Array([1, 2, 3]));
    const junk = await client.call("model.load", { name: "j", model: "junk.safetensors" })
      .catch((e) => e as RpcClientError);
    assert.ok(junk instanceof RpcClientError);
    assert.equal(junk.code, -32602, junk.message);

    assert.deepEqual(await client.call("model.unload", { name: "tiny1" }), { unloaded: true });
    const gone = await client.call("model.unload", { name: "tiny1" }).catch((e) =>
      e as RpcClientError
    );
    assert.equal((gone as RpcClientError).code, -32004);
    assert.deepEqual((await client.call("model.list", {})).loaded, []);
  } finally {
    await server.close();
  }
});

Deno.test("rpc: sample keeps deno task sample's prompt rule: blank refused, long warned (issue 36 item 6)", async () => {
  const server = await startTestServer();
  const client = new RpcClient(server.url);
  try {
    const err = await client.call("sample", { prompt: "   " }).catch((e) => e as RpcClientError);
    assert.ok(err instanceof RpcClientError);
    assert.equal(err.code, -32602);
    assert.equal(err.message, "Invalid params: 'prompt' must not be empty");
    // 3,800 characters: over the old 1,000-character limit, within the shared 10,000.
    const prompt = "a dog on the beach ".repeat(200);
    const r = await client.call<{ warnings?: string[] }>("sample", {
      prompt,
      steps: 1,
      stages: 1,
      png: false,
    });
    await initBackend({ quiet: true });
    using c = await createPreset("tiny", { seed: 0 });
    const { warning } = promptFit(prompt, {
      tokenizer: c.tokenizer,
      length: c.textEncoder.config.maxLength,
    });
    assert.deepEqual(r.warnings, [warning]);
  } finally {
    await server.close();
  }
});
