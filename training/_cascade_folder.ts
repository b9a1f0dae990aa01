/**
 * Writes a derived cascade (an average, a composition) as a model folder: `<dir>/<fileName>` and a
 * `model.json` beside it that describes how it was made. Internal to training/.
 *
 * @module
 */
import { join } from "node:path";
import { type NamedTensor, writeSafetensors } from "./deps.ts";
import { writeJsonAtomic } from "./deps.ts";

/**
 * Writes the tensors with the given safetensors metadata (float tensors as `dtype`) and a
 * `model.json` holding the file's name, dtype, size, `describe` and the time.
 *
 * @param dir Output folder (created if missing).
 * @param fileName File name inside it, e.g. `cascade.safetensors`.
 * @param tensors The tensors to write.
 * @param metadata The safetensors header metadata (strings).
 * @param dtype Float dtype written: `F16` or `F32`.
 * @param describe Extra `model.json` entries (e.g. `{ soup }`, `{ composed }`).
 * @returns The file's path and size in bytes.
 *
 * @example
 * ```ts
 * import { writeCascadeFolder } from "./_cascade_folder.ts";
 * const dir = await Deno.makeTempDir();
 * const w = { shape: [1], data: new Float32Array([1]) };
 * const { bytes } = await writeCascadeFolder(dir, "c.safetensors", new Map([["w", w]]), {}, "F32", { note: "x" });
 * console.log(bytes > 0); // true
 * ```
 */
export async function writeCascadeFolder(
  dir: string,
  fileName: string,
  tensors: Map<string, NamedTensor>,
  metadata: Record<string, string>,
  dtype: "F16" | "F32",
  describe: Record<string, unknown>,
): Promise<{ path: string; bytes: number }> {
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, fileName);
  await writeSafetensors(path, tensors, { metadata, floatDtype: dtype });
  const bytes = (await Deno.stat(path)).size;
  await writeJsonAtomic(join(dir, "model.json"), {
    file: fileName,
    dtype,
    bytes,
    ...describe,
    exportedAt: new Date().toISOString(),
  });
  return { path, bytes };
}
