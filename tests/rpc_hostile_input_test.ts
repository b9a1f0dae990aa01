/**
 * Issue 36 (hostile-input findings): no answer of the server shows one of its absolute folders;
 * `/files/` resolves the path as sent (no dot-segment folding, no fixed-length cut); a client
 * that declares a body and disconnects is logged as a client abort.
 */
import assert from "assert";
import { join } from "node:path";
import { postRpc, startTestServer, type TestServer, within } from "./rpc_fixtures.ts";

/** Sends a raw HTTP/1.1 request (the path exactly as given) and reads the whole answer. */
async function rawHttp(
  server: TestServer,
  request: string,
  options: { closeAfterSend?: boolean } = {},
): Promise<{ status: number; body: string }> {
  const port = Number(new URL(server.url).port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(request));
  if (options.closeAfterSend) {
    conn.close();
    return { status: 0, body: "" };
  }
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  conn.close();
  const text = new TextDecoder().decode(
    chunks.reduce((a, b) => new Uint8Array([...a, ...b]), new Uint8Array()),
  );
  const [head, ...rest] = text.split("\r\n\r\n");
  return { status: Number(head.split(" ")[1]), body: rest.join("\r\n\r\n") };
}

const get = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;

Deno.test("rpc /files/: the path is resolved once, as sent; traversal is refused and never cut to a fragment", async () => {
  const server = await startTestServer();
  try {
    await Deno.mkdir(join(server.dir, "jobs"), { recursive: true });
    await Deno.writeTextFile(join(server.dir, "jobs", "hello.txt"), "hello");
    await Deno.mkdir(join(server.dir, "a"), { recursive: true });
    // The probes: `..` segments are refused (403), whole, not folded then cut.
    const probes: [string, string][] = [
      ["/files/../xxxxxxjobs/hello.txt", "../xxxxxxjobs/hello.txt"],
      ["/files/../../etc/passwd", "../../etc/passwd"],
      ["/files/a/../../etc/passwd", "a/../../etc/passwd"],
      ["/files/a/../jobs/hello.txt", "a/../jobs/hello.txt"],
      ["/files/%2e%2e/%2e%2e/etc/passwd", "../../etc/passwd"],
      ["/files/..%2f..%2fetc%2fpasswd", "../../etc/passwd"],
    ];
    for (const [path, rel] of probes) {
      const r = await rawHttp(server, get(path));
      assert.equal(r.status, 403, `${path}: ${r.status} ${r.body}`);
      assert.ok(r.body !== "hello" && !r.body.includes("root:"), path);
      assert.deepEqual(JSON.parse(r.body), {
        error: `'path' must stay inside the data root (no '..'): current value is ${
          JSON.stringify(rel)
        }`,
      });
    }
    // A missing file is named whole (no fragment such as "sswd").
    const missing = await rawHttp(server, get("/files/etc/passwd"));
    assert.equal(missing.status, 404);
    assert.match(missing.body, /current value is \\"etc\/passwd\\"/);
    // Plain paths still work, with a query string too.
    for (
      const path of [
        "/files/jobs/hello.txt",
        "/files/jobs/hello.txt?x=1",
        "/files/jobs/./hello.txt",
      ]
    ) {
      const ok = await rawHttp(server, get(path));
      assert.equal(ok.status, 200, path);
      assert.equal(ok.body, "hello", path);
    }
    const bad = await rawHttp(server, get("/files/%E0%A4%A"));
    assert.equal(bad.status, 400);
  } finally {
    await server.close();
  }
});

Deno.test("rpc: a client that declares a body and disconnects is logged as a client abort, not a server error", async () => {
  const logs: string[] = [];
  const server = await startTestServer({ log: (m) => logs.push(m) });
  try {
    await rawHttp(
      server,
      `POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"jsonrpc":`,
      { closeAfterSend: true },
    );
    for (let i = 0; i < 100 && logs.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(logs.length, 1, logs.join("\n"));
    assert.match(
      logs[0],
      /^Client aborted POST \/rpc: the connection closed before the request was read/,
    );
    assert.doesNotMatch(logs.join("\n"), /Unexpected error|Internal/);
    assert.equal((await fetch(`${server.url}/health`).then((r) => r.json())).status, "ok");
  } finally {
    await server.close();
  }
});

/** A safetensors file: an 8-byte header length, the JSON header, the data. */
function safetensors(header: unknown, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

Deno.test("rpc: no error answer, job record or /files answer shows the server's absolute folders", async () => {
  const server = await startTestServer({ concurrency: 2 });
  const seen: string[] = []; // every text the server answered
  try {
    const root = server.dir;
    const real = server.rpc.services.dataRoot.path;
    const hidden = [...new Set([root, real, Deno.cwd()])];
    // Broken inputs of every kind a path parameter can name.
    await Deno.mkdir(join(root, "models", "dir.safetensors"), { recursive: true });
    const good = safetensors(
      { w: { dtype: "F32", shape: [1], data_offsets: [0, 4] } },
      new Uint8Array(4),
    );
    await Deno.writeFile(join(root, "models", "bad.safetensors"), good.slice(0, good.length - 10));
    await Deno.writeFile(join(root, "models", "empty.safetensors"), new Uint8Array());
    await Deno.writeFile(join(root, "models", "other.safetensors"), good);
    await Deno.mkdir(join(root, "tok"));
    await Deno.writeTextFile(join(root, "tok", "bad.model"), "not a model");
    await Deno.writeTextFile(join(root, "inside.txt"), "inside");
    await Deno.symlink("/etc", join(root, "escape"));
    for (const d of ["notes", "empty", "broken"]) {
      await Deno.mkdir(join(root, "subjects", d), { recursive: true });
    }
    await Deno.writeTextFile(join(root, "subjects", "notes", "a.txt"), "hello");
    await Deno.writeFile(
      join(root, "subjects", "broken", "00.png"),
      new Uint8Array([137, 80, 78, 71, 1, 2, 3]),
    );

    const models = [
      "models/bad.safetensors",
      "models/empty.safetensors",
      "models/dir.safetensors",
      "models/other.safetensors",
      "models/nope.safetensors",
      "inside.txt",
      "tok/bad.model",
      "escape/passwd",
      "../x",
      "/etc/passwd",
    ];
    const subjects = [
      "subjects/notes",
      "subjects/empty",
      "subjects/broken",
      "inside.txt",
      "nope",
      "escape",
    ];
    const tokenizerModels = [
      "tok/bad.model",
      "inside.txt",
      "models/dir.safetensors",
      "nope.model",
      "escape/passwd",
    ];
    const calls: [string, Record<string, unknown>][] = [];
    for (const model of tokenizerModels) {
      calls.push(["tokenizer.encode", { text: "a dog", model }]);
      calls.push(["tokenizer.decode", { ids: [3], model }]);
      calls.push(["tokenizer.identifier", { model }]);
    }
    for (const model of models) {
      calls.push(["sample", { prompt: "a dog", model, steps: 1 }]);
      calls.push(["model.load", { name: "m", model }]);
      calls.push(["train.start", { model, steps: 1, numClassImages: 1, classSteps: 1 }]);
      calls.push(["superres.start", { model, steps: 1 }]);
      calls.push(["eval.start", { model, samples: 1 }]);
    }
    for (const subject of subjects) {
      calls.push(["train.start", {
        preset: "tiny",
        subject,
        steps: 1,
        numClassImages: 1,
        classSteps: 1,
      }]);
      calls.push(["superres.start", { preset: "tiny", subject, steps: 1 }]);
      calls.push(["eval.start", { preset: "tiny", subject, classNoun: "dog", samples: 1 }]);
    }
    calls.push(["sample", { prompt: "a dog", loaded: "nope" }]);
    calls.push(["model.unload", { name: "nope" }]);
    for (const m of ["jobs.get", "jobs.cancel", "jobs.resume"]) calls.push([m, { id: "nope" }]);
    // Every method with no params and with junk.
    // (A job start with valid params would start real work: those are covered above.)
    for (const spec of server.rpc.registry.list()) {
      if (spec.name.endsWith(".start")) continue;
      calls.push([spec.name, {}]);
      calls.push([spec.name, { junk: "/etc/passwd" }]);
    }
    const jobIds: string[] = [];
    for (const [method, params] of calls) {
      const { text, json } = await postRpc(
        server.url,
        JSON.stringify({ jsonrpc: "2.0", method, params, id: 1 }),
      );
      seen.push(`${method} ${JSON.stringify(params)} → ${text}`);
      const id = (json as { result?: { id?: string } }).result?.id;
      if (method.endsWith(".start") && id !== undefined) jobIds.push(id);
    }
    assert.ok(jobIds.length >= 10, `jobs started: ${jobIds.length}`);
    // The jobs fail (or finish); their records, as jobs.get/jobs.list and job.json hold them.
    for (const id of jobIds) await within(server.rpc.services.jobs.wait(id), 180_000);
    const failed = [];
    for (const id of jobIds) {
      const { text, json } = await postRpc(
        server.url,
        JSON.stringify({ jsonrpc: "2.0", method: "jobs.get", params: { id }, id: 1 }),
      );
      seen.push(`jobs.get ${id} → ${text}`);
      if ((json as { result: { status: string } }).result.status === "failed") failed.push(id);
      seen.push(await Deno.readTextFile(join(root, "jobs", id, "job.json")).catch(() => ""));
    }
    assert.ok(failed.length >= 10, `failed jobs: ${failed.length}`);
    seen.push(
      (await postRpc(server.url, JSON.stringify({ jsonrpc: "2.0", method: "jobs.list", id: 1 })))
        .text,
    );
    seen.push(
      (await postRpc(server.url, JSON.stringify({ jsonrpc: "2.0", method: "model.list", id: 1 })))
        .text,
    );
    // /files errors.
    for (
      const path of [
        "/files/nope.png",
        "/files/models/dir.safetensors",
        "/files/escape/passwd",
        "/files/../x",
        "/files/models",
      ]
    ) {
      const r = await rawHttp(server, get(path));
      seen.push(`${path} → ${r.status} ${r.body}`);
    }
    const leaks = seen.filter((t) => hidden.some((h) => t.includes(h)));
    assert.deepEqual(leaks, [], `answers that show a server folder (${hidden.join(", ")})`);
    // The errors still say what is wrong.
    const answer = seen.find((t) =>
      t.startsWith(`sample {"prompt":"a dog","model":"models/bad.safetensors"`)
    )!;
    assert.match(answer, /"error"/);
  } finally {
    await server.close();
  }
});
