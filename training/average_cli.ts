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
import { runCli } from "./deps.ts";
import { declareParams, type ParamDeclaration, type ParamSpecs } from "./deps.ts";

const averageSpecs = {
  inputs: {
    type: "string",
    required: true,
    metavar: "LIST",
    help: "comma-separated cascade checkpoints or folders holding cascade.safetensors (≥ 2)",
  },
  out: { type: "string", minLength: 1, required: true, metavar: "DIR", help: "output folder" },
  weights: {
    type: "string",
    metavar: "LIST",
    help: "comma-separated weights, one per input",
    defaultText: "equal",
  },
  dtype: { type: "enum", values: ["F16", "F32"], default: "F16", help: "stored dtype" },
} as const satisfies ParamSpecs;
import { averageCascades } from "./average_cascades.ts";

/** The parameters of `deno task average-cascades`, declared once (parser, usage, checks). */
export const averageParams: ParamDeclaration<typeof averageSpecs> = declareParams(
  "average",
  averageSpecs,
);

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
  return await runCli(args, {
    params: averageParams,
    usage: "deno task average-cascades --inputs A,B[,…] --out DIR [options]",
    summary:
      `Writes <out>/cascade.safetensors (+ model.json): the weighted mean of cascade checkpoints that share
one config (e.g. runs continued side by side from the same start on different data streams).`,
  }, async (values) => {
    const inputs = values.inputs.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const dtype = values.dtype;
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
