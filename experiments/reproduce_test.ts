import assert from "assert";
import { join } from "node:path";
import { main } from "./reproduce.ts";
import { imagenAugSigma, paperAugLevelToProject, ROWS } from "./_reproduce_plan.ts";
import { judge } from "./_reproduce_report.ts";
import { CLAIMS } from "./_reproduce_plan.ts";

const quiet = async <T>(f: () => Promise<T>): Promise<T> => {
  const log = console.log;
  console.log = () => {};
  try {
    return await f();
  } finally {
    console.log = log;
  }
};

Deno.test({
  name:
    "reproduce --quick runs every row on preset:tiny, writes the reports, and --resume skips every unit",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "reproduce-quick-" });
    try {
      // (Its time, ~1.5 min on a quiet machine, is reported, not asserted: CI never gates on a time.)
      assert.equal(await quiet(() => main(["--quick", "--out", out])), 0);
      // One unit per row (photos are never part of --quick), each stored as OUT/units/<row>/dog.json.
      for (const row of ROWS.filter((r) => r.kind !== "photo")) {
        const u = JSON.parse(await Deno.readTextFile(join(out, "units", row.id, "dog.json")));
        assert.equal(u.row, row.id);
        assert.ok(u.status === "done" || u.status === "not-run", `${row.id}: ${u.status}`);
        if (u.status === "not-run") assert.ok(u.reason.length > 0);
      }
      const results = JSON.parse(await Deno.readTextFile(join(out, "results.json")));
      const db = results.rows.find((r: { id: string }) => r.id === "db-prior");
      assert.ok(db.metrics.subjectFidelity.low <= db.metrics.subjectFidelity.estimate);
      assert.equal(results.verdicts.length, CLAIMS.length);
      assert.ok(results.sr.low.psnr !== null && results.sr.none.hfError !== null);
      const md = await Deno.readTextFile(join(out, "report.md"));
      assert.match(md, /\| DreamBooth, prior preservation/);
      assert.match(md, /0\.664 → 0\.493/);
      const html = await Deno.readTextFile(join(out, "report.html"));
      assert.doesNotMatch(html, /https?:\/\/|<script/); // offline
      assert.match(html, /src="grids\/db-prior-dog\.png"/);
      await Deno.stat(join(out, "grids", "db-prior-dog.png"));
      // Without --resume a finished folder is refused; with it, nothing runs again.
      const error = console.error;
      console.error = () => {};
      try {
        assert.equal(await quiet(() => main(["--quick", "--out", out])), 2);
      } finally {
        console.error = error;
      }
      const before = await Deno.readTextFile(join(out, "units", "db-prior", "dog.json"));
      const code = await quiet(() =>
        main(["--quick", "--out", out, "--resume"], {
          run: () => Promise.reject(new Error("a finished unit ran again")),
          capture: () => Promise.resolve("  --method NAME  dreambooth or textual-inversion\n"),
        })
      );
      assert.equal(code, 0);
      assert.equal(await Deno.readTextFile(join(out, "units", "db-prior", "dog.json")), before);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test("reproduce detects LoRA from deno task train's usage and resumes after a killed unit", async () => {
  const out = await Deno.makeTempDir({ prefix: "reproduce-fake-" });
  const calls: string[][] = [];
  const run = async (args: string[]) => {
    calls.push(args);
    const dir = args[args.indexOf("--out") + 1];
    await Deno.mkdir(join(dir, "grids"), { recursive: true });
    if (args[1] === "train") {
      await Deno.writeTextFile(
        join(dir, "dreambooth.json"),
        JSON.stringify({ identifier: "Bun Bob" }),
      );
    } else {
      const ci = { estimate: 0.5, low: 0.4, high: 0.6 };
      await Deno.writeTextFile(
        join(dir, "metrics.json"),
        JSON.stringify({ summary: { subjectFidelity: ci } }),
      );
    }
    return 1;
  };
  const help =
    "  --method NAME   dreambooth, textual-inversion or lora\n  --steps N  training steps\n";
  try {
    const args = ["--rows", "db-prior,untrained,lora", "--subjects", "cat", "--out", out];
    assert.equal(await quiet(() => main(args, { run, capture: () => Promise.resolve(help) })), 0);
    const train = calls.filter((c) => c[1] === "train");
    assert.equal(train.length, 2);
    assert.ok(train[1].includes("lora"));
    const untrained = calls.find((c) => c[1] === "eval" && c.includes("models/default"))!;
    assert.ok(untrained.includes("Bun Bob"), "the untrained row uses the trained row's identifier");
    // A killed unit leaves no result: only it runs again.
    await Deno.remove(join(out, "units", "lora", "cat.json"));
    calls.length = 0;
    assert.equal(
      await quiet(() => main([...args, "--resume"], { run, capture: () => Promise.resolve(help) })),
      0,
    );
    assert.deepEqual(calls.map((c) => c[1]), ["train", "eval"]);
    // Without lora in the usage the row is reported, not run.
    const out2 = join(out, "nolora");
    const noHelp = "  --lora-rank R  LoRA rank (--method lora)\n  --method NAME   dreambooth or\n" +
      "                  textual-inversion\n  --steps N\n";
    await quiet(() =>
      main(["--rows", "lora", "--subjects", "cat", "--out", out2], {
        run,
        capture: () => Promise.resolve(noHelp),
      })
    );
    const u = JSON.parse(await Deno.readTextFile(join(out2, "units", "lora", "cat.json")));
    assert.deepEqual([u.status, u.reason], ["not-run", "LoRA unavailable"]);
    // Once deno task train offers it (the lora branch landed), --resume runs the row.
    calls.length = 0;
    const args2 = ["--rows", "lora", "--subjects", "cat", "--out", out2, "--resume"];
    assert.equal(await quiet(() => main(args2, { run, capture: () => Promise.resolve(help) })), 0);
    assert.deepEqual(calls.map((c) => c[1]), ["train", "eval"]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("paper SR levels convert through imagen-pytorch's linear log-SNR into this project's t_aug", () => {
  // σ² = 1 − exp(−(1e-4 + 10 t²)): both paper levels sit near the 1e-4 floor (σ ≈ 0.01).
  assert.ok(Math.abs(imagenAugSigma(1e-3) - 0.010488) < 1e-5);
  assert.ok(Math.abs(imagenAugSigma(1e-5) - 0.0100005) < 1e-5);
  const t = paperAugLevelToProject(1e-3);
  assert.ok(Math.abs(Math.sin(Math.PI * t / 2) - imagenAugSigma(1e-3)) < 1e-12);
  assert.throws(() => imagenAugSigma(-1), /'level' must be in \[0, 1\]/);
});

Deno.test("verdicts: holds, does not hold, inconclusive when intervals overlap", () => {
  const c = CLAIMS[0]; // PRES: lower is better
  const p = (estimate: number, w = 0.05) => ({
    estimate,
    low: estimate - w,
    high: estimate + w,
    n: 5,
  });
  assert.equal(judge(c, p(0.3), p(0.6)).verdict, "holds");
  assert.equal(judge(c, p(0.6), p(0.3)).verdict, "does not hold");
  assert.equal(judge(c, p(0.5), p(0.55)).verdict, "inconclusive");
  assert.equal(judge(c, null, p(0.5)).verdict, "not run");
});

Deno.test("reproduce reports a row the trainer refuses for this model as not run, with its reason", async () => {
  const out = await Deno.makeTempDir({ prefix: "reproduce-refused-" });
  const help = "  --method NAME   dreambooth, textual-inversion or lora\n  --steps N\n";
  const run = async (args: string[], log: string) => {
    await Deno.writeTextFile(
      log,
      "error: Cannot train as 'method' (--method) applies to DeepFloyd IF models, not the default model\n",
    );
    throw new Error(`'deno ${args.join(" ")}' failed`);
  };
  try {
    const args = ["--rows", "lora", "--subjects", "dog", "--out", out];
    assert.equal(await quiet(() => main(args, { run, capture: () => Promise.resolve(help) })), 0);
    const u = JSON.parse(await Deno.readTextFile(join(out, "units", "lora", "dog.json")));
    assert.equal(u.status, "not-run");
    assert.match(u.reason, /applies to DeepFloyd IF models/);
    const md = await Deno.readTextFile(join(out, "report.md"));
    assert.match(md, /\| LoRA \|.*not run: Cannot train/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
