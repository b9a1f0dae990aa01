import assert from "assert";

const root = new URL("../", import.meta.url);

Deno.test("training/mod.ts works when imported by URL without this repository's deno.json", async () => {
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
      import { createPretrainConfig, lossCurveSvg, runTraining } from "${base}/training/mod.ts";
      const config = createPretrainConfig({
        cascade: { tokenizer: { kind: "words", words: ["dog"] }, stages: [{ imageSize: 8 }] },
        stage: "base",
      });
      let step = 0;
      const job = {
        get step() { return step; },
        trainStep: () => Promise.resolve({ loss: 1 / ++step, gradNorm: 1, step }),
        checkpoint: () => Promise.resolve({ tensors: new Map(), state: { step } }),
        restore: () => Promise.resolve(),
      };
      const s = await runTraining(job, { runDir: ${JSON.stringify(dir)} + "/run", totalSteps: 3, config: {}, log: () => {} });
      console.log(JSON.stringify({ batch: config.batchSize, step: s.step, svg: lossCurveSvg([]).startsWith("<svg") }));
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
    assert.deepEqual(JSON.parse(stdout.trim().split("\n").pop()!), { batch: 16, step: 3, svg: true });
  } finally {
    ac.abort();
    await server.finished;
    await Deno.remove(dir, { recursive: true });
  }
});
