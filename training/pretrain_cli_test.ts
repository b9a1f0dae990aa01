import assert from "assert";
import { main } from "./pretrain_cli.ts";
import { main as exportMain } from "./export_cli.ts";

async function capture(f: () => Promise<number>) {
  const out: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => out.push(a.join(" "));
  try {
    return { code: await f(), text: out.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("pretrain CLI: help, and usage errors before any compute", async () => {
  let r = await capture(() => main(["--help"]));
  assert.equal(r.code, 0);
  assert.match(r.text, /--time-budget-min M/);
  r = await capture(() => main([]));
  assert.equal(r.code, 2);
  assert.match(r.text, /'--stage' must be one of base, sr1, sr2: current value is undefined/);
  r = await capture(() => main(["--stage", "base", "--lr=-1"]));
  assert.equal(r.code, 2);
  assert.match(r.text, /'--lr' must be a finite number > 0 and ≤ 10: current value is "-1"/);
  r = await capture(() => main(["--stage", "base", "--steps", "1.5"]));
  assert.match(r.text, /'--steps' must be an integer ≥ 1/);
  r = await capture(() => main(["--stage", "base", "--preset", "paper"]));
  assert.match(r.text, /'--preset' must be one of small, tiny/);
  r = await capture(() => main(["--stage", "base", "--bogus"]));
  assert.equal(r.code, 2);
  for (const bad of ["0.8,0.5", "0.5", "a,b", "0,0.5", "0.5,1.5"]) {
    r = await capture(() => main(["--stage", "base", "--object-scale", bad]));
    assert.equal(r.code, 2, bad);
    assert.match(r.text, /'--object-scale' must be MIN,MAX with 0 < MIN ≤ MAX ≤ 1/);
  }
  r = await capture(() => main(["--stage", "base", "--object-weight", "0"]));
  assert.equal(r.code, 2);
  assert.match(
    r.text,
    /'--object-weight' must be a finite number > 0 and ≤ 1000: current value is "0"/,
  );
  r = await capture(() => main(["--stage", "base", "--object-weight", "x"]));
  assert.equal(r.code, 2);
  assert.match(r.text, /'--object-weight' must be a finite number/);
  for (const bad of ["1", "0"]) {
    r = await capture(() => main(["--stage", "base", "--ema-decay", bad]));
    assert.equal(r.code, 2, bad);
    assert.match(
      r.text,
      new RegExp(`'--ema-decay' must be a finite number > 0 and < 1: current value is "${bad}"`),
    );
  }
  r = await capture(() => main(["--help"]));
  assert.match(r.text, /--object-weight K/);
  assert.match(r.text, /--ema-decay D/);
  assert.match(r.text, /--data-seed N/);
  r = await capture(() => main(["--stage", "base", "--data-seed", "16777216"]));
  assert.equal(r.code, 2);
  assert.match(
    r.text,
    /'--data-seed' must be an integer ≥ 0 and ≤ 16777215: current value is "16777216"/,
  );
  r = await capture(() => main(["--stage", "base", "--data-seed", "1.5"]));
  assert.equal(r.code, 2);
  assert.match(r.text, /'--data-seed' must be an integer ≥ 0/);
});

Deno.test("export CLI: help, and a missing run is an error naming it", async () => {
  let r = await capture(() => exportMain(["--help"]));
  assert.equal(r.code, 0);
  const dir = await Deno.makeTempDir();
  try {
    r = await capture(() => exportMain(["--runs", dir]));
    assert.equal(r.code, 2);
    assert.match(r.text, /base' has no checkpoint/);
    r = await capture(() => exportMain(["--runs", dir, "--stages", "sr1"]));
    assert.match(r.text, /'--stages' must be base\[,sr1\[,sr2\]\] in order/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "pretrain CLI: --data-seed reaches the run's config (tiny preset, one step)",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const run = `${dir}/base`;
      const r = await capture(() =>
        main([
          "--stage",
          "base",
          "--preset",
          "tiny",
          "--steps",
          "1",
          "--batch",
          "2",
          "--data-seed",
          "4242",
          "--sample-every",
          "0",
          "--run",
          run,
        ])
      );
      assert.equal(r.code, 0, r.text);
      assert.match(r.text, /data stream seed 4242/);
      const config = JSON.parse(await Deno.readTextFile(`${run}/config.json`));
      assert.equal(config.dataSeed, 4242);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
