/**
 * A model component's safetensors weights opened lazily (one file or HF shards with an index):
 * tensors and rows are read on demand, for models larger than memory. Also a content fingerprint
 * that keys caches of what the weights compute.
 *
 * @module
 */
import { type NamedTensor, openSafetensors, type SafetensorsFile } from "./deps.ts";
import { readJsonFile } from "./diffusers_folder.ts";

/** Lazily read weights of one component folder (`close()` or `using`). */
export class ShardedWeights {
  /** The folder. */
  readonly dir: string;
  readonly #files: SafetensorsFile[];
  readonly #where = new Map<string, SafetensorsFile>();

  /** Use {@link openDiffusersWeights}. */
  constructor(dir: string, files: SafetensorsFile[]) {
    this.dir = dir;
    this.#files = files;
    for (const f of files) {
      for (const name of f.entries.keys()) {
        if (this.#where.has(name)) {
          throw new RangeError(`Cannot open '${dir}' as tensor '${name}' is in two shards`);
        }
        this.#where.set(name, f);
      }
    }
  }

  /** Tensor names. */
  names(): string[] {
    return [...this.#where.keys()];
  }

  /** Whether a tensor is present. */
  has(name: string): boolean {
    return this.#where.has(name);
  }

  #file(name: string): SafetensorsFile {
    const f = this.#where.get(name);
    if (!f) throw new RangeError(`Cannot read tensor '${name}' as '${this.dir}' does not hold it`);
    return f;
  }

  /** Reads one tensor (float data widened to float32). */
  read(name: string): Promise<NamedTensor> {
    return this.#file(name).read(name);
  }

  /** Reads rows of one tensor. */
  readRows(name: string, rows: ArrayLike<number>): Promise<NamedTensor> {
    return this.#file(name).readRows(name, rows);
  }

  /**
   * A SHA-256 fingerprint of the weights: every tensor's name, dtype and shape, and the first and
   * last 4 KiB of its data (reading all of a 9.5 GB encoder would take longer than encoding).
   *
   * @returns Hex digest.
   */
  async fingerprint(): Promise<string> {
    const parts: Uint8Array[] = [];
    const enc = new TextEncoder();
    for (const name of [...this.#where.keys()].sort()) {
      const f = this.#where.get(name)!;
      const e = f.entries.get(name)!;
      parts.push(enc.encode(`${name}\0${e.dtype}\0${e.shape.join(",")}\0`));
      const size = e.end - e.begin;
      parts.push(await f.readRaw(name, 0, 4096));
      if (size > 4096) parts.push(await f.readRaw(name, Math.max(4096, size - 4096), 4096));
    }
    const total = parts.reduce((a, p) => a + p.length, 0);
    const all = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
    return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** Closes the files. */
  close(): void {
    for (const f of this.#files) f.close();
  }

  /** Closes the files (`using`). */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Opens a component folder's weights lazily: `<stem>.safetensors.index.json` and its shards, or
 * `<stem>.safetensors` (with a variant, the variant's names).
 *
 * @param dir The folder (e.g. `IF-I-M-v1.0/text_encoder`).
 * @param options `stem` (default "model", transformers' name), `variant`.
 * @returns The open weights.
 */
export async function openDiffusersWeights(
  dir: string,
  options: { stem?: string; variant?: string } = {},
): Promise<ShardedWeights> {
  const stem = options.stem ?? "model";
  const v = options.variant;
  const index = v
    ? `${dir}/${stem}.safetensors.index.${v}.json`
    : `${dir}/${stem}.safetensors.index.json`;
  const single = v ? `${dir}/${stem}.${v}.safetensors` : `${dir}/${stem}.safetensors`;
  let paths: string[];
  try {
    await Deno.stat(index);
    const map = (await readJsonFile(index)).weight_map as Record<string, string> | undefined;
    if (!map || typeof map !== "object") {
      throw new RangeError(`Cannot read '${index}' as it has no 'weight_map' object`);
    }
    paths = [...new Set(Object.values(map))].map((f) => `${dir}/${f}`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    paths = [single];
  }
  const files: SafetensorsFile[] = [];
  try {
    for (const p of paths) files.push(await openSafetensors(p));
    return new ShardedWeights(dir, files);
  } catch (e) {
    for (const f of files) f.close();
    throw e;
  }
}
