/**
 * The one atomic file write of the project: write a temporary file beside the target, flush it to
 * disk, rename it over the target (a reader sees the old file or the new one, never a torn one),
 * and remove the temporary file on any failure. Checkpoints, run logs, PNGs, caches and the RPC
 * server's state all go through it.
 *
 * @module
 */
import { dirname } from "node:path";

/** Options of {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** File mode of a newly created file (e.g. `0o600` for secrets). Default: the process umask's. */
  mode?: number;
}

/**
 * Writes `bytes` to `path` atomically (parent folders are created).
 *
 * @param path The target file.
 * @param bytes The content.
 * @param options `mode` (see {@link WriteFileAtomicOptions}).
 * @returns Nothing.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./write_file_atomic.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a/b.bin`, new Uint8Array([1, 2]));
 * console.log((await Deno.readFile(`${dir}/a/b.bin`)).length); // 2
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  await Deno.mkdir(dirname(path) || ".", { recursive: true });
  const tmp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    const f = await Deno.open(tmp, {
      write: true,
      create: true,
      truncate: true,
      ...(options.mode !== undefined ? { mode: options.mode } : {}),
    });
    try {
      let off = 0;
      while (off < bytes.length) off += await f.write(bytes.subarray(off));
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Writes UTF-8 text atomically (see {@link writeFileAtomic}).
 *
 * @param path The target file.
 * @param text The content.
 * @param options `mode` (see {@link WriteFileAtomicOptions}).
 * @returns Nothing.
 *
 * @example
 * ```ts
 * import { writeTextFileAtomic } from "./write_file_atomic.ts";
 * const dir = await Deno.makeTempDir();
 * await writeTextFileAtomic(`${dir}/a.txt`, "hi", { mode: 0o600 });
 * console.log(await Deno.readTextFile(`${dir}/a.txt`)); // "hi"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function writeTextFileAtomic(
  path: string,
  text: string,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  return writeFileAtomic(path, new TextEncoder().encode(text), options);
}

/**
 * Writes a value as indented JSON (plus a newline) atomically.
 *
 * @param path The target file.
 * @param value A JSON-serialisable value.
 * @returns Nothing.
 *
 * @example
 * ```ts
 * import { writeJsonAtomic } from "./write_file_atomic.ts";
 * const dir = await Deno.makeTempDir();
 * await writeJsonAtomic(`${dir}/a.json`, { a: 1 });
 * console.log(JSON.parse(await Deno.readTextFile(`${dir}/a.json`)).a); // 1
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeTextFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/**
 * Whether a path exists (other errors than NotFound are thrown).
 *
 * @param path A file or folder.
 * @returns True when it exists.
 *
 * @example
 * ```ts
 * import { exists } from "./write_file_atomic.ts";
 * console.log(await exists("/nonexistent/x")); // false
 * ```
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
