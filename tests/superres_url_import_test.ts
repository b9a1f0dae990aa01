import assert from "assert";

const root = new URL("../", import.meta.url);

Deno.test("superres/mod.ts works when imported by URL without this repository's deno.json", async () => {
  // Serve the checkout on 127.0.0.1 (TypeScript with a TypeScript content type).
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      if (path.includes("..")) return new Response("no", { status: 400 });
      try {
        const body = await Deno.readFile(new URL("." + path, root));
        const type = path.endsWith(".ts") || path.endsWith(".js")
          ? "application/typescript"
          : "application/octet-stream";
        return new Response(body, { headers: { "content-type": type } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  const dir = await Deno.makeTempDir();
  try {
    const script = `
      import { createSrFineTuneConfig, fineTuneSuperRes, srPrompt } from "${base}/superres/mod.ts";
      import { initBackend } from "${base}/backend/mod.ts";
      await initBackend({ quiet: true });
      const im = { data: new Float32Array(128 * 128 * 3), width: 128, height: 128 };
      const r = await fineTuneSuperRes("preset:tiny", {
        images: [im], steps: 1, batchSize: 1, cropSize: { "1": 32 }, sampleSteps: 0,
        runDir: ${JSON.stringify(dir)} + "/run", log: () => {},
      });
      console.log(JSON.stringify({ done: r.done, prompt: srPrompt(createSrFineTuneConfig()) }));
    `;
    await Deno.writeTextFile(`${dir}/main.ts`, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", "--no-lock", `--reload=${base}`, `${dir}/main.ts`],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(stdout.trim().split("\n").pop()!), {
      done: true,
      prompt: "a sks dog",
    });
  } finally {
    ac.abort();
    await server.finished;
    await Deno.remove(dir, { recursive: true });
  }
});
