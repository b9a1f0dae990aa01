/**
 * The loss-curve plot of a run: the raw loss of every logged step (light) and its exponential
 * moving average (dark) against the step, on a log-scaled loss axis, drawn as SVG and rendered to
 * PNG with sharp.
 *
 * @module
 */
import sharp from "npm:sharp@0.35.5";
import { Buffer } from "node:buffer";
import { writeFileAtomic } from "./deps.ts";

/** One point of a loss curve. */
export interface LossPoint {
  /** Training step. */
  step: number;
  /** Loss at that step. */
  loss: number;
  /** Smoothed loss (optional; drawn as the dark line). */
  lossEma?: number;
}

/** Options of {@link lossCurveSvg} and {@link saveLossCurve}. */
export interface LossCurveOptions {
  /** Plot title. Default "loss". */
  title?: string;
  /** Width in pixels. Default 720. */
  width?: number;
  /** Height in pixels. Default 400. */
  height?: number;
  /** Log-scaled loss axis. Default true. */
  logScale?: boolean;
  /** At most this many raw points are drawn (evenly thinned). Default 4000. */
  maxPoints?: number;
}

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) out.push(v);
  return out;
}

const fmt = (v: number) =>
  Math.abs(v) >= 1000 ? `${+(v / 1000).toFixed(1)}k` : `${+v.toPrecision(3)}`;

/**
 * Draws a loss curve as an SVG document.
 *
 * @param points The points, in step order (non-finite losses are skipped).
 * @param options See {@link LossCurveOptions}.
 * @returns The SVG text.
 *
 * @example
 * ```ts
 * import { lossCurveSvg } from "./loss_curve.ts";
 * const svg = lossCurveSvg([{ step: 1, loss: 1 }, { step: 2, loss: 0.5 }]);
 * console.log(svg.startsWith("<svg")); // true
 * ```
 */
export function lossCurveSvg(points: readonly LossPoint[], options: LossCurveOptions = {}): string {
  const { title = "loss", width = 720, height = 400, logScale = true, maxPoints = 4000 } = options;
  const pts = points.filter((p) => Number.isFinite(p.loss) && Number.isFinite(p.step));
  const ml = 64, mr = 16, mt = 32, mb = 44;
  const pw = width - ml - mr, ph = height - mt - mb;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${ml}" y="20" font-family="sans-serif" font-size="14" fill="#222">${
      esc(title)
    }</text>`,
  ];
  if (pts.length === 0) {
    parts.push(
      `<text x="${width / 2}" y="${
        height / 2
      }" text-anchor="middle" font-family="sans-serif" font-size="14" fill="#888">no data yet</text></svg>`,
    );
    return parts.join("");
  }
  const positive = logScale && pts.every((p) => p.loss > 0);
  const tr = (v: number) => (positive ? Math.log10(v) : v);
  const values = pts.flatMap((p) =>
    p.lossEma !== undefined && Number.isFinite(p.lossEma) ? [p.loss, p.lossEma] : [p.loss]
  ).filter((v) => !positive || v > 0);
  // Robust y range: 1st–99.5th percentile, so that a few early spikes do not flatten the curve.
  const sorted = [...values].sort((a, b) => a - b);
  let yLo = tr(sorted[Math.floor(sorted.length * 0.0)]);
  let yHi = tr(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.995))]);
  if (yHi - yLo < 1e-6) (yHi += 0.5, yLo -= 0.5);
  const pad = (yHi - yLo) * 0.05;
  yLo -= pad;
  yHi += pad;
  const x0 = pts[0].step, x1 = Math.max(pts[pts.length - 1].step, x0 + 1);
  const X = (s: number) => ml + ((s - x0) / (x1 - x0)) * pw;
  const Y = (v: number) =>
    mt + (1 - (Math.min(yHi, Math.max(yLo, tr(v))) - yLo) / (yHi - yLo)) * ph;
  // Axes, grid and tick labels.
  parts.push(
    `<rect x="${ml}" y="${mt}" width="${pw}" height="${ph}" fill="none" stroke="#999" stroke-width="1"/>`,
  );
  for (const s of niceTicks(x0, x1, 6)) {
    const x = X(s).toFixed(1);
    parts.push(
      `<line x1="${x}" y1="${mt}" x2="${x}" y2="${mt + ph}" stroke="#eee"/>`,
      `<text x="${x}" y="${
        mt + ph + 16
      }" text-anchor="middle" font-family="sans-serif" font-size="11" fill="#444">${fmt(s)}</text>`,
    );
  }
  // Log axis: 1-2-5 ticks (or 1-1.5-2-3-5-7 when the range is under a decade).
  const logTicks = (mults: number[]) => {
    const out: number[] = [];
    for (let k = Math.floor(yLo); k <= Math.ceil(yHi); k++) {
      for (const m of mults) {
        const v = m * 10 ** k;
        if (Math.log10(v) >= yLo && Math.log10(v) <= yHi) out.push(v);
      }
    }
    return out;
  };
  let yTicks = positive ? logTicks([1, 2, 5]) : niceTicks(yLo, yHi, 5);
  if (positive && yTicks.length < 3) yTicks = logTicks([1, 1.5, 2, 3, 5, 7]);
  if (positive && yTicks.length < 2) yTicks = niceTicks(yLo, yHi, 5).map((e) => 10 ** e);
  for (const v of yTicks) {
    const y = Y(v).toFixed(1);
    parts.push(
      `<line x1="${ml}" y1="${y}" x2="${ml + pw}" y2="${y}" stroke="#eee"/>`,
      `<text x="${ml - 6}" y="${
        (+y + 4).toFixed(1)
      }" text-anchor="end" font-family="sans-serif" font-size="11" fill="#444">${fmt(v)}</text>`,
    );
  }
  parts.push(
    `<text x="${ml + pw / 2}" y="${
      height - 8
    }" text-anchor="middle" font-family="sans-serif" font-size="12" fill="#444">step</text>`,
  );
  const every = Math.max(1, Math.ceil(pts.length / maxPoints));
  const raw = pts.filter((_, i) => i % every === 0 || i === pts.length - 1);
  const line = (sel: (p: LossPoint) => number | undefined, color: string, w: number) => {
    const d = raw.filter((p) => Number.isFinite(sel(p)) && (!positive || sel(p)! > 0))
      .map((p) => `${X(p.step).toFixed(1)},${Y(sel(p)!).toFixed(1)}`).join(" ");
    if (d) {
      parts.push(
        `<polyline points="${d}" fill="none" stroke="${color}" stroke-width="${w}" stroke-linejoin="round"/>`,
      );
    }
  };
  line((p) => p.loss, "#9ecae1", 1);
  line((p) => p.lossEma, "#08519c", 2);
  const last = pts[pts.length - 1];
  const lastV = last.lossEma ?? last.loss;
  parts.push(
    `<text x="${ml + pw - 4}" y="${
      mt + 14
    }" text-anchor="end" font-family="sans-serif" font-size="12" fill="#08519c">step ${last.step}: ${
      fmt(lastV)
    }${last.lossEma !== undefined ? " (EMA)" : ""}</text>`,
    `</svg>`,
  );
  return parts.join("");
}

/**
 * Writes a loss-curve PNG (atomically).
 *
 * @param path Destination PNG.
 * @param points The points (see {@link lossCurveSvg}).
 * @param options See {@link LossCurveOptions}.
 * @returns Resolves when written.
 *
 * @example
 * ```ts
 * import { saveLossCurve } from "./loss_curve.ts";
 * const path = await Deno.makeTempFile({ suffix: ".png" });
 * await saveLossCurve(path, [{ step: 1, loss: 0.3, lossEma: 0.3 }, { step: 9, loss: 0.1, lossEma: 0.2 }]);
 * await Deno.remove(path);
 * ```
 */
export async function saveLossCurve(
  path: string,
  points: readonly LossPoint[],
  options: LossCurveOptions = {},
): Promise<void> {
  const svg = lossCurveSvg(points, options);
  const buf = await sharp(Buffer.from(svg)).png().toBuffer();
  await writeFileAtomic(path, new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
}
