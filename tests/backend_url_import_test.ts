import assert from "assert";
import { openBlas } from "../backend/blas.ts";

// DESIGN.md promises that one module can be imported by URL without this repository's deno.json.
// Serve the checkout on 127.0.0.1 and, from a scratch folder with --no-config (so npm packages come
// from Deno's global cache, and the wasm binary is found there), import backend/mod.ts by URL,
// pick the default backend and train one conv step.
Deno.test("backend/mod.ts imported by URL with --no-config picks a backend and trains a conv", async () => {
  const root = new URL("../", import.meta.url).pathname;
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      if (path.includes("..")) return new Response("no", { status: 403 });
      try {
        const body = await Deno.readFile(root + path.slice(1));
        const type = path.endsWith(".js") ? "application/javascript" : "application/typescript";
        return new Response(body, { headers: { "content-type": type } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}/`;
  const scratch = await Deno.makeTempDir({ prefix: "backend-url-" });
  try {
    const script = `${scratch}/main.ts`;
    await Deno.writeTextFile(
      script,
      `import { initBackend, tf } from "${base}backend/mod.ts";
const report = await initBackend({ quiet: true });
const g = tf.tidy(() => {
  const x = tf.randomNormal([2, 6, 6, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  const f = (w: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, w as tf.Tensor4D, 1, "same")));
  return tf.grad(f)(tf.ones([3, 3, 3, 4])).dataSync().length;
});
console.log(JSON.stringify({ name: report.name, backend: tf.getBackend(), g }));
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-lock", "-A", script],
      cwd: scratch,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, stderr);
    const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
    // With a BLAS library the FFI kernels must load from a URL import too.
    assert.equal(result.name, openBlas() === null ? "wasm" : "wasm-native");
    assert.equal(result.backend, "wasm");
    assert.equal(result.g, 3 * 3 * 3 * 4);
  } finally {
    ac.abort();
    await server.finished;
    await Deno.remove(scratch, { recursive: true });
  }
});
