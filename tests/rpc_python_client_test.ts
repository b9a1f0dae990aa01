/**
 * The Python client (rpc/examples/client.py, standard library only) runs its demo flow against
 * the server — issue 8's acceptance 2: health, rpc.discover, encode/decode, `train.start` on the
 * tiny preset (3 steps, 1 class image, no SR fine-tuning) with its progress events over SSE,
 * jobs.get until done, `model.list` finding the trained `models/<job id>/model.safetensors`,
 * `sample` from it and the PNG on disk, jobs.list. Skipped when no `python3` is on the PATH.
 */
import assert from "assert";
import { startTestServer } from "./rpc_fixtures.ts";

const python = await new Deno.Command("python3", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((o) => o.success, () => false);

Deno.test({
  name: "rpc: the Python stdlib client runs its demo flow",
  ignore: !python,
  fn: async () => {
    const token = "python-client-token";
    const server = await startTestServer({ token });
    const out = await Deno.makeTempDir({ prefix: "rpc-py-out-" });
    try {
      const child = new Deno.Command("python3", {
        args: [
          new URL("../rpc/examples/client.py", import.meta.url).pathname,
          "--url",
          server.url,
          "--token",
          token,
          "--out",
          out,
          "demo",
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const t0 = performance.now();
      const result = await child.output();
      clearTimeout(timer);
      console.log(`python demo flow: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const stdout = new TextDecoder().decode(result.stdout);
      const stderr = new TextDecoder().decode(result.stderr);
      assert.equal(result.code, 0, stdout + stderr);
      assert.match(stdout, /'a photo of a sks dog on the beach'/);
      assert.match(stdout, /wrong type -> -32602 Invalid params: 'text' must be a string/);
      assert.match(stdout, /train\.start -> \S+/);
      assert.match(stdout, /progress 3\/3 eta/);
      assert.match(stdout, /jobs\.get -> succeeded/);
      assert.match(stdout, /trained model: models\/\S+\/model\.safetensors identifier sks/);
      assert.match(stdout, /sampling with \{'model': 'models\/\S+\/model\.safetensors'\}/);
      assert.match(stdout, /wrote .*sample\.png \(128x128, \d+ bytes\)/);
      assert.match(stdout, /demo finished with 0 failure\(s\)/);
      const png = await Deno.readFile(`${out}/sample.png`);
      assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    } finally {
      await server.close();
      await Deno.remove(out, { recursive: true });
    }
  },
});
