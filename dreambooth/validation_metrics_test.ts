/**
 * `--validation-every N` scores its grid with eval's world nets (issue 32, Deliver 3): the real
 * pipeline on the tiny preset and the built-in dog writes `validation.jsonl` with a line per
 * validation (finite metrics), and a class noun the nets do not know is skipped with its reason.
 */
import assert from "assert";
import { join } from "node:path";
import { initBackend } from "./deps.ts";
import { builtInSubjects, loadSubjectFolder } from "../data/mod.ts";
import { trainDreamBooth } from "./dreambooth_train.ts";
import { createValidationMetrics, type ValidationRecord } from "./validation_metrics.ts";

await initBackend({ quiet: true });

const dog = builtInSubjects().find((s) => s.name === "dog")!;

/** A tiny-preset run of the built-in dog's photos with a validation grid every step. */
async function run(classNoun: string, out: string, cacheDir: string): Promise<string[]> {
  const lines: string[] = [];
  const r = await trainDreamBooth({
    model: "preset:tiny",
    instanceDir: dog.dir,
    classNoun,
    identifier: "sks",
    out,
    cacheDir,
    steps: 2,
    numClassImages: 1,
    classSteps: 1,
    instanceBatch: 1,
    checkpointEverySteps: 0,
    sampleEverySteps: 1,
    validationPrompts: [
      "a {identifier} {class} on the beach",
      "a {identifier} {class}",
      "a {class}",
    ],
    finalSamples: false,
    superRes: false,
    log: (l) => lines.push(l),
    warn: () => {},
  });
  assert.equal(r.summary.reason, "done");
  return lines;
}

Deno.test("--validation-every: validation.jsonl holds the eval metrics of each grid (steps 0, 1, 2)", async () => {
  const out = await Deno.makeTempDir(), cacheDir = await Deno.makeTempDir();
  try {
    const lines = await run("dog", out, cacheDir);
    const records = (await Deno.readTextFile(join(out, "validation.jsonl"))).trim().split("\n")
      .map((l) => JSON.parse(l) as ValidationRecord);
    assert.deepEqual(records.map((r) => r.step), [0, 1, 2]);
    for (const r of records) {
      assert.deepEqual([r.subject, r.identifier, r.classNoun], ["dog", "sks", "dog"]);
      assert.deepEqual(r.images, { identifier: 2, world: 1, class: 1 });
      // Accuracies are fractions; similarities are cosines (may dip below 0 for unlike images).
      for (const v of [r.classAccuracy, r.promptFidelity]) {
        assert.ok(Number.isFinite(v) && v! >= 0 && v! <= 1, JSON.stringify(r));
      }
      for (const v of [r.subjectFidelity, r.pres]) {
        assert.ok(Number.isFinite(v) && v! >= -1 && v! <= 1, JSON.stringify(r));
      }
    }
    const progress = lines.filter((l) => l.startsWith("validation at step"));
    assert.equal(progress.length, 3, lines.join("\n"));
    assert.match(
      progress[2],
      /^validation at step 2 \('dog'\): subject fidelity -?\d\.\d{3}, class accuracy/,
    );
    assert.ok(!lines.some((l) => /validation metrics skipped/.test(l)), lines.join("\n"));
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("--validation-every: a class noun the world nets do not know is skipped once, with the reason", async () => {
  const out = await Deno.makeTempDir(), cacheDir = await Deno.makeTempDir();
  try {
    const lines = await run("zorblax", out, cacheDir);
    const skipped = lines.filter((l) => /validation metrics skipped/.test(l));
    assert.equal(skipped.length, 1, lines.join("\n"));
    assert.match(
      skipped[0],
      /'zorblax' is not|"zorblax" is not one of the \d+ the world classifier knows/,
    );
    assert.ok(!lines.some((l) => l.startsWith("validation at step")));
    assert.equal(
      await Deno.stat(join(out, "validation.jsonl")).then(() => true, () => false),
      false,
    );
    // The grids are drawn all the same.
    const grids = [];
    for await (const e of Deno.readDir(join(out, "samples"))) grids.push(e.name);
    assert.ok(grids.includes("step_000002.png"), grids.join(", "));
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("createValidationMetrics: missing nets, and photos the classifier does not read as the class, are skipped with the reason", async () => {
  const runDir = await Deno.makeTempDir();
  try {
    const grey = { data: new Float32Array(32 * 32 * 3), width: 32, height: 32 };
    const subject = { name: "x", identifier: "sks", classNoun: "dog", classPrompt: "a dog" };
    const grid = { images: [grey, grey], labels: ["a sks dog", "a dog"] };
    const lines: string[] = [];
    using missing = createValidationMetrics([{ ...subject, photos: [grey] }], {
      runDir,
      log: (l) => lines.push(l),
      nets: { classifier: join(runDir, "absent.safetensors") },
    });
    assert.deepEqual(await missing.measure(0, grid), grid);
    await missing.measure(1, grid);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /^validation metrics skipped: the eval nets could not be loaded/);
    // The built-in dog's photos trained as "cat": the nets read them as dogs, not of the class.
    const photos = (await loadSubjectFolder(dog.dir, { size: 32 })).images;
    lines.length = 0;
    using notCat = createValidationMetrics([{ ...subject, classNoun: "cat", photos }], {
      runDir,
      log: (l) => lines.push(l),
    });
    assert.deepEqual(await notCat.measure(0, grid), grid);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(
      lines[0],
      /^validation metrics skipped for 'x': none of the 5 instance photos reads as "cat" .*read: dog/,
    );
    assert.equal(await Deno.stat(join(runDir, "validation.jsonl")).then(() => 1, () => 0), 0);
    assert.throws(
      () => createValidationMetrics([], { runDir }),
      /'subjects' must be a non-empty array/,
    );
    assert.throws(
      () => createValidationMetrics([{ ...subject, photos: [grey] }], { runDir: "" }),
      /'runDir' must be a non-empty path/,
    );
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
});
