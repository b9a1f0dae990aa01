/**
 * The Python client (rpc/examples/client.py, standard library only) runs its demo flow against
 * the server: health, rpc.discover, encode/decode, a job with progress events (the debug.sleep
 * fixture until train.start exists), jobs.get until done, the job's file downloaded, jobs.list.
 * Skipped when no `python3` is on the PATH.
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
      const result = await child.output();
      clearTimeout(timer);
      const stdout = new TextDecoder().decode(result.stdout);
      const stderr = new TextDecoder().decode(result.stderr);
      assert.equal(result.code, 0, stdout + stderr);
      assert.match(stdout, /'a photo of a sks dog on the beach'/);
      assert.match(stdout, /wrong type -> -32602 Invalid params: 'text' must be a string/);
      assert.match(stdout, /progress 5\/5 eta 0 s/);
      assert.match(stdout, /jobs\.get -> succeeded/);
      assert.match(stdout, /wrote .*sample\.png \(128x128, \d+ bytes\)/);
      assert.match(stdout, /demo finished with 0 failure\(s\)/);
      assert.equal(await Deno.readTextFile(`${out}/out.txt`), "slept 5 steps\n");
    } finally {
      await server.close();
      await Deno.remove(out, { recursive: true });
    }
  },
});
