/**
 * Time of SR fine-tuning (superres/) on the default cascade's architecture: runs
 * `fineTuneSuperRes` with the default settings (first SR stage, t_aug 1e-5, batch 4, whole 128²
 * images of the built-in dog) for `--steps` steps and prints seconds per step, the projected time of
 * the default step count (acceptance: ≤ 5 min for the first SR stage), the wall time including
 * loading and saving, and the load average (a busy machine is slower: rerun when it is quiet).
 * Weights do not change the speed, so a preset stands in for the pretrained model.
 *
 * ```sh
 * deno run -A bench/superres_bench.ts [--model preset:small|PATH] [--stage 1|2] [--steps N]
 * deno task bench superres
 * ```
 *
 * @module
 */
import { declareParams, parseCliOrExit } from "../params/mod.ts";
import { initBackend } from "../backend/mod.ts";
import { DEFAULT_SR_FINE_TUNE_CONFIG, fineTuneSuperRes } from "../superres/mod.ts";

const values = parseCliOrExit(Deno.args, {
  params: declareParams("bench", {
    model: {
      type: "string",
      minLength: 1,
      default: "preset:small",
      metavar: "PATH|preset:NAME",
      help: "cascade",
    },
    stage: { type: "integer", min: 1, max: 2, default: 1, help: "SR stage" },
    steps: { type: "integer", min: 1, max: 10_000, default: 6, help: "timed steps" },
  }),
  usage: "deno run -A bench/superres_bench.ts [options]",
});
await initBackend();
const { steps, stage } = values;
const runDir = await Deno.makeTempDir({ prefix: "superres-bench-" });
const times: number[] = [];
let last = performance.now();
try {
  const r = await fineTuneSuperRes(values.model, {
    stage,
    steps,
    runDir,
    sampleSteps: 0,
    log: () => {},
    onProgress: () => {
      const now = performance.now();
      times.push((now - last) / 1000);
      last = now;
    },
  });
  const timed = times.slice(1).sort((a, b) => a - b); // the first step warms up
  const median = timed[Math.floor(timed.length / 2)] ?? times[0];
  const projected = median * DEFAULT_SR_FINE_TUNE_CONFIG.steps;
  console.log(
    `[superres] ${r.source} stage ${stage}: ${
      median.toFixed(2)
    } s/step (median of ${timed.length}, min ${(timed[0] ?? times[0]).toFixed(2)}, first ${
      times[0].toFixed(2)
    }), batch ${r.config.batchSize}; default ${DEFAULT_SR_FINE_TUNE_CONFIG.steps} steps ≈ ${
      (projected / 60).toFixed(1)
    } min (limit 5 min: ${projected <= 300 ? "within" : "OVER"}); this run ${
      r.seconds.toFixed(1)
    } s wall incl. load+save; load average ${Deno.loadavg()[0].toFixed(1)}`,
  );
} finally {
  await Deno.remove(runDir, { recursive: true });
}
