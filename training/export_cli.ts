/**
 * Exports finished pretraining runs as the shipped cascade (float16, ≤ 40 MB):
 *
 * ```sh
 * deno run -A training/export_cli.ts [--runs runs/pretrain] [--stages base,sr1,sr2]
 *   [--base FILE] [--out models/default] [--dtype F16|F32] [--max-mb 40] [--raw-weights]
 * ```
 *
 * By default every stage from `base` on whose run folder (`<runs>/<stage>`) has a checkpoint is
 * exported, stopping at the first missing one. `--base FILE` takes the base stage and text encoder
 * from an exported cascade instead of `<runs>/base` (an SR stage fine-tuned against it with
 * `deno task pretrain --base-run FILE`). A run that kept a weight average (`--ema-decay`) gives
 * the average unless `--raw-weights`.
 *
 * @module
 */
import { join } from "node:path";
import { runLegacyCli } from "./cli_options.ts";
import { initBackend } from "./deps.ts";
import { exportCascade } from "./export_cascade.ts";
import { PRETRAIN_STAGES, type PretrainStage } from "./pretrain_job.ts";
import { exists } from "./_atomic.ts";

const USAGE = `Usage: deno run -A training/export_cli.ts [options]

Writes <out>/cascade.safetensors (+ model.json) from the pretraining runs' checkpoints.

Options:
  --runs DIR      folder holding the stage runs base/, sr1/, sr2/ (default runs/pretrain)
  --stages LIST   comma-separated stages, base first (default: base and each next stage that has a checkpoint)
  --base FILE     take the base stage and text encoder from this exported cascade (.safetensors)
                  instead of <runs>/base, e.g. the cascade an SR run was fine-tuned against
                  (deno task pretrain --base-run FILE)
  --out DIR       output folder (default models/default)
  --dtype T       F16 (default) or F32
  --max-mb N      refuse a checkpoint larger than N MiB (default 40)
  --raw-weights   from runs that kept a weight average (pretrain --ema-decay), export the last
                  step's weights instead of the average
  --help          show this help`;

/**
 * Runs the command line.
 *
 * @param args Arguments without the script name.
 * @returns The exit code (0 written, 1 error, 2 usage).
 *
 * @example
 * ```ts
 * import { main } from "./export_cli.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export async function main(args: string[]): Promise<number> {
  return await runLegacyCli(args, {
    usage: USAGE,
    options: {
      runs: { type: "string" },
      stages: { type: "string" },
      base: { type: "string" },
      out: { type: "string" },
      dtype: { type: "string" },
      "max-mb": { type: "string" },
      "raw-weights": { type: "boolean" },
    },
  }, async (values) => {
    const runs = values.runs ?? join("runs", "pretrain");
    const baseFile = values.base;
    if (baseFile !== undefined && !baseFile.endsWith(".safetensors")) {
      throw new RangeError(
        `Cannot export as '--base' must be an exported cascade file (.safetensors): current value is ${baseFile}`,
      );
    }
    const dirOf = (s: PretrainStage) => s === "base" && baseFile ? baseFile : join(runs, s);
    const dtype = (values.dtype ?? "F16").toUpperCase();
    if (dtype !== "F16" && dtype !== "F32") {
      throw new RangeError(
        `Cannot export as '--dtype' must be F16 or F32: current value is ${values.dtype}`,
      );
    }
    const maxMb = Number(values["max-mb"] ?? 40);
    if (!(maxMb > 0)) {
      throw new RangeError(
        `Cannot export as '--max-mb' must be > 0: current value is ${values["max-mb"]}`,
      );
    }
    let stages: PretrainStage[];
    if (values.stages !== undefined) {
      stages = values.stages.split(",").map((s) => s.trim()) as PretrainStage[];
      stages.forEach((s, i) => {
        if (s !== PRETRAIN_STAGES[i]) {
          throw new RangeError(
            `Cannot export as '--stages' must be base[,sr1[,sr2]] in order: current value is ${values.stages}`,
          );
        }
      });
    } else {
      stages = [];
      for (const s of PRETRAIN_STAGES) {
        if (
          !(s === "base" && baseFile) && !(await exists(join(runs, s, "checkpoint.safetensors")))
        ) {
          break;
        }
        stages.push(s);
      }
      if (stages.length === 0) {
        throw new RangeError(`Cannot export as '${join(runs, "base")}' has no checkpoint`);
      }
    }
    await initBackend({ prefer: "cpu", quiet: true });
    const out = values.out ?? join("models", "default");
    const r = await exportCascade(stages.map(dirOf), out, {
      dtype,
      maxBytes: maxMb * 2 ** 20,
      weights: values["raw-weights"] ? "raw" : "ema",
    });
    console.log(
      `wrote ${r.path} (${(r.bytes / 2 ** 20).toFixed(1)} MiB, ${
        (r.params / 1e6).toFixed(2)
      } M params, ${dtype}): ${
        r.stages.map((s) =>
          `${s.stage} ${s.imageSize}px step ${s.step ?? "?"}${
            s.weights === "ema" ? " (average)" : ""
          }`
        ).join(", ")
      }`,
    );
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
