/**
 * Private to experiments/: one unit of `deno task reproduce` (a row × a subject) as the ordinary
 * commands (`deno task train`, `deno task eval`, the SR leave-one-out experiment) in subprocesses,
 * and the atomic unit store that makes the study resumable.
 *
 * @module
 */
import { dirname, join } from "node:path";
import type { RowSpec, StudySubject } from "./_reproduce_plan.ts";
import type { RunCommand } from "./_run_deno.ts";

/** The settings every unit reads. */
export interface UnitSettings {
  /** Output folder (absolute). */
  out: string;
  /** Base model (`--model`), or undefined for the default. */
  model?: string;
  /** Training steps of the trained rows. */
  steps: number;
  /** Training steps of the DreamBench-photo rows. */
  photoSteps: number;
  /** Class-prior images. */
  numClassImages: number;
  /** Ancestral steps per class image. */
  classSteps: number;
  /** SR fine-tuning steps per level. */
  srSteps: number;
  /** The SR levels in this project's unit: [paper 1e-3, paper 1e-5] converted. */
  srLevels: [number, number];
  /** Eval options (`--samples`, `--prompts`, …) passed to every `deno task eval`. */
  evalArgs: string[];
  /** Folder of the DreamBench photos. */
  photoDir: string;
}

/** What a finished unit stores in `OUT/units/<row>/<subject>.json`. */
export interface UnitResult {
  row: string;
  subject: string;
  status: "done" | "not-run";
  /** Why not run. */
  reason?: string;
  /** The eval summary (metrics with intervals), for eval rows. */
  metrics?: Record<string, unknown>;
  /** SR settings (none / high / low) with PSNR and Laplacian figures, for the SR row. */
  sr?: Record<string, { psnr: number; hfError: number; hfRatio: number; tAug: number | null }>;
  /** The identifier the model was trained with. */
  identifier?: string;
  trainSeconds: number | null;
  evalSeconds: number | null;
  /** Wall seconds of the whole unit. */
  seconds: number;
  /** Grid images, relative to OUT. */
  grids: string[];
  /** The commands that reproduce it. */
  commands: string[];
}

/** The path of a unit's result. */
export function unitPath(out: string, row: string, subject: string): string {
  return join(out, "units", row, `${subject}.json`);
}

/** Reads a finished unit, or null. */
export async function readUnit(
  out: string,
  row: string,
  subject: string,
): Promise<UnitResult | null> {
  try {
    return JSON.parse(await Deno.readTextFile(unitPath(out, row, subject)));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Writes a unit atomically (temporary file + rename), so a kill never leaves half a result. */
export async function writeUnit(out: string, r: UnitResult): Promise<void> {
  const path = unitPath(out, r.row, r.subject);
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, JSON.stringify(r, null, 2) + "\n");
  await Deno.rename(tmp, path);
}

/** A training failure that means the row cannot be expressed on this model (not a bug). */
const NOT_EXPRESSIBLE =
  /not in its vocabulary|does not round-trip|is not a known option|must be one of|applies to DeepFloyd IF models/;

async function copyGrid(from: string, out: string, name: string): Promise<string[]> {
  try {
    await Deno.mkdir(join(out, "grids"), { recursive: true });
    await Deno.copyFile(from, join(out, "grids", name));
    return [`grids/${name}`];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

async function evalUnit(
  o: UnitSettings,
  run: RunCommand,
  u: { row: string; subject: StudySubject; model: string; work: string; extra?: string[] },
): Promise<
  { metrics: Record<string, unknown>; seconds: number; command: string; grids: string[] }
> {
  const dir = join(u.work, "eval");
  const args = [
    "task",
    "eval",
    "--model",
    u.model,
    "--subject",
    u.subject.name,
    "--out",
    dir,
    ...o.evalArgs,
    ...(u.extra ?? []),
  ];
  const seconds = await run(args, join(u.work, "eval.log"));
  const m = JSON.parse(await Deno.readTextFile(join(dir, "metrics.json")));
  const grid = u.row === "real" ? "real.png" : "prompt-00.png";
  const grids = await copyGrid(join(dir, "grids", grid), o.out, `${u.row}-${u.subject.name}.png`);
  return { metrics: m.summary, seconds, command: `deno ${args.join(" ")}`, grids };
}

/** `deno task train` of a trained or photo row into `work/train`. */
function trainArgs(o: UnitSettings, row: RowSpec, s: StudySubject, work: string): string[] {
  const photo = row.kind === "photo";
  return [
    "task",
    "train",
    ...(o.model ? ["--model", o.model] : []),
    "--instance-dir",
    s.dir,
    ...(photo ? ["--class-noun", s.classNoun] : []),
    "--out",
    join(work, "train"),
    "--steps",
    String(photo ? o.photoSteps : o.steps),
    "--num-class-images",
    String(o.numClassImages),
    "--class-steps",
    String(o.classSteps),
    "--cache-dir",
    join(o.out, "cache", "class_images"),
    "--seed",
    "0",
    "--checkpoint-every",
    "0",
    "--validation-every",
    "0",
    ...(photo ? [] : ["--no-superres", "--no-samples"]),
    ...(row.train?.(s) ?? []),
  ];
}

/** Runs a trained row: train, then eval; "not run" when the model cannot express the row. */
async function trainedUnit(
  o: UnitSettings,
  run: RunCommand,
  row: RowSpec,
  s: StudySubject,
  work: string,
): Promise<Omit<UnitResult, "seconds">> {
  const args = trainArgs(o, row, s, work);
  const log = join(work, "train.log");
  let trainSeconds: number;
  try {
    trainSeconds = await run(args, log);
  } catch (e) {
    const text = await Deno.readTextFile(log).catch(() => "");
    const why = text.split("\n").find((l) => NOT_EXPRESSIBLE.test(l));
    if (!why) throw e;
    return notRun(row.id, s.name, why.replace(/^error: /, "").trim());
  }
  const info = JSON.parse(await Deno.readTextFile(join(work, "train", "dreambooth.json")));
  const command = `deno ${args.join(" ")}`;
  if (row.kind === "photo") {
    const grids = await copyGrid(
      join(work, "train", "final", "grid.png"),
      o.out,
      `photo-${s.name}.png`,
    );
    return {
      row: row.id,
      subject: s.name,
      status: "done",
      identifier: info.identifier,
      trainSeconds,
      evalSeconds: null,
      grids,
      commands: [command],
    };
  }
  const e = await evalUnit(o, run, { row: row.id, subject: s, model: join(work, "train"), work });
  return {
    row: row.id,
    subject: s.name,
    status: "done",
    identifier: info.identifier,
    metrics: e.metrics,
    trainSeconds,
    evalSeconds: e.seconds,
    grids: e.grids,
    commands: [command, e.command],
  };
}

/** A unit that cannot run here, with the reason. */
export function notRun(row: string, subject: string, reason: string): UnitResult {
  return {
    row,
    subject,
    status: "not-run",
    reason,
    trainSeconds: null,
    evalSeconds: null,
    seconds: 0,
    grids: [],
    commands: [],
  };
}

/** The SR row: the leave-one-out experiment at no fine-tuning and the two converted levels. */
async function srUnit(
  o: UnitSettings,
  run: RunCommand,
  s: StudySubject,
  work: string,
): Promise<Omit<UnitResult, "seconds">> {
  const [high, low] = o.srLevels;
  const args = [
    "run",
    "-A",
    "experiments/superres_leave_one_out.ts",
    ...(o.model ? ["--model", o.model] : []),
    "--subjects",
    s.name,
    "--steps",
    String(o.srSteps),
    "--aug-levels",
    `${high},${low}`,
    "--no-beach",
    "--out",
    work,
  ];
  const trainSeconds = await run(args, join(work, "sr.log"));
  const r = JSON.parse(await Deno.readTextFile(join(work, "results.json")));
  const pick = (setting: string, tAug: number | null) => {
    const x = r.rows.find((row: { setting: string }) => row.setting === setting);
    return { psnr: x.psnr, hfError: x.hfError, hfRatio: x.hfRatio, tAug };
  };
  const name = (l: number) => `fine-tuned, t_aug ${l < 0.01 ? l.toExponential() : l}`;
  const grids = await copyGrid(join(work, "loo_grid.png"), o.out, `sr-${s.name}.png`);
  return {
    row: "sr",
    subject: s.name,
    status: "done",
    sr: {
      input: pick("input (nearest upsampling)", null),
      none: pick("no SR fine-tuning", null),
      high: pick(name(high), high),
      low: pick(name(low), low),
    },
    trainSeconds,
    evalSeconds: null,
    grids,
    commands: [`deno ${args.join(" ")}`],
  };
}

/**
 * Runs one unit from scratch (its work folder is emptied first, so a unit killed half-way is
 * simply redone) and returns its result; the caller stores it.
 */
export async function runUnit(
  o: UnitSettings,
  run: RunCommand,
  u: { row: RowSpec; subject: StudySubject; identifier?: string },
): Promise<UnitResult> {
  const t = performance.now();
  const { row, subject: s } = u;
  const work = join(o.out, "work", row.id, s.name);
  await Deno.remove(work, { recursive: true }).catch(() => {});
  await Deno.mkdir(work, { recursive: true });
  let r: Omit<UnitResult, "seconds">;
  if (row.kind === "train" || row.kind === "photo") r = await trainedUnit(o, run, row, s, work);
  else if (row.kind === "sr") r = await srUnit(o, run, s, work);
  else {
    const model = row.kind === "real" ? "real" : (o.model ?? "models/default");
    const extra = row.kind === "untrained" && u.identifier ? ["--identifier", u.identifier] : [];
    const e = await evalUnit(o, run, { row: row.id, subject: s, model, work, extra });
    r = {
      row: row.id,
      subject: s.name,
      status: "done",
      metrics: e.metrics,
      trainSeconds: null,
      evalSeconds: e.seconds,
      grids: e.grids,
      commands: [e.command],
    };
  }
  return { ...r, seconds: (performance.now() - t) / 1e3 };
}
