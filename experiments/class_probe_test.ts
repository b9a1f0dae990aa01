import assert from "assert";
import { join } from "node:path";
import { main } from "./class_probe.ts";

Deno.test("class_probe main trains a tiny base one step and measures before and after", async () => {
  const out = await Deno.makeTempDir({ prefix: "class-probe-" });
  const log = console.log;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    const code = await main([
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
    assert.equal(code, 0);
    const text = lines.join("\n");
    assert.match(text, /step 0: gap t=0\.5 .*generated class \(2-way\) \d+\.\d% of 4/);
    assert.match(text, /step 1: gap t=0\.5 .*generated class \(2-way\) \d+\.\d% of 4/);
    assert.ok((await Deno.stat(join(out, "t_step1.png"))).size > 0);
  } finally {
    console.log = log;
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("class_probe main rejects bad options with exit code 2", async () => {
  const errors: string[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => errors.push(a.join(" "));
  try {
    assert.equal(await main(["--classes", "dog"]), 2);
    assert.equal(await main(["--scale", "0.5,0.2"]), 2);
    assert.equal(await main(["--weighting", "l1"]), 2);
  } finally {
    console.error = error;
  }
  const text = errors.join("\n");
  assert.match(text, /'--classes' must name at least two classes/);
  assert.match(text, /'--scale' must be MIN,MAX/);
  assert.match(text, /'--weighting'/);
});
