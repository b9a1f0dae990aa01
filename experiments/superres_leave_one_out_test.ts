import assert from "assert";
import { join } from "node:path";
import { main } from "./superres_leave_one_out.ts";

Deno.test("superres_leave_one_out main runs on the tiny preset and writes its table and grid", async () => {
  const out = await Deno.makeTempDir({ prefix: "sr-loo-" });
  const log = console.log;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    const code = await main([
      "--model",
      "preset:tiny",
      "--subjects",
      "dog",
      "--steps",
      "1",
      "--batch",
      "1",
      "--sample-steps",
      "1",
      "--aug-levels",
      "1e-3",
      "--no-beach",
      "--out",
      out,
    ]);
    assert.equal(code, 0);
    const results = JSON.parse(await Deno.readTextFile(join(out, "results.json")));
    // input, no fine-tuning, fine-tuned at 1e-3
    assert.deepEqual(
      results.rows.map((r: { setting: string }) => r.setting),
      ["input (nearest upsampling)", "no SR fine-tuning", "fine-tuned, t_aug 1e-3"],
    );
    for (const r of results.rows) assert.ok(Number.isFinite(r.psnr), `psnr of ${r.setting}`);
    assert.match(await Deno.readTextFile(join(out, "table.md")), /\| \*\*mean\*\* \|/);
    assert.ok((await Deno.stat(join(out, "loo_grid.png"))).size > 0);
  } finally {
    console.log = log;
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("superres_leave_one_out main rejects an unknown subject and bad levels", async () => {
  const errors: string[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => errors.push(a.join(" "));
  try {
    assert.equal(await main(["--subjects", "unicorn"]), 2);
    assert.equal(await main(["--aug-levels", "2"]), 2);
    assert.equal(await main(["--steps", "0"]), 2);
  } finally {
    console.error = error;
  }
  const text = errors.join("\n");
  assert.match(text, /'unicorn' is not one/);
  assert.match(text, /'--aug-levels' must be numbers in \[0, 1\)/);
  assert.match(text, /'--steps' must be an integer ≥ 1/);
});
