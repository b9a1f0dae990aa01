/**
 * Composes cascades (see `compose_cascades.ts`): a full cascade with some parts taken from another
 * checkpoint, e.g. a continued base stage and its text encoder in front of the shipped SR stages:
 *
 * ```sh
 * deno task compose-cascades --target models/default --donor models/wip/base \
 *   --parts base,text_encoder --out runs/composed [--dtype F16|F32]
 * ```
 *
 * @module
 */
import { runLegacyCli } from "./cli_options.ts";
import { CASCADE_PARTS, type CascadePart, composeCascades } from "./compose_cascades.ts";

const USAGE =
  `Usage: deno run -A training/compose_cli.ts --target A --donor B --parts LIST --out DIR [options]

Writes <out>/cascade.safetensors (+ model.json): the target cascade with the named parts replaced by
the donor's (same config for each part). Nothing is retrained.

Options:
  --target PATH   the full cascade to start from (file or folder holding cascade.safetensors)
  --donor PATH    the checkpoint the parts come from (file or folder)
  --parts LIST    comma-separated parts: ${CASCADE_PARTS.join(", ")}
  --out DIR       output folder
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
 * import { main } from "./compose_cli.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export async function main(args: string[]): Promise<number> {
  return await runLegacyCli(args, {
    usage: USAGE,
    options: {
      target: { type: "string" },
      donor: { type: "string" },
      parts: { type: "string" },
      out: { type: "string" },
      dtype: { type: "string" },
    },
  }, async (values) => {
    for (const k of ["target", "donor", "parts", "out"] as const) {
      if (values[k] === undefined) {
        throw new RangeError(
          `Cannot compose as '--${k}' is required (with --target, --donor, --parts, --out)`,
        );
      }
    }
    const dtype = (values.dtype ?? "F16").toUpperCase();
    if (dtype !== "F16" && dtype !== "F32") {
      throw new RangeError(
        `Cannot compose as '--dtype' must be F16 or F32: current value is ${values.dtype}`,
      );
    }
    const parts = values.parts!.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const r = await composeCascades(
      values.target!,
      values.donor!,
      parts as CascadePart[],
      values.out!,
      { dtype },
    );
    console.log(
      `wrote ${r.path} (${
        (r.bytes / 2 ** 20).toFixed(1)
      } MiB, ${dtype}): ${r.taken} tensors (${parts}) from ${values.donor}, ${r.kept} from ${values.target}`,
    );
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
