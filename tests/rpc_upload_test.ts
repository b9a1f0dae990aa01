/**
 * Issue 32, item 6 (RPC): subject photos sent with `train.start` (base64 `photos`) or through
 * `POST /upload` (multipart) train a tiny-preset job from the job's own folder; bad files are
 * refused before anything is queued with a -32602 error naming each file and its reason (a 50 MB
 * file, a text file named .png, path-like names, too many files, duplicates, a photo under 64 px).
 */
import assert from "assert";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { defaultSubject, savePng } from "../data/mod.ts";
import { RpcClient, RpcClientError } from "../rpc/client.ts";
import { startTestServer, type TestServer, within } from "./rpc_fixtures.ts";

/** Sized to take seconds: 1 class image in 2 sampler steps, no SR stage, no sample grids. */
const fast = {
  preset: "tiny",
  classNoun: "dog",
  steps: 2,
  numClassImages: 1,
  classSteps: 2,
  superRes: false,
  finalSamples: false,
  sampleEverySteps: 0,
  checkpointEverySteps: 0,
};

const dog = defaultSubject().dir;
const dogPhoto = (i: number) => Deno.readFile(join(dog, `0${i}.png`));
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

/** A PNG of `w`×`h` grey pixels. */
async function greyPng(w: number, h: number): Promise<Uint8Array<ArrayBuffer>> {
  const path = await Deno.makeTempFile({ suffix: ".png" });
  await savePng(path, { data: new Float32Array(w * h * 3), width: w, height: h });
  const bytes = await Deno.readFile(path);
  await Deno.remove(path);
  return bytes;
}

/** Entries of a folder (none when it is missing). */
async function entries(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) out.push(e.name);
  } catch {
    // missing
  }
  return out.sort();
}

/** The refusal of a call: -32602 naming `name` with a reason matching `reason`; nothing queued or stored. */
async function assertRefused(
  server: TestServer,
  call: Promise<unknown>,
  name: string,
  reason: RegExp,
): Promise<void> {
  const err = await call.then(() => null, (e) => e as RpcClientError);
  assert.ok(err instanceof RpcClientError, `${JSON.stringify(name)} was accepted`);
  assert.equal(err.code, -32602, err.message);
  assert.ok(err.message.includes(JSON.stringify(name)), `${err.message} names ${name}`);
  assert.match(err.message, reason);
  assert.ok(!err.message.includes(server.dir), err.message);
  const files = (err.data as { files?: { name: string; reason: string }[] }).files ?? [];
  assert.ok(files.some((f) => f.name === name), JSON.stringify(err.data));
  assert.equal(server.rpc.services.jobs.list({}).length, 0);
  assert.deepEqual(await entries(join(server.dir, "uploads")), []);
}

Deno.test("rpc upload: train.start with base64 photos trains from jobs/<id>/photos/", async () => {
  const server = await startTestServer();
  const client = new RpcClient(server.url);
  try {
    const photos = [
      { name: "a.png", data: b64(await dogPhoto(0)), caption: "a {identifier} {class} on grass" },
      { name: "b.png", data: "data:image/png;base64," + b64(await dogPhoto(1)) },
      { name: "c.png", data: b64(await dogPhoto(2)) },
    ];
    const { id } = await client.call<{ id: string }>("train.start", { ...fast, photos });
    const record = server.rpc.services.jobs.get(id);
    // The record keeps an upload id, never the megabytes of base64.
    assert.equal((record.params as { photos?: unknown }).photos, undefined);
    assert.match((record.params as { upload: string }).upload, /^u[0-9a-f]{24}$/);
    const done = await within(server.rpc.services.jobs.wait(id), 120_000);
    assert.equal(done.status, "succeeded", JSON.stringify(done.error));
    const folder = join(server.dir, "jobs", id, "photos");
    assert.deepEqual((await entries(folder)).filter((n) => !n.startsWith(".")), [
      "a.png",
      "a.txt",
      "b.png",
      "c.png",
    ]);
    assert.equal(await Deno.readTextFile(join(folder, "a.txt")), "a {identifier} {class} on grass");
    assert.deepEqual(await entries(join(server.dir, "uploads")), [], "moved, not copied");
    await Deno.stat(join(server.dir, "models", id, "model.safetensors"));
  } finally {
    await server.close();
  }
});

Deno.test("rpc upload: POST /upload (multipart) then train.start {upload}", async () => {
  const server = await startTestServer();
  const client = new RpcClient(server.url);
  try {
    const up = await client.upload([
      { name: "x.png", bytes: await dogPhoto(3), caption: "a [V] dog" },
      { name: "y.png", bytes: await dogPhoto(4) },
    ]);
    assert.match(up.upload, /^u[0-9a-f]{24}$/);
    assert.deepEqual(up.files.map((f) => [f.name, f.caption]), [
      ["x.png", "a [V] dog"],
      ["y.png", undefined],
    ]);
    assert.deepEqual(up.files.map((f) => [f.width, f.height]), [[512, 512], [512, 512]]);
    const { id } = await client.call<{ id: string }>("train.start", {
      ...fast,
      steps: 1,
      upload: up.upload,
    });
    const done = await within(server.rpc.services.jobs.wait(id), 120_000);
    assert.equal(done.status, "succeeded", JSON.stringify(done.error));
    assert.deepEqual(
      (await entries(join(server.dir, "jobs", id, "photos"))).filter((n) => !n.startsWith(".")),
      ["x.png", "x.txt", "y.png"],
    );
    // A multipart upload is copied: it can serve another run.
    assert.deepEqual(await entries(join(server.dir, "uploads")), [up.upload]);
    for (
      const [params, field, code] of [
        [{ classNoun: "dog", upload: "u" + "0".repeat(24) }, "upload", -32004],
        [{ classNoun: "dog", upload: "../x" }, "upload", -32602],
        [{ classNoun: "dog", upload: up.upload, subject: "uploads" }, "upload", -32602],
        [{ upload: up.upload }, "classNoun", -32602],
      ] as const
    ) {
      const err = await client.call("train.start", params).catch((e) => e as RpcClientError);
      assert.ok(err instanceof RpcClientError, JSON.stringify(params));
      assert.equal(err.code, code, err.message);
      assert.equal((err.data as { field: string }).field, field, err.message);
    }
    // Not multipart; a cross-site browser form.
    const plain = await fetch(`${server.url}/upload`, { method: "POST", body: "x" });
    assert.equal(plain.status, 415);
    await plain.body?.cancel();
    const form = new FormData();
    form.append("photos", new Blob([await dogPhoto(0)]), "a.png");
    const cross = await fetch(`${server.url}/upload`, {
      method: "POST",
      body: form,
      headers: { origin: "https://evil.example" },
    });
    assert.equal(cross.status, 403);
    await cross.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("rpc upload: POST /upload needs the server's token", async () => {
  const server = await startTestServer({ token: "s3cret-token" });
  try {
    const form = new FormData();
    form.append("photos", new Blob([await dogPhoto(0)]), "a.png");
    const res = await fetch(`${server.url}/upload`, { method: "POST", body: form });
    assert.equal(res.status, 401);
    await res.body?.cancel();
    const ok = await new RpcClient(server.url, { token: "s3cret-token" }).upload([
      { name: "a.png", bytes: await dogPhoto(0) },
    ]);
    assert.match(ok.upload, /^u[0-9a-f]{24}$/);
  } finally {
    await server.close();
  }
});

Deno.test("rpc upload: inline photos over the request limit are pointed to POST /upload", async () => {
  const server = await startTestServer();
  const client = new RpcClient(server.url);
  try {
    const big = new Uint8Array(11 * 2 ** 20);
    const photos = [{ name: "big.png", data: b64(big) }];
    const err = await client.call("train.start", { ...fast, photos }).catch((e) => e);
    assert.ok(err instanceof RpcClientError);
    assert.equal(err.status, 413);
    assert.match(err.message, /--max-body-mb; send large photos with POST \/upload/);
    assert.deepEqual(await entries(join(server.dir, "uploads")), []);
  } finally {
    await server.close();
  }
});

Deno.test("rpc upload: bad files are refused before any work, each named with its reason", async () => {
  // A body limit that lets a 50 MB base64 photo reach the per-file check.
  const server = await startTestServer({ maxBodyBytes: 80 * 2 ** 20 });
  const client = new RpcClient(server.url);
  try {
    const good = await dogPhoto(0);
    const big = new Uint8Array(50 * 1000 * 1000);
    big.set(good);
    const text = new TextEncoder().encode("just some text, not a picture\n");
    const tiny = await greyPng(32, 32);
    const cases: [string, Uint8Array<ArrayBuffer>, RegExp][] = [
      ["big.png", big, /50000000 bytes, over the limit of 20971520 bytes \(20 MiB\)/],
      ["notes.png", text, /not a PNG, JPEG or WebP image/],
      ["small.png", tiny, /32×32 px, smaller than 64 px/],
      ["../x.png", good, /plain file name/],
      ["a/b.png", good, /plain file name/],
      ["C:\\x.png", good, /plain file name/],
      ["x\0.png", good, /NUL/],
      [".hidden.png", good, /must not start with '\.'/],
      ["photo.gif", good, /must end in/],
    ];
    for (const [name, bytes, reason] of cases) {
      const photos = [{ name: "ok.png", data: b64(good) }, { name, data: b64(bytes) }];
      await assertRefused(server, client.call("train.start", { ...fast, photos }), name, reason);
      if (name.includes("\0")) continue; // not a name a multipart part can carry
      const upload = client.upload([{ name: "ok.png", bytes: good }, { name, bytes }]);
      await assertRefused(server, upload, name, reason);
    }
    const dup = [{ name: "a.png", data: b64(good) }, { name: "A.png", data: b64(good) }];
    await assertRefused(
      server,
      client.call("train.start", { ...fast, photos: dup }),
      "A.png",
      /same name/,
    );
    const orphan = new FormData();
    orphan.append("photos", new Blob([good]), "ok.png");
    orphan.append("photos", new Blob(["a [V] dog"]), "other.txt");
    const res = await fetch(`${server.url}/upload`, { method: "POST", body: orphan });
    assert.equal(res.status, 400);
    const answer = await res.json();
    assert.equal(answer.error.code, -32602);
    assert.match(answer.error.message, /"other\.txt" is a caption of no photo/);
    assert.deepEqual(await entries(join(server.dir, "uploads")), []);
    const many = Array.from({ length: 33 }, (_, i) => ({ name: `p${i}.png`, bytes: tiny }));
    await assertRefused(server, client.upload(many), "p32.png", /33 files, more than 32/);
    await assertRefused(
      server,
      client.call("train.start", {
        ...fast,
        photos: many.map((p) => ({ name: p.name, data: b64(p.bytes) })),
      }),
      "p32.png",
      /33 files, more than 32/,
    );
    const notB64 = [{ name: "q.png", data: "%%%" }];
    const err = await client.call("train.start", { ...fast, photos: notB64 }).catch((e) =>
      e as RpcClientError
    );
    assert.ok(err instanceof RpcClientError);
    assert.equal(err.code, -32602);
    assert.match(err.message, /"q\.png" photos\[0\]\.data is not base64/);
  } finally {
    await server.close();
  }
});
