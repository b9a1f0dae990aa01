/**
 * `deno task reproduce` (issue 35): the paper's claims as numbers, in one command and one report.
 * Every row — real images, untrained, DreamBooth with/without prior preservation, λ ∈ {0.5, 1, 2},
 * class noun correct/none/wrong, identifier rare/common word/random string, Textual Inversion,
 * LoRA (when `deno task train --help` offers `--method lora`), SR stage 1 with no fine-tuning and
 * at the paper's two noise-augmentation levels converted to this project's unit — runs on each
 * built-in subject as the ordinary commands (`deno task train`, `deno task eval`,
 * `experiments/superres_leave_one_out.ts`); plus five DreamBench photo subjects through
 * `deno task train` (grids only: the eval nets know only the emoji world).
 *
 * Each row × subject is a unit stored on completion in `OUT/units/<row>/<subject>.json`
 * (atomically); `--resume` skips finished units, so a kill loses at most one unit. Class-prior
 * images are cached once per class noun in `OUT/cache/class_images` and shared by every row.
 * Writes `OUT/results.json`, `OUT/report.md` and `OUT/report.html` (grids in `OUT/grids/`).
 *
 * ```sh
 * deno task reproduce [--quick] [--subjects dog,cat] [--rows db-prior,ti] [--out DIR] [--resume]
 * ```
 *
 * @module
 */
import { join, resolve } from "node:path";
import { declareParams, type ParamValues, runCli, UsageError } from "../params/mod.ts";
import {
  BUILT_IN_SUBJECTS,
  paperAugLevelToProject,
  PHOTO_SUBJECTS,
  ROWS,
  type RowSpec,
  type StudySubject,
} from "./_reproduce_plan.ts";
import {
  notRun,
  readUnit,
  runUnit,
  type UnitResult,
  type UnitSettings,
  writeUnit,
} from "./_reproduce_units.ts";
import { aggregate, writeReports } from "./_reproduce_report.ts";
import { ROOT, type RunCommand, runDeno } from "./_run_deno.ts";

export type { RunCommand } from "./_run_deno.ts";

const SUMMARY = `Reproduces the DreamBooth paper's ablations on the default cascade and the built-in
subjects (resumable units, progress with ETA), and writes results.json, report.md and an offline
report.html with the grids and a verdict per claim.`;

/** The study's parameters. */
const reproduceParams = declareParams("reproduce", {
  quick: {
    type: "boolean",
    default: false,
    help: "tiny version for CI: preset:tiny, subject dog, 2 steps, 1 image per prompt, no photos",
  },
  subjects: {
    type: "string",
    metavar: "A,B",
    help: "built-in subjects",
    defaultText: "all five (--quick: dog)",
  },
  rows: {
    type: "string",
    metavar: "A,B",
    help: "rows to run (ids as in the report)",
    defaultText: "all",
  },
  out: {
    type: "string",
    minLength: 1,
    default: join("runs", "reproduce"),
    metavar: "DIR",
    help: "output folder (relative to the repository root)",
  },
  resume: { type: "boolean", default: false, help: "skip the units finished in --out" },
  model: {
    type: "string",
    minLength: 1,
    metavar: "PATH",
    help: "base model",
    defaultText: "models/default",
  },
  steps: {
    type: "integer",
    min: 1,
    help: "training steps of each trained row",
    defaultText: "100 (--quick: 2)",
  },
  samples: {
    type: "integer",
    min: 1,
    help: "eval images per prompt",
    defaultText: "4 (--quick: 1)",
  },
  evalStages: {
    type: "integer",
    min: 1,
    max: 8,
    help: "cascade stages the evaluation samples through (2 = 128², read at 64²)",
    defaultText: "1: the 32² base read at 64², a third of the time, to fit 6 h",
  },
  photos: {
    type: "boolean",
    default: true,
    help: "the DreamBench photo subjects (never with --quick)",
  },
  photoDir: {
    type: "string",
    minLength: 1,
    metavar: "DIR",
    help: "DreamBench photo folders",
    defaultText: "../shared/data/dreambench",
  },
});

type Values = ParamValues<typeof reproduceParams.specs>;

/** Paper levels of the SR rows (Imagen's t_aug) and their conversion. */
const PAPER_SR_LEVELS = [1e-3, 1e-5] as const;

/**
 * Seconds per unit kind on a quiet 2-core machine (default model; 100 steps ≈ 150 s, a 1-stage eval
 * ≈ 130 s), used until units of that kind have been measured in this output folder.
 */
const PRIOR_SECONDS: Record<string, number> = {
  real: 20,
  untrained: 130,
  train: 300,
  sr: 240,
  photo: 500,
};

function splitList(v: string | undefined, option: string, allowed: string[]): string[] | undefined {
  if (v === undefined) return undefined;
  const xs = v.split(",").filter((x) => x !== "");
  const bad = xs.find((x) => !allowed.includes(x));
  if (bad !== undefined || xs.length === 0) {
    throw new UsageError(
      `Cannot reproduce as '--${option}' must list some of ${
        allowed.join(", ")
      }: current value is "${v}"`,
    );
  }
  return xs;
}

/** The unit settings of `--quick` or the full study. */
function settingsOf(v: Values, out: string): UnitSettings {
  const quick = v.quick;
  const evalArgs = quick
    ? ["--samples", String(v.samples ?? 1), "--prompts", "2", "--pres", "2", "--steps", "2"]
    : ["--samples", String(v.samples ?? 4), "--stages", String(v.evalStages ?? 1)];
  return {
    out,
    model: v.model ?? (quick ? "preset:tiny" : undefined),
    steps: v.steps ?? (quick ? 2 : 100),
    photoSteps: v.steps ?? 200,
    numClassImages: quick ? 2 : 32,
    classSteps: quick ? 2 : 25,
    srSteps: quick ? 1 : 60,
    srLevels: [
      paperAugLevelToProject(PAPER_SR_LEVELS[0]),
      paperAugLevelToProject(PAPER_SR_LEVELS[1]),
    ],
    evalArgs,
    photoDir: v.photoDir
      ? resolve(ROOT, v.photoDir)
      : resolve(ROOT, "..", "shared", "data", "dreambench"),
  };
}

/**
 * Does `deno task train` accept `--method lora`? Read from its usage text, not assumed: the
 * `--method` option's own lines (its line and the indented lines under it) must name `lora`.
 */
async function loraAvailable(capture: (args: string[]) => Promise<string>): Promise<boolean> {
  const lines = (await capture(["run", "-A", "dreambooth/train_cli.ts", "--help"])).split("\n");
  const at = lines.findIndex((l) => /^\s*--method\b/.test(l));
  if (at < 0) return false;
  const block = [lines[at]];
  for (const l of lines.slice(at + 1)) {
    if (/^\s*--/.test(l) || l.trim() === "") break;
    block.push(l);
  }
  return /\blora\b/i.test(block.join(" "));
}

const LORA_UNAVAILABLE = "LoRA unavailable";
const NO_PHOTOS = "no DreamBench photos at";
const key = (u: Planned) => `${u.row.id}/${u.subject.name}`;

/** One planned unit. */
interface Planned {
  row: RowSpec;
  subject: StudySubject;
}

function plan(v: Values, settings: UnitSettings): Planned[] {
  const names = splitList(v.subjects, "subjects", BUILT_IN_SUBJECTS.map((s) => s.name)) ??
    (v.quick ? ["dog"] : BUILT_IN_SUBJECTS.map((s) => s.name));
  const rowIds = splitList(v.rows, "rows", ROWS.map((r) => r.id));
  const rows = ROWS.filter((r) => rowIds?.includes(r.id) ?? true);
  const subjects = BUILT_IN_SUBJECTS.filter((s) => names.includes(s.name));
  const photos: StudySubject[] = PHOTO_SUBJECTS.map((p) => ({
    name: p.name,
    dir: join(settings.photoDir, p.name),
    classNoun: p.classNoun,
    wrongNoun: p.classNoun,
  }));
  return rows.flatMap((row) => {
    if (row.kind !== "photo") return subjects.map((subject) => ({ row, subject }));
    return v.quick || !v.photos ? [] : photos.map((subject) => ({ row, subject }));
  });
}

const minutes = (s: number) =>
  s >= 3600 ? `${(s / 3600).toFixed(1)} h` : `${(s / 60).toFixed(1)} min`;

/** Seconds per unit kind: the mean of finished units of that kind, else the prior. */
function estimator(done: UnitResult[]): (row: RowSpec) => number {
  return (row) => {
    const same = done.filter((u) =>
      ROWS.find((r) => r.id === u.row)?.kind === row.kind && u.status === "done"
    );
    return same.length
      ? same.reduce((s, u) => s + u.seconds, 0) / same.length
      : PRIOR_SECONDS[row.kind];
  };
}

/** Options of {@link main}. */
export interface MainOptions {
  /** Runs one `deno` command (default: a subprocess in the repository root). For tests. */
  run?: RunCommand;
  /** Runs one `deno` command and returns its stdout (default: a subprocess). For tests. */
  capture?: (args: string[]) => Promise<string>;
}

async function captureDeno(args: string[]): Promise<string> {
  const r = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
}

/**
 * Runs the study (see the module docs).
 *
 * @param args Command-line arguments.
 * @param options Command runners (tests pass fakes).
 * @returns The exit code (0 done, 2 bad option, 1 a command failed).
 * @example
 * ```ts
 * import { main } from "./reproduce.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export async function main(args: string[], options: MainOptions = {}): Promise<number> {
  return await runCli(args, {
    params: reproduceParams,
    usage: "deno task reproduce [options]",
    summary: SUMMARY,
  }, (values) => reproduce(values, args, options));
}

async function reproduce(v: Values, args: string[], options: MainOptions): Promise<number> {
  const run = options.run ?? runDeno;
  const out = resolve(ROOT, v.out);
  const settings = settingsOf(v, out);
  const units = plan(v, settings);
  const finished = new Map<string, UnitResult>();
  for (const u of units) {
    const r = await readUnit(out, u.row.id, u.subject.name);
    if (r) finished.set(`${u.row.id}/${u.subject.name}`, r);
  }
  if (finished.size > 0 && !v.resume) {
    throw new UsageError(
      `Cannot reproduce into '${v.out}' as it holds ${finished.size} finished units: pass --resume to continue, or another --out`,
    );
  }
  const photosHere = await Deno.stat(settings.photoDir).then(() => true, () => false);
  const lora = units.some((u) => u.row.needs === "lora" && finished.get(key(u))?.status !== "done")
    ? await loraAvailable(options.capture ?? captureDeno)
    : false;
  // A unit not run for want of a capability that is here now (LoRA landed, photos mounted) runs.
  for (const [k, r] of finished) {
    if (r.status !== "not-run") continue;
    if (
      (r.reason === LORA_UNAVAILABLE && lora) || (r.reason?.startsWith(NO_PHOTOS) && photosHere)
    ) {
      finished.delete(k);
    }
  }
  const estimate = estimator([...finished.values()]);
  const todo = units.filter((u) => !finished.has(key(u)));
  const total = todo.reduce((s, u) => s + estimate(u.row), 0);
  console.log(
    `reproduce: ${units.length} units (${finished.size} finished, ${todo.length} to run), ${settings.steps} steps per trained row, ` +
      `eval ${settings.evalArgs.join(" ")}; SR levels (paper 1e-3, 1e-5 → this project's t_aug) ${
        settings.srLevels.map((x) => x.toPrecision(4)).join(", ")
      }; LoRA ${lora ? "available" : "unavailable"}; estimate ${
        minutes(total)
      } on this machine; out ${out}`,
  );
  const t0 = performance.now();
  const doneNow: UnitResult[] = [...finished.values()];
  let k = 0;
  for (const u of todo) {
    k++;
    let r: UnitResult;
    if (u.row.needs === "lora" && !lora) r = notRun(u.row.id, u.subject.name, LORA_UNAVAILABLE);
    else if (u.row.kind === "photo" && !photosHere) {
      r = notRun(u.row.id, u.subject.name, `${NO_PHOTOS} ${settings.photoDir}`);
    } else {
      const prior = doneNow.find((x) => x.row === "db-prior" && x.subject === u.subject.name);
      r = await runUnit(settings, run, { ...u, identifier: prior?.identifier });
    }
    await writeUnit(out, r);
    doneNow.push(r);
    const est = estimator(doneNow);
    const left = todo.slice(k).reduce((s, x) => s + est(x.row), 0);
    console.log(
      `[${k}/${todo.length}] ${u.row.id} ${u.subject.name}: ${r.status}${
        r.reason ? ` (${r.reason})` : ""
      } in ${minutes(r.seconds)} | elapsed ${minutes((performance.now() - t0) / 1e3)} | ETA ${
        minutes(left)
      }`,
    );
  }
  await writeAll(out, units, { v, args, settings, photosHere });
  return 0;
}

async function writeAll(
  out: string,
  units: Planned[],
  ctx: { v: Values; args: string[]; settings: UnitSettings; photosHere: boolean },
): Promise<void> {
  const results: UnitResult[] = [];
  for (const u of units) {
    const r = await readUnit(out, u.row.id, u.subject.name);
    if (r) results.push(r);
  }
  const [high, low] = ctx.settings.srLevels;
  const srNote =
    `Paper levels 1e-3 and 1e-5 are Imagen noise-augmentation times; under imagen-pytorch's convention ` +
    `(σ = √(1 − exp(−(1e-4 + 10 t²)))) they add σ = ${
      Math.sin(Math.PI * high / 2).toFixed(5)
    } and ${Math.sin(Math.PI * low / 2).toFixed(5)}, i.e. t_aug = ${high.toFixed(5)} ("high") and ${
      low.toFixed(5)
    } ("low") in this project's unit (σ = sin(π t/2)). ` +
    `${ctx.settings.srSteps} fine-tuning steps per level.`;
  const photos = results.filter((r) => r.row === "photo");
  const photoNote = photos.length === 0
    ? "Not run in this invocation."
    : `Subjects ${
      photos.map((p) => `${p.subject} (${p.status}${p.reason ? `: ${p.reason}` : ""})`).join(", ")
    } ` +
      `through \`deno task train\` on the default cascade; grids in grids/photo-*.png. No metric applies: ` +
      `the eval nets know only the emoji world.`;
  const md = await writeReports(out, aggregate(results), {
    command: `deno task reproduce ${ctx.args.join(" ")}`.trim(),
    settings:
      `Model ${
        ctx.settings.model ?? "models/default"
      }; ${ctx.settings.steps} training steps per trained row; ` +
      `${ctx.settings.numClassImages} class images; eval ${ctx.settings.evalArgs.join(" ")}.`,
    srNote,
    photoNote,
  });
  console.log(`\n${md}\nwrote ${join(out, "results.json")}, report.md, report.html`);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
