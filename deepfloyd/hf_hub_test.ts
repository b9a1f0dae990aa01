import assert from "assert";
import { createHash } from "node:crypto";
import { TESTDATA } from "./_test_util.ts";
import { downloadHubSnapshot, parseHubSource, resolveModelDir } from "./hf_hub.ts";
import { loadIFStage } from "./diffusers_folder.ts";
import { initBackend } from "./deps.ts";

await initBackend({ quiet: true });

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const TOKEN = "hf_test_token";

/** A local server answering the hub's URL shapes for one gated repository (the tiny IF folder). */
function fakeHub(root: string, options: { corrupt?: boolean } = {}) {
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  const walk = (dir: string, prefix: string) => {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) walk(`${dir}/${e.name}`, `${prefix}${e.name}/`);
      else files.set(`${prefix}${e.name}`, Deno.readFileSync(`${dir}/${e.name}`));
    }
  };
  walk(root, "");
  files.set("unet/diffusion_pytorch_model.bin", new Uint8Array(10)); // must not be fetched
  const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  const byHash = new Map([...files.values()].map((b) => [sha256(b), b]));
  const log: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const u = new URL(req.url);
    log.push(
      `${req.method} ${u.pathname}${
        req.headers.get("range") ? ` ${req.headers.get("range")}` : ""
      }`,
    );
    if (u.pathname.startsWith("/lfs/")) {
      let body = byHash.get(u.pathname.slice(5));
      if (!body) return new Response("no", { status: 404 });
      if (options.corrupt) body = body.map((v, i) => (i === 0 ? v ^ 1 : v));
      const range = /^bytes=(\d+)-$/.exec(req.headers.get("range") ?? "");
      if (range) return new Response(body.slice(Number(range[1])), { status: 206 });
      return new Response(body);
    }
    if (req.headers.get("authorization") !== `Bearer ${TOKEN}`) {
      return new Response("gated", { status: 401 });
    }
    if (u.pathname === "/api/models/org/if-tiny/revision/main") {
      return Response.json({
        sha: COMMIT,
        siblings: [...files.keys()].map((rfilename) => ({ rfilename })),
      });
    }
    const m = /^\/org\/if-tiny\/resolve\/([0-9a-f]{40})\/(.+)$/.exec(u.pathname);
    const body = m ? files.get(decodeURIComponent(m[2])) : undefined;
    if (!m || !body) return new Response("not found", { status: 404 });
    if (m[2].endsWith(".safetensors") || m[2].endsWith(".model")) {
      const h = sha256(body);
      return new Response(null, {
        status: 302,
        headers: {
          location: `/lfs/${h}`,
          "x-linked-etag": `"${h}"`,
          "x-linked-size": String(body.length),
          "x-repo-commit": COMMIT,
        },
      });
    }
    const etag = createHash("sha1").update(body).digest("hex");
    const headers = {
      etag: `"${etag}"`,
      "x-repo-commit": COMMIT,
      "content-length": String(body.length),
    };
    return new Response(req.method === "HEAD" ? null : body, { headers });
  });
  return { server, log, endpoint: `http://127.0.0.1:${server.addr.port}`, files };
}

Deno.test("hf: sources download into the hub cache layout, with HF_TOKEN, reuse, resume and sha256 checks", async () => {
  const hub = fakeHub(`${TESTDATA}if_tiny_i`);
  const cacheDir = await Deno.makeTempDir();
  try {
    assert.deepEqual(parseHubSource("hf:org/if-tiny"), { repoId: "org/if-tiny", revision: "main" });
    assert.equal(parseHubSource("some/dir"), null);
    assert.throws(() => parseHubSource("hf:../x"), /hf:ORG\/NAME\[@REV\]/);
    await assert.rejects(
      () => downloadHubSnapshot("org/if-tiny", { endpoint: hub.endpoint, cacheDir, token: "" }),
      /answered 401.*HF_TOKEN/,
    );
    const got: string[] = [];
    const opts = {
      endpoint: hub.endpoint,
      cacheDir,
      token: TOKEN,
      onFile: (p: string, d: boolean) => got.push(`${d ? "+" : "="}${p}`),
    };
    const dir = await resolveModelDir("hf:org/if-tiny@main", opts);
    const repo = `${cacheDir}/models--org--if-tiny`;
    assert.equal(dir, `${repo}/snapshots/${COMMIT}`);
    assert.equal(await Deno.readTextFile(`${repo}/refs/main`), COMMIT);
    assert.ok(got.every((g) => g.startsWith("+")) && got.length === hub.files.size - 1, got.join());
    assert.ok(!got.some((g) => g.endsWith(".bin")));
    const link = await Deno.readLink(`${dir}/unet/config.json`);
    assert.match(link, /^\.\.\/\.\.\/\.\.\/blobs\/[0-9a-f]{40}$/);
    {
      using stage = await loadIFStage(dir);
      assert.equal(stage.unet.config.outChannels, 6);
      assert.ok(stage.textEncoderDir && stage.tokenizer);
    }
    // Cached: nothing downloaded again.
    got.length = 0;
    await resolveModelDir("hf:org/if-tiny", opts);
    assert.ok(got.every((g) => g.startsWith("=")), got.join());
    // Resume: a partial blob is completed with a Range request and checked.
    const shard = "unet/diffusion_pytorch_model-00002-of-00002.safetensors";
    const blob = await Deno.realPath(`${dir}/${shard}`);
    const full = await Deno.readFile(blob);
    await Deno.remove(`${dir}/${shard}`);
    await Deno.remove(blob);
    await Deno.writeFile(`${blob}.incomplete`, full.subarray(0, 1000));
    hub.log.length = 0;
    await resolveModelDir("hf:org/if-tiny", opts);
    assert.ok(hub.log.some((l) => l.endsWith("bytes=1000-")), hub.log.join("\n"));
    assert.deepEqual(await Deno.readFile(`${dir}/${shard}`), full);
  } finally {
    await hub.server.shutdown();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("hf: a file whose bytes do not match its SHA-256 is refused and removed", async () => {
  const hub = fakeHub(`${TESTDATA}if_tiny_ii`, { corrupt: true });
  const cacheDir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => downloadHubSnapshot("org/if-tiny", { endpoint: hub.endpoint, cacheDir, token: TOKEN }),
      /SHA-256 is [0-9a-f]{64}, expected [0-9a-f]{64}/,
    );
    const blobs = [...Deno.readDirSync(`${cacheDir}/models--org--if-tiny/blobs`)].map((e) =>
      e.name
    );
    assert.ok(!blobs.some((b) => b.endsWith(".incomplete")), blobs.join());
  } finally {
    await hub.server.shutdown();
    await Deno.remove(cacheDir, { recursive: true });
  }
});
