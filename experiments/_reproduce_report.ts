/**
 * Private to experiments/: the aggregates of `deno task reproduce` — `results.json`, the verdict per
 * claim, the Markdown table and the offline HTML report.
 *
 * @module
 */
import { join } from "node:path";
import { bootstrapCi } from "../eval/mod.ts";
import { type Claim, CLAIMS, ROWS } from "./_reproduce_plan.ts";
import type { UnitResult } from "./_reproduce_units.ts";

/** A pooled figure: estimate with a 95 % interval. */
export interface Pooled {
  estimate: number;
  low: number;
  high: number;
  /** Subjects pooled. */
  n: number;
}

/** The eval metrics of the table. */
export const METRICS: readonly { key: string; label: string }[] = [
  { key: "subjectFidelity", label: "subject fidelity ↑" },
  { key: "pixelFidelity", label: "colour fidelity ↑" },
  { key: "promptFidelity", label: "prompt fidelity ↑" },
  { key: "contextAccuracy", label: "context ↑" },
  { key: "pres", label: "PRES ↓" },
  { key: "diversity", label: "DIV ↑" },
];

/** SR figures. */
const SR_FIELDS = ["psnr", "hfError", "hfRatio"] as const;

type Ci = { estimate: number; low: number; high: number };

/**
 * Pools one metric of one row over subjects: the mean of the per-subject estimates, with the mean
 * of their 95 % bootstrap bounds (wider than the mean's own interval, so verdicts err towards
 * "inconclusive").
 */
export function poolMetric(units: UnitResult[], key: string): Pooled | null {
  const cis = units.map((u) => u.metrics?.[key] as Ci | null | undefined).filter((c): c is Ci =>
    c !== null && c !== undefined && typeof c === "object"
  );
  if (cis.length === 0) return null;
  const mean = (f: (c: Ci) => number) => cis.reduce((s, c) => s + f(c), 0) / cis.length;
  return {
    estimate: mean((c) => c.estimate),
    low: mean((c) => c.low),
    high: mean((c) => c.high),
    n: cis.length,
  };
}

/** Pools one SR figure of one setting over subjects: mean with a bootstrap interval over subjects. */
export function poolSr(units: UnitResult[], setting: string, field: string): Pooled | null {
  const v = units.map((u) => u.sr?.[setting]?.[field as "psnr"]).filter((x): x is number =>
    typeof x === "number" && Number.isFinite(x)
  );
  if (v.length === 0) return null;
  const ci = bootstrapCi(v, { seed: 0 });
  return { estimate: ci.estimate, low: ci.low, high: ci.high, n: v.length };
}

/** A claim's verdict. */
export interface Verdict {
  claim: Claim;
  better: Pooled | null;
  worse: Pooled | null;
  verdict: "holds" | "does not hold" | "inconclusive" | "not run";
}

/** The verdict of one claim from the pooled figures of its two rows. */
export function judge(claim: Claim, better: Pooled | null, worse: Pooled | null): Verdict {
  if (!better || !worse) return { claim, better, worse, verdict: "not run" };
  // A single subject's SR figure has no interval (its bootstrap is one point): nothing to judge.
  const point = (p: Pooled) => p.low === p.high;
  if (point(better) && point(worse)) return { claim, better, worse, verdict: "inconclusive" };
  const overlap = better.low <= worse.high && worse.low <= better.high;
  if (overlap) return { claim, better, worse, verdict: "inconclusive" };
  const up = better.estimate > worse.estimate;
  const ok = claim.direction === 1 ? up : !up;
  return { claim, better, worse, verdict: ok ? "holds" : "does not hold" };
}

/** Everything the report shows. */
export interface Aggregate {
  rows: {
    id: string;
    label: string;
    group: string;
    subjects: string[];
    notRun: { subject: string; reason: string }[];
    metrics: Record<string, Pooled | null>;
    trainSeconds: number | null;
  }[];
  sr: Record<string, Record<string, Pooled | null>>;
  verdicts: Verdict[];
  units: UnitResult[];
}

/** Aggregates the finished units into rows, SR figures and verdicts. */
export function aggregate(units: UnitResult[]): Aggregate {
  const of = (id: string) => units.filter((u) => u.row === id);
  const rows = ROWS.filter((r) => r.kind !== "sr" && r.kind !== "photo").map((r) => {
    const us = of(r.id);
    const done = us.filter((u) => u.status === "done");
    const secs = done.map((u) => u.trainSeconds).filter((x): x is number => x !== null);
    return {
      id: r.id,
      label: r.label,
      group: r.group,
      subjects: done.map((u) => u.subject),
      notRun: us.filter((u) => u.status === "not-run").map((u) => ({
        subject: u.subject,
        reason: u.reason ?? "",
      })),
      metrics: Object.fromEntries(METRICS.map((m) => [m.key, poolMetric(done, m.key)])),
      trainSeconds: secs.length ? secs.reduce((a, b) => a + b, 0) / secs.length : null,
    };
  });
  const srUnits = of("sr").filter((u) => u.status === "done");
  const sr: Aggregate["sr"] = {};
  for (const setting of ["input", "none", "high", "low"]) {
    sr[setting] = Object.fromEntries(SR_FIELDS.map((f) => [f, poolSr(srUnits, setting, f)]));
  }
  const verdicts = CLAIMS.map((c) => {
    if (c.metric.startsWith("sr:")) {
      const f = c.metric.slice(3);
      return judge(c, sr[c.better.slice(3)][f], sr[c.worse.slice(3)][f]);
    }
    const get = (id: string) => rows.find((r) => r.id === id)?.metrics[c.metric] ?? null;
    return judge(c, get(c.better), get(c.worse));
  });
  return { rows, sr, verdicts, units };
}

const fmt = (p: Pooled | null, d = 3) =>
  p === null ? "—" : `${p.estimate.toFixed(d)} [${p.low.toFixed(d)}, ${p.high.toFixed(d)}]`;

/** The Markdown report: rows with intervals, the SR section, and a verdict per claim. */
export function formatMarkdown(
  a: Aggregate,
  info: { command: string; settings: string; srNote: string; photoNote: string },
): string {
  const head = `| row | ${METRICS.map((m) => m.label).join(" | ")} | train s | subjects |`;
  const lines = a.rows.map((r) => {
    const cells = METRICS.map((m) => fmt(r.metrics[m.key]));
    const nr = r.notRun.length
      ? ` (not run: ${[...new Set(r.notRun.map((x) => x.reason))].join("; ")})`
      : "";
    return `| ${r.label} | ${cells.join(" | ")} | ${r.trainSeconds?.toFixed(0) ?? "—"} | ${
      r.subjects.join(", ") || "—"
    }${nr} |`;
  });
  const srLines = ["input", "none", "high", "low"].map((s) =>
    `| ${s} | ${SR_FIELDS.map((f) => fmt(a.sr[s][f], f === "psnr" ? 2 : 4)).join(" | ")} |`
  );
  const v = a.verdicts.map((x) =>
    `| ${x.claim.text} | ${x.claim.paper} | ${fmt(x.worse)} → ${
      fmt(x.better)
    } (${x.claim.worse} → ${x.claim.better}) | **${x.verdict}** |`
  );
  return [
    `Command: \`${info.command}\``,
    ``,
    info.settings,
    ``,
    `Each figure is the mean over subjects; the interval is the mean of the subjects' 95 % bootstrap bounds (SR: a bootstrap over subjects).`,
    ``,
    head,
    `| --- | ${METRICS.map(() => "---").join(" | ")} | --- | --- |`,
    ...lines,
    ``,
    `### SR stage 1 (leave-one-out, held-out image)`,
    ``,
    info.srNote,
    ``,
    `| setting | PSNR dB ↑ | Laplacian-band RMS error ↓ | Laplacian energy ratio (1 = truth) |`,
    `| --- | --- | --- | --- |`,
    ...srLines,
    ``,
    `### Verdicts (holds / does not hold / inconclusive = 95 % intervals overlap)`,
    ``,
    `| claim | paper | here (worse → better row) | verdict |`,
    `| --- | --- | --- | --- |`,
    ...v,
    ``,
    `### DreamBench photos`,
    ``,
    info.photoNote,
    ``,
  ].join("\n");
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The offline HTML report: the Markdown's tables as preformatted text and every grid (files beside it). */
export function formatHtml(a: Aggregate, markdown: string): string {
  const grids = a.units.flatMap((u) =>
    u.grids.map((g) =>
      `<figure><img src="${esc(g)}" alt="${esc(`${u.row} ${u.subject}`)}"><figcaption>${
        esc(`${u.row} · ${u.subject}`)
      }</figcaption></figure>`
    )
  );
  return `<!doctype html><html><head><meta charset="utf-8"><title>deno task reproduce</title>
<style>body{font-family:sans-serif;margin:1em}pre{white-space:pre-wrap;font-size:12px}figure{display:inline-block;margin:4px;max-width:480px}img{max-width:100%;image-rendering:pixelated}</style>
</head><body><h1>DreamBooth claims, reproduced</h1><pre>${esc(markdown)}</pre><h2>Grids</h2>${
    grids.join("\n")
  }</body></html>
`;
}

/** Writes `results.json`, `report.md` and `report.html` into `out`. */
export async function writeReports(
  out: string,
  a: Aggregate,
  info: Parameters<typeof formatMarkdown>[1],
): Promise<string> {
  const md = formatMarkdown(a, info);
  await Deno.writeTextFile(
    join(out, "results.json"),
    JSON.stringify(
      { command: info.command, rows: a.rows, sr: a.sr, verdicts: a.verdicts, units: a.units },
      null,
      2,
    ) + "\n",
  );
  await Deno.writeTextFile(join(out, "report.md"), md);
  await Deno.writeTextFile(join(out, "report.html"), formatHtml(a, md));
  return md;
}
