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
import { runCli } from "./deps.ts";
import { declareParams, initBackend, type ParamDeclaration, type ParamSpecs } from "./deps.ts";
import { exportCascade } from "./deps.ts";
import { PRETRAIN_STAGES, type PretrainStage } from "./pretrain_job.ts";
import { exists } from "./deps.ts";

const exportSpecs = {
  runs: {
    type: "string",
    minLength: 1,
    default: "runs/pretrain",
    metavar: "DIR",
    help: "folder holding the stage runs base/, sr1/, sr2/",
  },
  stages: {
    type: "string",
    metavar: "LIST",
    help: "comma-separated stages, base first",
    defaultText: "base and each next stage that has a checkpoint",
  },
  base: {
    type: "string",
    pattern: /^.+\.safetensors$/,
    metavar: "FILE",
    help: "take the base stage and text encoder from this exported cascade (.safetensors)\n" +
      "instead of <runs>/base, e.g. the cascade an SR run was fine-tuned against\n" +
      "(deno task pretrain --base-run FILE)",
  },
  out: {
    type: "string",
    minLength: 1,
    default: "models/default",
    metavar: "DIR",
    help: "output folder",
  },
  dtype: { type: "enum", values: ["F16", "F32"], default: "F16", help: "stored dtype" },
  maxMb: {
    type: "number",
    exclusiveMin: 0,
    max: 1_000_000,
    default: 40,
    option: "max-mb",
    help: "refuse a checkpoint larger than N MiB",
  },
  rawWeights: {
    type: "boolean",
    default: false,
    help: "from runs that kept a weight average (pretrain --ema-decay), export the last\n" +
      "step's weights instead of the average",
  },
} as const satisfies ParamSpecs;

/** The parameters of `training/export_cli.ts`, declared once (parser, usage, checks). */
export const exportParams: ParamDeclaration<typeof exportSpecs> = declareParams(
  "export",
  exportSpecs,
);

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
  return await runCli(args, {
    params: exportParams,
    usage: "deno run -A training/export_cli.ts [options]",
    summary:
      "Writes <out>/cascade.safetensors (+ model.json) from the pretraining runs' checkpoints.",
  }, async (values) => {
    const { runs, dtype, maxMb } = values;
    const baseFile = values.base;
    const dirOf = (s: PretrainStage) => s === "base" && baseFile ? baseFile : join(runs, s);
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
    const out = values.out;
    const r = await exportCascade(stages.map(dirOf), out, {
      dtype,
      maxBytes: maxMb * 2 ** 20,
      weights: values.rawWeights ? "raw" : "ema",
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
