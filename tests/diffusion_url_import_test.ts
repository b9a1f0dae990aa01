/**
 * diffusion/mod.ts imported by URL (served from this checkout on 127.0.0.1) from a scratch folder
 * with `--no-config`: no import map or workspace, so every npm import must be a full `npm:` specifier
 * and every local import relative. Samples one image from the tiny preset and writes a PNG.
 */
import assert from "assert";

const root = new URL("../", import.meta.url);

Deno.test("diffusion/mod.ts imports by URL without deno.json and samples an image", async () => {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname).replace(/^\/+/, "");
      if (path.split("/").includes("..")) return new Response("bad path", { status: 400 });
      try {
        const body = await Deno.readFile(new URL(path, root));
        const type = path.endsWith(".ts")
          ? "application/typescript"
          : path.endsWith(".js")
          ? "application/javascript"
          : "application/octet-stream";
        return new Response(body, { headers: { "content-type": type } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}/`;
  const scratch = await Deno.makeTempDir({ prefix: "url-import-diffusion-" });
  try {
    const script = `${scratch}/main.ts`;
    await Deno.writeTextFile(
      script,
      `import { initBackend } from "${base}backend/mod.ts";
import * as m from "${base}diffusion/mod.ts";
await initBackend({ quiet: true });
using c = await m.createPreset("tiny", { seed: 1 });
const { images } = await c.sample({ prompt: "a red dog", seed: 2, steps: 2, stages: 1 });
await m.writePng("${scratch}/out.png", images[0]);
const t5 = await m.loadT5Tokenizer();
const e = t5.encodeFixed("a dog", 8);
console.log(images[0].width === 32 && e.ids[e.mask.indexOf(0)] === 0 && e.ids[e.mask.indexOf(0) - 1] === 1 ? "OK" : "bad " + images[0].width + " " + e.ids);
Deno.exit(0);
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", "--no-lock", `--reload=${base}`, script],
      cwd: scratch,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(
      out.success && /^OK$/m.test(stdout),
      `URL import failed:\n${stdout}\n${stderr.slice(-3000)}`,
    );
    assert.ok((await Deno.stat(`${scratch}/out.png`)).size > 0);
  } finally {
    ac.abort();
    await server.finished;
    await Deno.remove(scratch, { recursive: true });
  }
});
