import assert from "assert";

const root = new URL("../", import.meta.url);

Deno.test("data/mod.ts works when imported by URL without this repository's deno.json", async () => {
  // Serve the checkout on 127.0.0.1 (TypeScript with a TypeScript content type).
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      if (path.includes("..")) return new Response("no", { status: 400 });
      try {
        const body = await Deno.readFile(new URL("." + path, root));
        const type = path.endsWith(".ts") ? "application/typescript" : "application/octet-stream";
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
      import { createEmojiScenes, defaultSubject, loadImage, savePng, sceneCaption } from "${base}/data/mod.ts";
      const path = ${JSON.stringify(dir)} + "/x.png";
      await savePng(path, { data: new Float32Array(2 * 2 * 3), width: 2, height: 2 });
      const im = await loadImage(path);
      const world = await createEmojiScenes();
      const spec = world.sample(1);
      const scene = await world.render(spec, { size: 16 });
      console.log(JSON.stringify({
        caption: sceneCaption("dog", { context: "beach" }),
        width: im.width,
        scene: scene.width,
        subject: defaultSubject().dir,
      }));
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
    const result = JSON.parse(stdout.trim().split("\n").pop()!);
    assert.deepEqual(result, {
      caption: "a dog on the beach",
      width: 2,
      scene: 16,
      subject: `${base}/data/subjects/dog/`,
    });
  } finally {
    ac.abort();
    await server.finished;
    await Deno.remove(dir, { recursive: true });
  }
});
