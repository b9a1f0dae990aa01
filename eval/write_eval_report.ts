import { join } from "node:path";
import type { ConfidenceInterval } from "./bootstrap_ci.ts";
import type { SubjectEvaluation } from "./evaluate_subject.ts";
import { type RgbImage, saveImageGrid } from "./deps.ts";

/** Options of {@link writeEvalReport}. */
export interface WriteEvalReportOptions {
  /** The subject's real images, shown at the top (default: none). */
  realImages?: readonly RgbImage[];
  /** Extra facts for the report's header and the JSON (model path, backend, times, …). */
  info?: Record<string, string | number>;
  /** Held-out figures of the measuring nets, shown beside the metrics (default: none). */
  measures?: Record<string, string>;
}

/** What {@link writeEvalReport} wrote. */
export interface EvalReportFiles {
  /** `metrics.json`. */
  json: string;
  /** `index.html`. */
  html: string;
  /** The PNG grids. */
  grids: string[];
}

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const fmt = (c: ConfidenceInterval | null) =>
  c === null ? "—" : `${c.estimate.toFixed(3)} [${c.low.toFixed(3)}, ${c.high.toFixed(3)}]`;

/** The JSON form of an evaluation: everything but the pixels. */
function toJson(
  r: SubjectEvaluation,
  info: Record<string, string | number>,
  measures: Record<string, string>,
) {
  return {
    info,
    measures,
    subject: r.subject,
    identifier: r.identifier,
    seed: r.seed,
    summary: r.summary,
    pres: { prompt: r.pres.prompt, seeds: r.pres.seeds, value: r.pres.value, pixel: r.pres.pixel },
    prompts: r.prompts.map((p) => ({
      prompt: p.prompt,
      template: p.template,
      context: p.context,
      property: p.property,
      seeds: p.seeds,
      subjectFidelity: p.subjectFidelity,
      pixelFidelity: p.pixelFidelity,
      promptFidelity: p.promptFidelity,
      diversity: p.diversity,
      predicted: p.predicted,
    })),
  };
}

/**
 * Writes an evaluation as `metrics.json` (all figures, no pixels), `index.html` (an offline report:
 * inline CSS, no scripts, relative links only) and one PNG grid per prompt under `grids/`, each
 * image labelled with what the world classifier reads in it and its subject fidelity.
 *
 * @param dir Output folder (created).
 * @param result From `evaluateSubject`.
 * @param options See {@link WriteEvalReportOptions}.
 * @returns The paths written.
 *
 * @example
 * ```ts
 * import { evaluateSubject } from "./evaluate_subject.ts";
 * import { writeEvalReport } from "./write_eval_report.ts";
 * import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
 * const im = { data: new Float32Array(16 * 16 * 3).fill(-1), width: 16, height: 16 };
 * const classifier = {
 *   classes: ["dog"], contexts: ["beach"], properties: ["none"],
 *   classify: (ims: readonly unknown[]) => ({
 *     classNoun: ims.map(() => "dog"), context: ims.map(() => "beach"), property: ims.map(() => null),
 *     classProbs: new Float32Array(), contextProbs: new Float32Array(), propertyProbs: new Float32Array(),
 *   }),
 * };
 * const result = await evaluateSubject({ name: "x", classNoun: "dog", images: [im] }, {
 *   generate: (_p, seeds) => Promise.resolve(seeds.map(() => im)), classifier,
 *   embedder: new ForegroundColorEmbedder(), samplesPerPrompt: 2, presSamples: 2,
 *   prompts: [{ template: "a {0} {1} on the beach", prompt: "a sks dog on the beach", context: "beach", property: null }],
 * });
 * const dir = await Deno.makeTempDir();
 * const files = await writeEvalReport(dir, result);
 * console.log(files.grids.length); // 3
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeEvalReport(
  dir: string,
  result: SubjectEvaluation,
  options: WriteEvalReportOptions = {},
): Promise<EvalReportFiles> {
  if (typeof dir !== "string" || dir === "") {
    throw new TypeError(`Cannot write report as 'dir' must be a non-empty path`);
  }
  if (result === null || typeof result !== "object" || !Array.isArray(result.prompts)) {
    throw new TypeError(`Cannot write report as 'result' must come from evaluateSubject`);
  }
  const { realImages = [], info = {}, measures = {} } = options;
  await Deno.mkdir(join(dir, "grids"), { recursive: true });
  const grids: string[] = [];
  const grid = async (name: string, images: readonly RgbImage[], labels: string[]) => {
    const path = join(dir, "grids", name);
    await saveImageGrid(path, [...images], { columns: Math.min(8, images.length), labels });
    grids.push(path);
    return `grids/${name}`;
  };
  const label = (p: { classNoun: string; context: string; property: string | null }, sf?: number) =>
    `${p.property ? p.property + " " : ""}${p.classNoun} · ${p.context}${
      sf === undefined ? "" : ` · sim ${sf.toFixed(2)}`
    }`;

  const s = result.summary;
  const rows: string[] = [];
  let realSrc = "";
  if (realImages.length > 0) {
    realSrc = await grid("real.png", realImages, realImages.map((_, i) => `real ${i + 1}`));
  }
  for (const [k, p] of result.prompts.entries()) {
    const src = await grid(
      `prompt-${String(k).padStart(2, "0")}.png`,
      p.images,
      p.predicted.map((x, i) => label(x, p.subjectFidelity.perImage[i])),
    );
    rows.push(`<section><h3>${esc(p.prompt)}</h3>
<p>subject fidelity ${fmt(p.subjectFidelity)}${
      p.pixelFidelity ? ` · colour ${fmt(p.pixelFidelity)}` : ""
    } · prompt fidelity ${fmt(p.promptFidelity)} · DIV ${fmt(p.diversity)}</p>
<img src="${src}" alt="${esc(p.prompt)}"></section>`);
  }
  const presSrc = await grid(
    "pres.png",
    result.pres.images,
    result.pres.images.map((_, i) => `seed ${result.pres.seeds[i]}`),
  );
  const infoRows = Object.entries(info).map(([k, v]) =>
    `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`
  ).join("");
  const measureRows = Object.entries(measures).map(([k, v]) =>
    `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`
  ).join("");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DreamBooth eval: ${
    esc(result.subject.name)
  }</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; margin: 24px; background: #fafafa; color: #222; }
table { border-collapse: collapse; margin: 8px 0 20px; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
th { background: #eee; }
img { max-width: 100%; image-rendering: pixelated; border: 1px solid #ddd; background: #fff; }
section { margin: 18px 0; }
h3 { margin: 4px 0; font-size: 16px; }
</style></head><body>
<h1>Evaluation of “${esc(result.identifier)} ${esc(result.subject.classNoun)}” (subject ${
    esc(result.subject.name)
  })</h1>
<table>${infoRows}</table>
<h2>Summary (95% bootstrap intervals, seed ${result.seed})</h2>
<table>
<tr><th>subject fidelity (embedder; higher is better)</th><td>${fmt(s.subjectFidelity)}</td></tr>
<tr><th>subject fidelity (foreground colours)</th><td>${fmt(s.pixelFidelity)}</td></tr>
<tr><th>prompt fidelity</th><td>${fmt(s.promptFidelity)}</td></tr>
<tr><th>context accuracy</th><td>${fmt(s.contextAccuracy)}</td></tr>
<tr><th>property accuracy</th><td>${fmt(s.propertyAccuracy)}</td></tr>
<tr><th>class accuracy (“${esc(result.subject.classNoun)}”)</th><td>${
    fmt(s.classAccuracy)
  }</td></tr>
<tr><th>PRES (“${esc(result.pres.prompt)}” vs subject; lower is better)</th><td>${
    fmt(s.pres)
  }</td></tr>
<tr><th>DIV (mean over prompts)</th><td>${fmt(s.diversity)}</td></tr>
<tr><th>real images vs each other (reference)</th><td>${
    s.realSelfSimilarity === null ? "—" : s.realSelfSimilarity.toFixed(3)
  }</td></tr>
</table>
${measureRows ? `<h2>Measuring nets (held-out figures)</h2><table>${measureRows}</table>` : ""}
${realSrc ? `<h2>Real images</h2><img src="${realSrc}" alt="real images">` : ""}
<h2>Prompts</h2>
${rows.join("\n")}
<section><h3>PRES: ${esc(result.pres.prompt)}</h3><p>similarity to the subject ${
    fmt(result.pres.value)
  }</p>
<img src="${presSrc}" alt="${esc(result.pres.prompt)}"></section>
</body></html>
`;
  const htmlPath = join(dir, "index.html"), jsonPath = join(dir, "metrics.json");
  await Deno.writeTextFile(htmlPath, html);
  await Deno.writeTextFile(
    jsonPath,
    JSON.stringify(toJson(result, info, measures), null, 2) + "\n",
  );
  return { json: jsonPath, html: htmlPath, grids };
}
