/**
 * Averages exported cascades (a "model soup", see `average_cascades.ts`):
 *
 * ```sh
 * deno task average-cascades --inputs runs/export_a,runs/export_b --out models/wip/base \
 *   [--weights 1,1] [--dtype F16|F32]
 * ```
 *
 * @module
 */
import { runLegacyCli } from "./cli_options.ts";
import { averageCascades } from "./average_cascades.ts";

const USAGE = `Usage: deno run -A training/average_cli.ts --inputs A,B[,…] --out DIR [options]

Writes <out>/cascade.safetensors (+ model.json): the weighted mean of cascade checkpoints that share
one config (e.g. runs continued side by side from the same start on different data streams).

Options:
  --inputs LIST   comma-separated cascade checkpoints or folders holding cascade.safetensors (≥ 2)
  --out DIR       output folder
  --weights LIST  comma-separated weights, one per input (default: equal)
  --dtype T       F16 (default) or F32
  --help          show this help`;

/**
 * Runs the command line.
 *
 * @param args Arguments without the script name.
 * @returns The exit code (0 written, 1 error, 2 usage).
 *
 * @example
 * ```ts
 * import { main } from "./average_cli.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export async function main(args: string[]): Promise<number> {
  return await runLegacyCli(args, {
    usage: USAGE,
    options: {
      inputs: { type: "string" },
      out: { type: "string" },
      weights: { type: "string" },
      dtype: { type: "string" },
    },
  }, async (values) => {
    if (values.inputs === undefined || values.out === undefined) {
      throw new RangeError(`Cannot average as '--inputs' and '--out' are required`);
    }
    const inputs = values.inputs.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const dtype = (values.dtype ?? "F16").toUpperCase();
    if (dtype !== "F16" && dtype !== "F32") {
      throw new RangeError(
        `Cannot average as '--dtype' must be F16 or F32: current value is ${values.dtype}`,
      );
    }
    const weights = values.weights?.split(",").map((s) => Number(s.trim()));
    const r = await averageCascades(inputs, values.out, {
      dtype,
      ...(weights ? { weights } : {}),
    });
    console.log(
      `wrote ${r.path} (${(r.bytes / 2 ** 20).toFixed(1)} MiB, ${r.tensors} tensors, ${dtype}): ${
        r.inputs.map((i) => `${i.path} × ${i.weight.toFixed(3)}`).join(" + ")
      }`,
    );
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
