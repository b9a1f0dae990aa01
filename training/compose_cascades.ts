/**
 * Composition of cascades: a full cascade checkpoint whose base stage and text encoder are taken
 * from another checkpoint, e.g. a base stage continued (or averaged, `average_cascades.ts`) on its
 * own, put in front of the super-resolution stages of the shipped cascade. The parts are copied
 * tensor for tensor; nothing is retrained, so the result is only as good as the SR stages' tolerance
 * of the new text encoder (measure it: `deno task measure-prior --stages 2`).
 *
 * Parts: `base` (`stages.0.*`), `sr1` (`stages.1.*`), `sr2` (`stages.2.*`) and `text_encoder`
 * (`text_encoder.*`). Each part taken must exist in the donor with the same config (the stage's entry
 * of the cascade config, or the text encoder's and tokenizer's) and the same tensor names and shapes
 * as in the target.
 *
 * @module
 */
import { join } from "node:path";
import { type NamedTensor, readSafetensors } from "./deps.ts";
import { writeCascadeFolder } from "./_cascade_folder.ts";

/** A part of a cascade that {@link composeCascades} can take from a donor. */
export type CascadePart = "base" | "sr1" | "sr2" | "text_encoder";

/** Every {@link CascadePart}. */
export const CASCADE_PARTS: readonly CascadePart[] = ["base", "sr1", "sr2", "text_encoder"];

/** Options of {@link composeCascades}. */
export interface ComposeCascadesOptions {
  /** Storage type of the result. Default "F16". */
  dtype?: "F16" | "F32";
  /** File name inside the output folder. Default "cascade.safetensors". */
  fileName?: string;
}

/** What {@link composeCascades} wrote. */
export interface ComposedCascade {
  /** The checkpoint file. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /** Tensors copied from the donor. */
  taken: number;
  /** Tensors kept from the target. */
  kept: number;
}

const prefixOf = (part: CascadePart): string =>
  part === "text_encoder" ? "text_encoder." : `stages.${["base", "sr1", "sr2"].indexOf(part)}.`;

async function resolveInput(path: string, role: string): Promise<string> {
  try {
    return (await Deno.stat(path)).isDirectory ? join(path, "cascade.safetensors") : path;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new RangeError(`Cannot compose cascades as the ${role} '${path}' does not exist`);
    }
    throw e;
  }
}

// deno-lint-ignore no-explicit-any
type Json = any;

function parseConfig(metadata: Record<string, string>, path: string): Json {
  if (metadata.kind !== "cascade" || metadata.config === undefined) {
    throw new RangeError(`Cannot compose cascades as '${path}' is not a cascade checkpoint`);
  }
  return JSON.parse(metadata.config);
}

/**
 * Writes `<outDir>/cascade.safetensors` (+ `model.json`): the `target` cascade with the given
 * `parts` replaced by the donor's.
 *
 * @param target The full cascade whose config and remaining tensors are kept (file or folder).
 * @param donor The checkpoint the parts come from (file or folder; may hold fewer stages).
 * @param parts The parts to take (at least one, no repeats).
 * @param outDir Output folder (created).
 * @param options {@link ComposeCascadesOptions}.
 * @returns The {@link ComposedCascade}.
 * @throws {RangeError} When an input is missing or not a cascade, `parts` is empty or unknown, or a
 * part's config, tensor names or shapes differ between donor and target.
 *
 * @example
 * ```ts
 * import { writeSafetensors } from "./deps.ts";
 * import { composeCascades } from "./compose_cascades.ts";
 * const dir = await Deno.makeTempDir();
 * const config = JSON.stringify({ tokenizer: {}, textEncoder: {}, stages: [{}, {}] });
 * const metadata = { format: "dreambooth-ts", kind: "cascade", config };
 * for (const [name, v] of [["full", 1], ["base", 3]] as const) {
 *   await writeSafetensors(`${dir}/${name}.safetensors`, {
 *     "stages.0.w": { shape: [1], data: new Float32Array([v]) },
 *     "stages.1.w": { shape: [1], data: new Float32Array([v]) },
 *   }, { metadata });
 * }
 * const r = await composeCascades(`${dir}/full.safetensors`, `${dir}/base.safetensors`, ["base"], `${dir}/out`);
 * console.log(r.taken, r.kept); // 1 1
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function composeCascades(
  target: string,
  donor: string,
  parts: readonly CascadePart[],
  outDir: string,
  options: ComposeCascadesOptions = {},
): Promise<ComposedCascade> {
  const { dtype = "F16", fileName = "cascade.safetensors" } = options;
  if (!Array.isArray(parts) || parts.length === 0) {
    throw new RangeError(
      `Cannot compose cascades as 'parts' is empty: name at least one of ${
        CASCADE_PARTS.join(", ")
      }`,
    );
  }
  for (const p of parts) {
    if (!CASCADE_PARTS.includes(p)) {
      throw new RangeError(
        `Cannot compose cascades as part '${p}' is unknown: use ${CASCADE_PARTS.join(", ")}`,
      );
    }
  }
  if (new Set(parts).size !== parts.length) {
    throw new RangeError(`Cannot compose cascades as 'parts' repeats a part: ${parts.join(",")}`);
  }
  const targetPath = await resolveInput(target, "target");
  const donorPath = await resolveInput(donor, "donor");
  const t = await readSafetensors(targetPath);
  const d = await readSafetensors(donorPath);
  const tc = parseConfig(t.metadata, targetPath);
  const dc = parseConfig(d.metadata, donorPath);
  for (const part of parts) {
    const same = part === "text_encoder"
      ? JSON.stringify([tc.tokenizer, tc.textEncoder]) ===
        JSON.stringify([dc.tokenizer, dc.textEncoder])
      : (() => {
        const i = ["base", "sr1", "sr2"].indexOf(part);
        return tc.stages?.[i] !== undefined && dc.stages?.[i] !== undefined &&
          JSON.stringify(tc.stages[i]) === JSON.stringify(dc.stages[i]);
      })();
    if (!same) {
      throw new RangeError(
        `Cannot compose cascades as part '${part}' is missing from or configured differently in '${donorPath}' and '${targetPath}'`,
      );
    }
  }
  const prefixes = parts.map(prefixOf);
  const inPart = (name: string) => prefixes.some((p) => name.startsWith(p));
  const out = new Map<string, NamedTensor>();
  let taken = 0, kept = 0;
  for (const [name, tensor] of t.tensors) {
    if (!inPart(name)) {
      out.set(name, tensor);
      kept++;
      continue;
    }
    const o = d.tensors.get(name);
    if (!o || o.shape.join(",") !== tensor.shape.join(",")) {
      throw new RangeError(
        `Cannot compose cascades as tensor '${name}' is ${
          o ? `of shape [${o.shape}]` : "missing"
        } in the donor '${donorPath}' (shape [${tensor.shape}] in '${targetPath}')`,
      );
    }
    out.set(name, o);
    taken++;
  }
  for (const name of d.tensors.keys()) {
    if (inPart(name) && !t.tensors.has(name)) {
      throw new RangeError(
        `Cannot compose cascades as the donor '${donorPath}' holds tensor '${name}' that '${targetPath}' lacks`,
      );
    }
  }
  const composed = {
    target: targetPath,
    targetSteps: t.metadata.steps ?? null,
    donor: donorPath,
    donorSteps: d.metadata.steps ?? null,
    donorSoup: d.metadata.soup ?? null,
    parts: [...parts],
  };
  // The target's `steps` would claim its own training for the parts replaced: `composed` says both.
  const { steps: _steps, soup: _soup, ...rest } = t.metadata;
  const metadata = { ...rest, composed: JSON.stringify(composed) };
  const { path, bytes } = await writeCascadeFolder(outDir, fileName, out, metadata, dtype, {
    composed,
  });
  return { path, bytes, taken, kept };
}
