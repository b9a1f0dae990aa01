import assert from "assert";
import { join } from "node:path";
import { main } from "./dreambooth_default_dog.ts";

/** A stand-in for `deno task train` / `deno task eval` that writes what they would write. */
function fakeRunner(calls: string[][]) {
  return async (args: string[]) => {
    calls.push(args);
    const out = args[args.indexOf("--out") + 1];
    await Deno.mkdir(out, { recursive: true });
    if (args[1] === "train") {
      await Deno.writeTextFile(join(out, "model.safetensors"), "");
      await Deno.writeTextFile(
        join(out, "dreambooth.json"),
        JSON.stringify({ identifier: "Bun Bob" }),
      );
    } else {
      const fidelity = args.includes("models/default") ? 0.1 : 0.5;
      await Deno.writeTextFile(
        join(out, "metrics.json"),
        JSON.stringify({
          summary: {
            subjectFidelity: { estimate: fidelity, low: 0, high: 1 },
            realSelfSimilarity: 0.863,
          },
        }),
      );
    }
    return 1;
  };
}

Deno.test("dreambooth_default_dog main trains, evaluates and tabulates each variant", async () => {
  const out = await Deno.makeTempDir({ prefix: "db-exp-" });
  const calls: string[][] = [];
  const log = console.log;
  console.log = () => {};
  try {
    const code = await main(["--steps", "2", "--lrs", "1e-4,4e-4", "--out", out], {
      run: fakeRunner(calls),
    });
    assert.equal(code, 0);
    // prior and naive at two learning rates (train + eval each), then the untrained eval
    assert.deepEqual(calls.map((c) => c.slice(0, 2).join(" ")), [
      ...Array(4).fill(["task train", "task eval"]).flat(),
      "task eval",
    ]);
    assert.ok(calls[2].includes("--identifier") && calls[2].includes("Bun Bob"));
    assert.ok(calls[2].includes("--no-prior-preservation"));
    const rows = JSON.parse(await Deno.readTextFile(join(out, "results.json")));
    assert.deepEqual(
      rows.map((r: { variant: string; lr: number | null }) => `${r.variant} ${r.lr}`),
      ["untrained null", "prior 0.0001", "naive 0.0001", "prior 0.0004", "naive 0.0004"],
    );
    const table = await Deno.readTextFile(join(out, "table.md"));
    assert.match(table, /\| untrained \| — \| 0\.100 \[0\.000, 1\.000\]/);
    assert.match(table, /ceiling\): 0\.863/);
    // A second run reuses the trained models: no train command.
    calls.length = 0;
    await main(["--steps", "2", "--variants", "prior", "--out", out], { run: fakeRunner(calls) });
    assert.deepEqual(calls.map((c) => c[1]), ["eval"]);
  } finally {
    console.log = log;
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("dreambooth_default_dog main rejects bad options with exit code 2", async () => {
  const errors: string[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => errors.push(a.join(" "));
  try {
    assert.equal(await main(["--lrs", "0"]), 2);
    assert.equal(await main(["--variants", "lora"]), 2);
    assert.equal(await main(["--steps", "0"]), 2);
  } finally {
    console.error = error;
  }
  const text = errors.join("\n");
  assert.match(text, /'--lrs' must be positive numbers: current value is "0"/);
  assert.match(text, /'--variants' must list untrained, prior or naive/);
  assert.match(text, /'--steps' must be an integer ≥ 1/);
});
