/**
 * The DreamBooth experiment of issue 6 (paper §4.1–4.2, Table 1–2 in this project's world): for a
 * subject, evaluates with eval/ (1) the untrained base model with the identifier prompts, (2)
 * DreamBooth with the class-specific prior-preservation loss and (3) naive fine-tuning
 * (`--no-prior-preservation`), the latter two trained for the same steps at each learning rate of
 * `--lrs`, and prints one table: subject fidelity (embedder and foreground-colour), context
 * accuracy, PRES (lower is better) and DIV. Each run is the ordinary CLI (`deno task train`,
 * `deno task eval`) in a subprocess, so every row can be reproduced alone with the command it
 * prints; finished runs are reused when the experiment is repeated.
 *
 * ```sh
 * deno run -A training/experiment.ts [--model PATH] [--subject dog] [--steps 200] [--lrs 1e-4]
 *   [--variants untrained,prior,naive] [--stages 2] [--samples 4] [--out runs/dreambooth/experiment]
 * ```
 * Writes `<out>/table.md` and `<out>/results.json`.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";

const USAGE = `Usage: deno run -A training/experiment.ts [options]

DreamBooth with vs without prior preservation vs the untrained model, measured with eval/.

Options:
  --model PATH       base model for training and the untrained row (default: deno task train's default)
  --subject NAME     built-in subject (default dog)
  --identifier TEXT  identifier (default: the one deno task train draws, read from its first run)
  --steps N          training steps of every trained row (default 200)
  --lrs A,B          learning rates (default 1e-4)
  --variants LIST    untrained,prior,naive (default all three)
  --stages N         cascade stages the eval samples through (default 2)
  --samples N        eval images per prompt (default 4)
  --out DIR          output folder (default runs/dreambooth/experiment)
  --help             this text`;

interface Row {
  variant: string;
  lr: number | null;
  model: string;
  trainSeconds: number | null;
  evalSeconds: number;
  metrics: Record<string, { estimate: number; low: number; high: number } | number | null>;
  commands: string[];
}

async function run(args: string[], log: string): Promise<number> {
  const t = performance.now();
  console.log(`$ deno ${args.join(" ")}  (log: ${log})`);
  const file = await Deno.open(log, { create: true, write: true, truncate: true });
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) await file.write(chunk);
  };
  await Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = await child.status;
  file.close();
  if (!status.success) {
    throw new Error(`'deno ${args.join(" ")}' failed (exit ${status.code}): see ${log}`);
  }
  return (performance.now() - t) / 1e3;
}

const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string" },
      subject: { type: "string", default: "dog" },
      identifier: { type: "string" },
      steps: { type: "string", default: "200" },
      lrs: { type: "string", default: "1e-4" },
      variants: { type: "string", default: "untrained,prior,naive" },
      stages: { type: "string", default: "2" },
      samples: { type: "string", default: "4" },
      out: { type: "string", default: join("runs", "dreambooth", "experiment") },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const lrs = values.lrs!.split(",").map(Number);
  if (lrs.some((x) => !(Number.isFinite(x) && x > 0))) {
    throw new RangeError(`Cannot run as '--lrs' must be positive numbers: got '${values.lrs}'`);
  }
  const variants = values.variants!.split(",");
  for (const v of variants) {
    if (!["untrained", "prior", "naive"].includes(v)) {
      throw new RangeError(`Cannot run as variant '${v}' is not untrained, prior or naive`);
    }
  }
  const out = values.out!;
  await Deno.mkdir(out, { recursive: true });
  const modelArgs = values.model ? ["--model", values.model] : [];
  const evalArgs = (model: string, identifier: string, dir: string) => [
    "run",
    "-A",
    "eval/cli.ts",
    "--model",
    model,
    "--subject",
    values.subject!,
    "--identifier",
    identifier,
    "--stages",
    values.stages!,
    "--samples",
    values.samples!,
    "--out",
    dir,
  ];
  const rows: Row[] = [];
  let identifier = values.identifier;
  const t0 = performance.now();

  // Trained rows first: the first one tells the identifier the untrained row must use.
  const trained = variants.filter((v) => v !== "untrained");
  for (const lr of lrs) {
    for (const variant of trained) {
      const dir = join(out, `${variant}_lr${lr}`);
      const args = [
        "run",
        "-A",
        "training/train_cli.ts",
        ...modelArgs,
        "--out",
        dir,
        "--steps",
        values.steps!,
        "--lr",
        String(lr),
        "--no-superres",
        "--no-samples",
        ...(identifier ? ["--identifier", identifier] : []),
        ...(variant === "naive" ? ["--no-prior-preservation"] : []),
        ...(values.subject !== "dog"
          ? ["--instance-dir", join("data", "subjects", values.subject!)]
          : []),
      ];
      let trainSeconds: number | null = null;
      if (!(await exists(join(dir, "model.safetensors")))) {
        trainSeconds = await run(args, join(out, `${variant}_lr${lr}.train.log`));
      } else console.log(`reusing ${dir}`);
      const info = JSON.parse(await Deno.readTextFile(join(dir, "dreambooth.json")));
      identifier ??= info.identifier as string;
      const evalDir = join(dir, "eval");
      const eArgs = evalArgs(dir, identifier!, evalDir);
      const evalSeconds = await run(eArgs, join(out, `${variant}_lr${lr}.eval.log`));
      const m = JSON.parse(await Deno.readTextFile(join(evalDir, "metrics.json")));
      rows.push({
        variant,
        lr,
        model: dir,
        trainSeconds,
        evalSeconds,
        metrics: m.summary,
        commands: [`deno ${args.join(" ")}`, `deno ${eArgs.join(" ")}`],
      });
      console.log(`done ${variant} lr ${lr} | ${((performance.now() - t0) / 60e3).toFixed(1)} min`);
    }
  }
  if (variants.includes("untrained")) {
    if (identifier === undefined) {
      throw new Error("Cannot evaluate the untrained model without --identifier (no trained row)");
    }
    const base = values.model ?? "models/default";
    const evalDir = join(out, "untrained", "eval");
    const eArgs = evalArgs(base, identifier, evalDir);
    const evalSeconds = await run(eArgs, join(out, "untrained.eval.log"));
    const m = JSON.parse(await Deno.readTextFile(join(evalDir, "metrics.json")));
    rows.unshift({
      variant: "untrained",
      lr: null,
      model: base,
      trainSeconds: null,
      evalSeconds,
      metrics: m.summary,
      commands: [`deno ${eArgs.join(" ")}`],
    });
  }

  const ci = (v: unknown) => {
    if (v === null || v === undefined) return "—";
    if (typeof v === "number") return v.toFixed(3);
    const c = v as { estimate: number; low: number; high: number };
    return `${c.estimate.toFixed(3)} [${c.low.toFixed(3)}, ${c.high.toFixed(3)}]`;
  };
  const table = [
    `Subject '${values.subject}', identifier '${identifier}', ${values.steps} steps, eval through ${values.stages} stage(s), ${values.samples} images per prompt (95 % bootstrap intervals).`,
    ``,
    `| model | lr | subject fidelity (embedder) ↑ | subject fidelity (colour) ↑ | context accuracy ↑ | PRES ↓ | DIV ↑ | train s |`,
    `| --- | --- | --- | --- | --- | --- | --- | --- |`,
    ...rows.map((r) =>
      `| ${r.variant} | ${r.lr ?? "—"} | ${ci(r.metrics.subjectFidelity)} | ${
        ci(r.metrics.pixelFidelity)
      } | ${ci(r.metrics.contextAccuracy)} | ${ci(r.metrics.pres)} | ${ci(r.metrics.diversity)} | ${
        r.trainSeconds?.toFixed(0) ?? "—"
      } |`
    ),
    ``,
    `Real images of the subject against themselves (the ceiling): ${
      ci(rows[0]?.metrics.realSelfSimilarity)
    }.`,
  ].join("\n");
  await Deno.writeTextFile(join(out, "table.md"), table + "\n");
  await Deno.writeTextFile(join(out, "results.json"), JSON.stringify(rows, null, 2) + "\n");
  console.log("\n" + table);
}
