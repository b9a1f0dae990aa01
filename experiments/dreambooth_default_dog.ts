/**
 * The DreamBooth experiment of issue 6 (results: reports/2026-11-28-dreambooth-default-dog.md) (paper §4.1–4.2, Table 1–2 in this project's world): for a
 * subject, evaluates with eval/ (1) the untrained base model with the identifier prompts, (2)
 * DreamBooth with the class-specific prior-preservation loss and (3) naive fine-tuning
 * (`--no-prior-preservation`), the latter two trained for the same steps at each learning rate of
 * `--lrs`, and prints one table: subject fidelity (embedder and foreground-colour), context
 * accuracy, PRES (lower is better) and DIV. Each run is the ordinary command (`deno task train`,
 * `deno task eval`) in a subprocess started in the repository root, so every row can be reproduced
 * alone with the command it prints; finished runs are reused when the experiment is repeated.
 *
 * ```sh
 * deno run -A experiments/dreambooth_default_dog.ts [--model PATH] [--subject dog] [--steps 200] [--lrs 1e-4]
 *   [--variants untrained,prior,naive] [--stages 2] [--samples 4] [--out runs/dreambooth/experiment]
 * ```
 * Writes `<out>/table.md` and `<out>/results.json`.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { declareParams, type ParamValues, runCli, UsageError } from "../params/mod.ts";
import { ROOT, type RunCommand, runDeno } from "./_run_deno.ts";

export type { RunCommand } from "./_run_deno.ts";

interface Row {
  variant: string;
  lr: number | null;
  model: string;
  trainSeconds: number | null;
  evalSeconds: number;
  metrics: Record<string, { estimate: number; low: number; high: number } | number | null>;
  commands: string[];
}

/** {@link runDeno} printing each command first. */
const runEchoed: RunCommand = (args, log) => runDeno(args, log, { echo: true });

const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

const SUMMARY = `DreamBooth with vs without prior preservation vs the untrained model, measured with
eval/. Paths are relative to the repository root.`;

/** The experiment's parameters (options, checks and usage text). */
const experimentParams = declareParams("run the experiment", {
  model: {
    type: "string",
    minLength: 1,
    metavar: "PATH",
    help: "base model for training and the untrained row",
    defaultText: "deno task train's default",
  },
  subject: {
    type: "string",
    minLength: 1,
    default: "dog",
    metavar: "NAME",
    help: "built-in subject",
  },
  identifier: {
    type: "string",
    minLength: 1,
    help: "identifier",
    defaultText: "the one deno task train draws, read from its first run",
  },
  steps: { type: "integer", min: 1, default: 200, help: "training steps of every trained row" },
  lrs: { type: "string", default: "1e-4", metavar: "A,B", help: "learning rates" },
  variants: {
    type: "string",
    default: "untrained,prior,naive",
    metavar: "LIST",
    help: "rows: untrained, prior, naive",
  },
  stages: { type: "integer", min: 1, default: 2, help: "cascade stages the eval samples through" },
  samples: { type: "integer", min: 1, default: 4, help: "eval images per prompt" },
  out: {
    type: "string",
    minLength: 1,
    default: join("runs", "dreambooth", "experiment"),
    metavar: "DIR",
    help: "output folder",
  },
});

/** The experiment's settings: the parsed values with the lists split. */
type ExperimentOptions =
  & Omit<ParamValues<typeof experimentParams.specs>, "lrs" | "variants">
  & { lrs: number[]; variants: string[] };

/** Splits and checks the list options. */
function experimentOptions(
  values: ParamValues<typeof experimentParams.specs>,
): ExperimentOptions {
  const lrs = values.lrs.split(",").map(Number);
  if (lrs.some((x) => !(Number.isFinite(x) && x > 0))) {
    throw new UsageError(
      `Cannot run the experiment as '--lrs' must be positive numbers: current value is "${values.lrs}"`,
    );
  }
  const variants = values.variants.split(",");
  for (const v of variants) {
    if (!["untrained", "prior", "naive"].includes(v)) {
      throw new UsageError(
        `Cannot run the experiment as '--variants' must list untrained, prior or naive: current value is "${values.variants}"`,
      );
    }
  }
  return { ...values, lrs, variants };
}

/** `deno task eval` of one model into `dir`. */
function evalArgs(o: ExperimentOptions, model: string, identifier: string, dir: string): string[] {
  return [
    "task",
    "eval",
    "--model",
    model,
    "--subject",
    o.subject,
    "--identifier",
    identifier,
    "--stages",
    String(o.stages),
    "--samples",
    String(o.samples),
    "--out",
    dir,
  ];
}

/** One trained row: `deno task train` (unless its model exists), then `deno task eval`. */
async function trainedRow(
  o: ExperimentOptions,
  variant: string,
  lr: number,
  ctx: { identifier?: string; run: RunCommand },
): Promise<{ row: Row; identifier: string }> {
  const dir = join(o.out, `${variant}_lr${lr}`);
  const args = [
    "task",
    "train",
    ...(o.model ? ["--model", o.model] : []),
    "--out",
    dir,
    "--steps",
    String(o.steps),
    "--lr",
    String(lr),
    "--no-superres",
    "--no-samples",
    ...(ctx.identifier ? ["--identifier", ctx.identifier] : []),
    ...(variant === "naive" ? ["--no-prior-preservation"] : []),
    ...(o.subject !== "dog" ? ["--instance-dir", join("data", "subjects", o.subject)] : []),
  ];
  let trainSeconds: number | null = null;
  if (!(await exists(resolve(ROOT, dir, "model.safetensors")))) {
    trainSeconds = await ctx.run(args, join(o.out, `${variant}_lr${lr}.train.log`));
  } else console.log(`reusing ${dir}`);
  const info = JSON.parse(await Deno.readTextFile(resolve(ROOT, dir, "dreambooth.json")));
  const identifier = ctx.identifier ?? info.identifier as string;
  const evalDir = join(dir, "eval");
  const eArgs = evalArgs(o, dir, identifier, evalDir);
  const evalSeconds = await ctx.run(eArgs, join(o.out, `${variant}_lr${lr}.eval.log`));
  const m = JSON.parse(await Deno.readTextFile(resolve(ROOT, evalDir, "metrics.json")));
  const commands = [`deno ${args.join(" ")}`, `deno ${eArgs.join(" ")}`];
  return {
    row: { variant, lr, model: dir, trainSeconds, evalSeconds, metrics: m.summary, commands },
    identifier,
  };
}

/** The Markdown table of the rows. */
function formatTable(o: ExperimentOptions, identifier: string | undefined, rows: Row[]): string {
  const ci = (v: unknown) => {
    if (v === null || v === undefined) return "—";
    if (typeof v === "number") return v.toFixed(3);
    const c = v as { estimate: number; low: number; high: number };
    return `${c.estimate.toFixed(3)} [${c.low.toFixed(3)}, ${c.high.toFixed(3)}]`;
  };
  return [
    `Subject '${o.subject}', identifier '${identifier}', ${o.steps} steps, eval through ${o.stages} stage(s), ${o.samples} images per prompt (95 % bootstrap intervals).`,
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
}

/** Options of {@link main}. */
export interface MainOptions {
  /** Runs one `deno` command (default: a subprocess in the repository root). For tests. */
  run?: RunCommand;
}

/**
 * Runs the experiment: trained rows first (the first one tells the identifier the untrained row
 * must use), then the untrained row; writes `<out>/table.md` and `<out>/results.json` (paths
 * relative to the repository root).
 *
 * @param args Command-line arguments (see the module docs).
 * @param options The command runner.
 * @returns The exit code (0 done, 2 for a bad option, 1 when a command fails).
 * @example
 * ```ts
 * import { main } from "./dreambooth_default_dog.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export async function main(args: string[], options: MainOptions = {}): Promise<number> {
  return await runCli(args, {
    params: experimentParams,
    usage: "deno run -A experiments/dreambooth_default_dog.ts [options]",
    summary: SUMMARY,
  }, (values) => runExperiment(experimentOptions(values), options.run ?? runEchoed));
}

/** The experiment's body: every row, then the table. */
async function runExperiment(o: ExperimentOptions, run: RunCommand): Promise<number> {
  await Deno.mkdir(resolve(ROOT, o.out), { recursive: true });
  const rows: Row[] = [];
  let identifier = o.identifier;
  const t0 = performance.now();
  for (const lr of o.lrs) {
    for (const variant of o.variants.filter((v) => v !== "untrained")) {
      const done = await trainedRow(o, variant, lr, { identifier, run });
      identifier ??= done.identifier;
      rows.push(done.row);
      console.log(`done ${variant} lr ${lr} | ${((performance.now() - t0) / 60e3).toFixed(1)} min`);
    }
  }
  if (o.variants.includes("untrained")) {
    if (identifier === undefined) {
      throw new Error("Cannot evaluate the untrained model without --identifier (no trained row)");
    }
    const base = o.model ?? "models/default";
    const evalDir = join(o.out, "untrained", "eval");
    const eArgs = evalArgs(o, base, identifier, evalDir);
    const evalSeconds = await run(eArgs, join(o.out, "untrained.eval.log"));
    const m = JSON.parse(await Deno.readTextFile(resolve(ROOT, evalDir, "metrics.json")));
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
  const table = formatTable(o, identifier, rows);
  await Deno.writeTextFile(resolve(ROOT, o.out, "table.md"), table + "\n");
  await Deno.writeTextFile(
    resolve(ROOT, o.out, "results.json"),
    JSON.stringify(rows, null, 2) + "\n",
  );
  console.log("\n" + table);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
