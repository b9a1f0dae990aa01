/**
 * common/: the small pieces every package shares, so that each exists once: the atomic file write
 * ({@link writeFileAtomic}, {@link writeJsonAtomic}), the PNG writer ({@link encodePng},
 * {@link writePng}) and the seeded random-number generator ({@link Rng}, {@link hashInts}). It
 * imports nothing of ours (only node:path and node:zlib), so any package may depend on it;
 * tokenizer/ uses only its {@link Rng} (it stays free of every other package of ours).
 *
 * @example
 * ```ts
 * import { encodePng, writeFileAtomic } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/red.png`, encodePng({ width: 1, height: 1, data: new Uint8Array([255, 0, 0]) }));
 * console.log((await Deno.stat(`${dir}/red.png`)).size > 0); // true
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
export {
  exists,
  writeFileAtomic,
  type WriteFileAtomicOptions,
  writeJsonAtomic,
  writeTextFileAtomic,
} from "./write_file_atomic.ts";
export { encodePng, type Rgb8Image, writePng } from "./encode_png.ts";
export { fmix32, hashInts, Rng, type RngAlgorithm, type RngOptions } from "./rng.ts";
