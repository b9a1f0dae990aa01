import assert from "assert";
import { join } from "node:path";
import { main } from "./class_probe.ts";

Deno.test("class_probe main trains a tiny base one step and measures before and after", async () => {
  const out = await Deno.makeTempDir({ prefix: "class-probe-" });
  const log = console.log;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    const results = await main([
      "--preset",
      "tiny",
      "--classes",
      "dog,teapot",
      "--steps",
      "1",
      "--every",
      "1",
      "--batch",
      "2",
      "--samples",
      "4",
      "--sample-steps",
      "2",
      "--tag",
      "t",
      "--out",
      out,
    ]);
    assert.deepEqual([...results.keys()], [0, 1]);
    for (const acc of results.values()) assert.ok(acc >= 0 && acc <= 1);
    assert.match(lines.join("\n"), /step 1: gap t=0\.5 .*generated class \(2-way\)/);
    assert.ok((await Deno.stat(join(out, "t_step1.png"))).size > 0);
  } finally {
    console.log = log;
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("class_probe main needs two classes", async () => {
  await assert.rejects(() => main(["--classes", "dog"]), /at least two classes/);
});
