/**
 * Samples through a cascade and prints progress lines with an ETA (`SamplingProgress`): at most
 * one every few seconds, and one at the end of each stage. The final DreamBench samples of
 * `deno task train` take about a minute on a CPU and printed nothing before.
 *
 * @module
 */
import {
  type Cascade,
  type CascadeSampleOptions,
  type CascadeSampleResult,
  SamplingProgress,
} from "./deps.ts";

/**
 * `cascade.sample(options)` with progress lines.
 *
 * @param cascade The cascade (borrowed).
 * @param options The sampling options, plus `log` (the lines; required), `label` (each line's
 * prefix, default "samples") and `everyMs` (the most frequent a line comes, default 5000).
 * @returns What `cascade.sample` returns.
 *
 * @example
 * ```ts
 * import { initBackend } from "./deps.ts";
 * import { createPreset } from "../diffusion/mod.ts";
 * import { sampleWithProgress } from "./sample_with_progress.ts";
 * await initBackend({ quiet: true });
 * using cascade = await createPreset("tiny", { seed: 0 });
 * const lines: string[] = [];
 * await sampleWithProgress(cascade, { prompt: "a dog", steps: [2, 2], log: (l) => lines.push(l) });
 * console.log(lines[0]); // "samples: stage 1/2 (32×32) step 2/2  elapsed …  stage done, then 1 more stage"
 * ```
 */
export async function sampleWithProgress(
  cascade: Cascade,
  options: CascadeSampleOptions & { log: (line: string) => void; label?: string; everyMs?: number },
): Promise<CascadeSampleResult> {
  const { log, label = "samples", everyMs = 5000, ...sampleOptions } = options;
  const progress = new SamplingProgress();
  let last = performance.now();
  return await cascade.sample({
    ...sampleOptions,
    onProgress: (q) => {
      sampleOptions.onProgress?.(q);
      const line = progress.update({ ...q, size: cascade.stages[q.stage].imageSize });
      if (performance.now() - last > everyMs || q.step === q.steps) {
        log(`${label}: ${line}`);
        last = performance.now();
      }
    },
  });
}
