// Acceptance 2 of issue 30 ("the fallbacks keep working"), through a real CLI: on a machine without
// OpenBLAS (simulated with DREAMBOOTH_BLAS_LIB naming a missing file, the only library then tried)
// `deno task sample` runs on plain wasm, and its first line names the engine and the one command
// that gets the native one; without a C compiler (CC naming a missing file, a fresh engine cache)
// it runs on wasm-native and names `apt-get install -y gcc`. Both samples are written.
import assert from "assert";
import { join } from "node:path";

const cli = new URL("../diffusion/cli.ts", import.meta.url).pathname;

async function sample(env: Record<string, string>) {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "a.png");
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        cli,
        "sample",
        "--preset",
        "tiny",
        "--prompt",
        "a teapot",
        "--stages",
        "1",
      ]
        .concat(["--steps", "2", "--out", out]),
      env: { ...env, DREAMBOOTH_NATIVE_CACHE: dir },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(r.stdout);
    const stderr = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 0, stdout + stderr);
    assert.ok((await Deno.stat(out)).size > 0, "the sample was written");
    return stdout.split("\n")[0];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("no OpenBLAS: the CLI runs on wasm; its first line names it and the install command", async () => {
  const first = await sample({ DREAMBOOTH_BLAS_LIB: "/nonexistent/libopenblas.so.0" });
  assert.match(first, /^tfjs backend: wasm — /);
  assert.match(first, /for the native engine run: apt-get install -y libopenblas0-pthread$/);
});

Deno.test({
  name:
    "no C compiler: the CLI runs on wasm-native; its first line names it and the install command",
  // Without OpenBLAS the fallback is plain wasm (the test above).
  ignore: (() => {
    try {
      Deno.dlopen("libopenblas.so.0", {}).close();
      return false;
    } catch {
      return true;
    }
  })(),
  async fn() {
    const first = await sample({ CC: "/nonexistent/cc" });
    assert.match(first, /^tfjs backend: wasm-native — /);
    assert.match(first, /no C compiler/);
    assert.match(first, /for the native engine run: apt-get install -y gcc$/);
  },
});
