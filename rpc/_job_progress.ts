import type { ProgressUpdate } from "./job_kind.ts";
import type { JobProgress } from "./job_record.ts";
import { showValue } from "./_show_value.ts";

/**
 * Turns a runner's progress reports into {@linkcode JobProgress} records with elapsed time and
 * an ETA from the rate since the first report of this attempt. Shared by the embedded queue and
 * the Redis worker so that both report alike.
 *
 * @param startMs When the attempt started (`Date.now()`).
 * @returns A function from one update to its record; it throws a RangeError for a bad update.
 */
export function progressTracker(startMs: number): (update: ProgressUpdate) => JobProgress {
  let first: { step: number; ms: number } | undefined;
  return (update) => {
    const { step, total, message } = update ?? {};
    if (!Number.isFinite(step) || step < 0 || (total !== undefined && !(total >= 0))) {
      throw new RangeError(
        `Cannot report progress as 'step' must be a number ≥ 0 and 'total' ≥ 0: current value is ${
          showValue(update)
        }`,
      );
    }
    const now = Date.now();
    if (first === undefined) first = { step, ms: now };
    const p: JobProgress = {
      step,
      elapsedSeconds: round((now - startMs) / 1000),
      updatedAt: new Date(now).toISOString(),
    };
    if (total !== undefined) p.total = total;
    if (message !== undefined) p.message = String(message).slice(0, 1000);
    if (total !== undefined && step > first.step && now > first.ms) {
      const perStep = (now - first.ms) / 1000 / (step - first.step);
      p.etaSeconds = round(Math.max(0, total - step) * perStep);
    }
    return p;
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * A new job id: time-sortable, safe as a folder name (`20261128T093000-1a2b3c`).
 *
 * @returns The id.
 */
export function newJobId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "");
  const rand = [...crypto.getRandomValues(new Uint8Array(3))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${stamp}-${rand}`;
}
