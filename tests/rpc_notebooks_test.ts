/**
 * Acceptance 3 of issue 8: both notebooks execute headless with Jupyter
 * (`jupyter nbconvert --to notebook --execute`). The Deno kernel is registered for the test only,
 * in a temporary JUPYTER_PATH pointing at this Deno (what `deno jupyter --install` writes to
 * ~/.local/share/jupyter), so nothing outside the test changes. Skipped when `jupyter nbconvert`
 * or the python3 kernel is missing (Debian: jupyter-nbconvert, python3-ipykernel).
 */
import assert from "assert";

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 180_000,
) {
  const child = new Deno.Command(cmd, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const out = await child.output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

const jupyter = await run("jupyter", ["kernelspec", "list", "--json"], {}, 30_000)
  .then((r) => (r.code === 0 ? JSON.parse(r.stdout) : null), () => null);
const hasNbconvert = jupyter !== null &&
  await run("jupyter", ["nbconvert", "--version"], {}, 30_000).then(
    (r) => r.code === 0,
    () => false,
  );
const ready = hasNbconvert && jupyter?.kernelspecs?.python3 !== undefined;
const ci = Deno.env.get("CI") === "true";

Deno.test({
  name: "rpc: the notebooks execute headless with jupyter nbconvert",
  // Skipped where Jupyter is missing, except under CI=true: there a missing tool fails the test.
  ignore: !ready && !ci,
  fn: async () => {
    assert.ok(
      ready,
      `'jupyter kernelspec' / 'jupyter nbconvert' or the python3 kernel is missing: CI must install Debian's jupyter-client, jupyter-nbconvert and python3-ipykernel`,
    );
    const root = new URL("../", import.meta.url).pathname;
    const tmp = await Deno.makeTempDir({ prefix: "rpc-notebooks-" });
    try {
      await Deno.mkdir(`${tmp}/kernels/deno`, { recursive: true });
      await Deno.writeTextFile(
        `${tmp}/kernels/deno/kernel.json`,
        JSON.stringify({
          argv: [Deno.execPath(), "jupyter", "--kernel", "--conn", "{connection_file}"],
          display_name: "Deno",
          language: "typescript",
        }),
      );
      const env = { JUPYTER_PATH: tmp, DENO: Deno.execPath(), PYDEVD_DISABLE_FILE_VALIDATION: "1" };
      for (const name of ["deno_modules", "python_client", "two_subjects", "lora"]) {
        const r = await run("jupyter", [
          "nbconvert",
          "--to",
          "notebook",
          "--execute",
          "--ExecutePreprocessor.timeout=120",
          "--output-dir",
          `${tmp}/out`,
          `${root}notebooks/${name}.ipynb`,
        ], env);
        assert.equal(r.code, 0, `${name}: ${r.stderr.slice(-3000)}`);
        const nb = JSON.parse(await Deno.readTextFile(`${tmp}/out/${name}.ipynb`));
        const outputs = nb.cells.flatMap((c: { outputs?: unknown[] }) => c.outputs ?? []) as {
          output_type: string;
          text?: string | string[];
          data?: Record<string, unknown>;
        }[];
        assert.ok(outputs.every((o) => o.output_type !== "error"), name);
        const text = outputs.map((o) => [o.text ?? ""].flat().join("")).join("");
        if (name === "lora") {
          assert.ok(outputs.some((o) => o.data?.["image/png"] !== undefined), "no sample image");
          assert.match(text, /'--rank'|'rank'.*must be an integer ≥ 1/);
          assert.match(text, /'rank' \(--rank\) needs --method lora/);
          assert.match(text, /adapters at scale 1 vs merged model: max pixel difference [01]\b/);
          assert.match(text, /adapted parts: .*stages\.0.*text_encoder/);
        } else if (name === "two_subjects") {
          assert.ok(outputs.some((o) => o.data?.["image/png"] !== undefined), "no grid image");
          assert.match(text, /entry 1, field 'identifier' repeats entry 0's identifier/);
          assert.match(text, /a tree cat next to a sks dog/);
        } else if (name === "deno_modules") {
          assert.ok(outputs.some((o) => o.data?.["image/png"] !== undefined), "no inline image");
          assert.match(text, /succeeded/);
        } else {
          assert.ok(outputs.some((o) => o.data?.["image/png"] !== undefined), "no sample image");
          assert.match(text, /tokenizer\.encode\(text, pieces\?, length\?, model\?\)/);
          assert.match(text, /-32602 Invalid params: 'length'/);
        }
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
