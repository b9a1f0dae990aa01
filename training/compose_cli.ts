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
import { runCli } from "./deps.ts";
import { declareParams, type ParamDeclaration, type ParamSpecs } from "./deps.ts";
import { CASCADE_PARTS, type CascadePart, composeCascades } from "./compose_cascades.ts";

const composeSpecs = {
  target: {
    type: "string",
    minLength: 1,
    required: true,
    metavar: "PATH",
    help: "the full cascade to start from (file or folder holding cascade.safetensors)",
  },
  donor: {
    type: "string",
    minLength: 1,
    required: true,
    metavar: "PATH",
    help: "the checkpoint the parts come from (file or folder)",
  },
  parts: {
    type: "string",
    minLength: 1,
    required: true,
    metavar: "LIST",
    help: `comma-separated parts: ${CASCADE_PARTS.join(", ")}`,
  },
  out: { type: "string", minLength: 1, required: true, metavar: "DIR", help: "output folder" },
  dtype: { type: "enum", values: ["F16", "F32"], default: "F16", help: "stored dtype" },
} as const satisfies ParamSpecs;

/** The parameters of `deno task compose-cascades`, declared once (parser, usage, checks). */
export const composeParams: ParamDeclaration<typeof composeSpecs> = declareParams(
  "compose",
  composeSpecs,
);

const SUMMARY =
  `Writes <out>/cascade.safetensors (+ model.json): the target cascade with the named parts replaced by
the donor's (same config for each part). Nothing is retrained.`;

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
  return await runCli(args, {
    params: composeParams,
    usage: "deno task compose-cascades --target PATH --donor PATH --parts LIST --out DIR",
    summary: SUMMARY,
  }, async (values) => {
    const dtype = values.dtype;
    const parts = values.parts.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const r = await composeCascades(
      values.target,
      values.donor,
      parts as CascadePart[],
      values.out,
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
