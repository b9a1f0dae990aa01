/**
 * LoRA adapter files of a cascade: the adapters attached to its stages' UNets and its text encoder
 * (see `LoRASet`) in one small safetensors file, `lora.safetensors` of a `--method lora` run.
 * Tensor names: `stages.<i>.<layer>.lora_{down,up}.weight`, `text_encoder.<layer>.lora_{down,up}.weight`;
 * `__metadata__`: `format` "dreambooth-ts-lora", `lora` (JSON: each part's rank, alpha, targets),
 * plus the caller's (the base model it adapts, identifier, class noun, SR sampling levels).
 *
 * @module
 */
import type { Cascade } from "../pipeline/cascade.ts";
import { type NamedTensor, readSafetensors, writeSafetensors } from "./safetensors.ts";
import { createLoRAConfig, type LoRAConfig } from "../model/lora.ts";
import { type ModelSubject, subjectFromMetadata } from "./model_subject.ts";

const FORMAT = "dreambooth-ts-lora";

/** A read adapter file. */
export interface LoRAFile {
  /** The adapters' tensors by name. */
  tensors: Map<string, NamedTensor>;
  /** Each adapted part (`stages.0`, `text_encoder`) and its settings. */
  parts: Record<string, LoRAConfig>;
  /** The file's metadata (`baseModel`, `identifier`, … as the writer gave them). */
  metadata: Record<string, string>;
}

/** The adapted modules of a cascade by part name. */
function modules(cascade: Cascade) {
  return [
    ...cascade.stages.map((s, i) => ({ part: `stages.${i}`, module: s.unet })),
    { part: "text_encoder", module: cascade.textEncoder },
  ];
}

/**
 * The adapters attached to a cascade, as tensors and their settings per part.
 *
 * @param cascade The cascade (borrowed).
 * @returns Tensors (names as in the module doc) and `parts`; empty when none are attached.
 */
export async function exportCascadeLoRA(
  cascade: Cascade,
): Promise<{ tensors: Map<string, NamedTensor>; parts: Record<string, LoRAConfig> }> {
  const tensors = new Map<string, NamedTensor>();
  const parts: Record<string, LoRAConfig> = {};
  for (const { part, module } of modules(cascade)) {
    if (!module.lora) continue;
    parts[part] = module.lora.config;
    for (const [k, v] of await module.lora.export(`${part}.`)) tensors.set(k, v);
  }
  return { tensors, parts };
}

/**
 * Writes adapters (from {@link exportCascadeLoRA}, possibly gathered over several phases) as a
 * LoRA file, float32.
 *
 * @param path The file (written atomically).
 * @param adapters `tensors` and `parts`.
 * @param options `metadata` (strings; cannot override `format` and `lora`).
 * @returns The file's size in bytes.
 */
export async function saveLoRAFile(
  path: string,
  adapters: { tensors: Map<string, NamedTensor>; parts: Record<string, LoRAConfig> },
  options: { metadata?: Record<string, string> } = {},
): Promise<number> {
  if (adapters.tensors.size === 0) {
    throw new RangeError(`Cannot save a LoRA file to '${path}' as no adapters are given`);
  }
  await writeSafetensors(path, adapters.tensors, {
    metadata: { ...options.metadata, format: FORMAT, lora: JSON.stringify(adapters.parts) },
  });
  return (await Deno.stat(path)).size;
}

/**
 * Reads a LoRA file written by {@link saveLoRAFile}.
 *
 * @param path The file.
 * @returns The {@link LoRAFile}.
 * @throws {RangeError} When the file is not a LoRA file of this format (naming it).
 */
export async function readLoRAFile(path: string): Promise<LoRAFile> {
  const { tensors, metadata } = await readSafetensors(path);
  if (metadata.format !== FORMAT || !metadata.lora) {
    throw new RangeError(
      `Cannot read '${path}' as a LoRA file as its metadata lacks format "${FORMAT}" (is it a model checkpoint?)`,
    );
  }
  const raw = JSON.parse(metadata.lora) as Record<string, Partial<LoRAConfig>>;
  const parts: Record<string, LoRAConfig> = {};
  for (const [k, v] of Object.entries(raw)) parts[k] = createLoRAConfig(v);
  return { tensors, parts, metadata };
}

/**
 * Attaches a LoRA file's adapters to a cascade (replacing any attached) at scale `scale`.
 *
 * @param cascade The cascade the adapters were trained on (modified in place).
 * @param file The read {@link LoRAFile}.
 * @param options `scale` (s, default 1; 0 = the base model).
 * @returns Nothing; a part the cascade lacks or a mis-shaped tensor throws naming it.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { createPreset } from "../pipeline/presets.ts";
 * import { applyCascadeLoRA, exportCascadeLoRA, readLoRAFile, saveLoRAFile } from "./lora_file.ts";
 * using cascade = await createPreset("tiny");
 * cascade.stages[0].unet.addLoRA({ config: { rank: 2 } });
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await saveLoRAFile(path, await exportCascadeLoRA(cascade));
 * applyCascadeLoRA(cascade, await readLoRAFile(path), { scale: 0.5 });
 * console.log(cascade.stages[0].unet.lora?.scale); // 0.5
 * await Deno.remove(path);
 * ```
 */
export function applyCascadeLoRA(
  cascade: Cascade,
  file: LoRAFile,
  options: { scale?: number } = {},
): void {
  const scale = options.scale ?? 1;
  if (typeof scale !== "number" || !Number.isFinite(scale)) {
    throw new RangeError(
      `Cannot apply LoRA adapters as 'scale' must be a finite number: current value is ${scale}`,
    );
  }
  const byPart = new Map(modules(cascade).map((m) => [m.part, m.module]));
  for (const part of Object.keys(file.parts)) {
    if (!byPart.has(part)) {
      throw new RangeError(
        `Cannot apply LoRA adapters as the file adapts '${part}', which the cascade (${cascade.stages.length} stages) lacks`,
      );
    }
  }
  for (const [part, config] of Object.entries(file.parts)) {
    const module = byPart.get(part)!;
    const set = module.addLoRA({ config });
    set.import(file.tensors, `${part}.`);
    set.scale = scale;
  }
}

/**
 * Attaches a LoRA file's adapters for sampling (as `deno task sample --lora` and the RPC `sample`
 * job do): {@link applyCascadeLoRA} at `scale`, the SR stages' sampling levels the run recorded
 * (`augLevels`), and the subject (identifier, class noun) the adapters carry. The cascade is freed
 * when the adapters do not fit it.
 *
 * @param cascade The base cascade the adapters were trained on (modified in place).
 * @param file The read {@link LoRAFile}.
 * @param options `scale` (default 1; 0 = the base model).
 * @returns The subject the adapters carry, or null.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * await initBackend({ quiet: true });
 * import { createPreset } from "../pipeline/presets.ts";
 * import { applySamplingLoRA, exportCascadeLoRA, readLoRAFile, saveLoRAFile } from "./lora_file.ts";
 * using cascade = await createPreset("tiny");
 * cascade.stages[0].unet.addLoRA({ config: { rank: 2 } });
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await saveLoRAFile(path, await exportCascadeLoRA(cascade));
 * console.log(applySamplingLoRA(cascade, await readLoRAFile(path), { scale: 0 })); // null
 * await Deno.remove(path);
 * ```
 */
export function applySamplingLoRA(
  cascade: Cascade,
  file: LoRAFile,
  options: { scale?: number } = {},
): ModelSubject | null {
  try {
    applyCascadeLoRA(cascade, file, { scale: options.scale ?? 1 });
  } catch (e) {
    cascade.dispose();
    throw e;
  }
  const levels = file.metadata.augLevels;
  if (levels) {
    (JSON.parse(levels) as number[]).forEach((a, i) => i > 0 && cascade.setAugLevel(i, a));
  }
  return subjectFromMetadata(file.metadata);
}

/**
 * Folds every attached adapter (at its scale) into its base weights and detaches it: the cascade
 * then samples what the adapted one did, as a plain full model.
 *
 * @param cascade The cascade (modified in place).
 * @returns The parts merged.
 */
export function mergeCascadeLoRA(cascade: Cascade): string[] {
  const merged: string[] = [];
  for (const { part, module } of modules(cascade)) {
    if (!module.lora) continue;
    module.mergeLoRA();
    merged.push(part);
  }
  return merged;
}
