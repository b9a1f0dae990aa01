/**
 * Subject photos sent to the server: checked, then stored under the data root in
 * `uploads/<upload id>/` (a base64 `photos` list inside `train.start`, or a multipart
 * `POST /upload`), and copied into the training job's own folder (`jobs/<job id>/photos/`) when
 * the job starts. Every check runs before anything is queued, and a refusal names each bad file
 * with its reason (-32602, `data.files`).
 *
 * @module
 */
import { join } from "node:path";
import { loadImage, MIN_SUBJECT_SIDE, SUBJECT_IMAGE_EXTENSIONS } from "../data/mod.ts";
import type { DataRoot } from "./data_root.ts";
import { RpcError, RpcErrorCode } from "./rpc_error.ts";

/**
 * The limits of one upload: each photo at most 20 MiB, at most 32 photos and 100 MiB in all, each
 * a PNG, JPEG or WebP file that decodes and is at least {@link MIN_SUBJECT_SIDE} (64) px on its
 * short side (the rule `deno task train` applies to a subject folder).
 *
 * @example
 * ```ts
 * import { PHOTO_UPLOAD_LIMITS } from "./photo_upload.ts";
 * console.log(PHOTO_UPLOAD_LIMITS.maxFileBytes / 2 ** 20); // 20
 * ```
 */
export const PHOTO_UPLOAD_LIMITS = {
  /** Largest photo in bytes (20 MiB). */
  maxFileBytes: 20 * 2 ** 20,
  /** Most photos in one upload. */
  maxFiles: 32,
  /** Largest upload in bytes, all photos together (100 MiB). */
  maxTotalBytes: 100 * 2 ** 20,
  /** Longest caption in characters. */
  maxCaptionLength: 1000,
} as const;

/** One photo as received. */
export interface UploadedPhoto {
  /** The file name (`dog1.jpg`): a plain name, no folders. */
  name: string;
  /** The file's bytes. */
  bytes: Uint8Array;
  /** Its caption (the instance prompt of this photo), like `NAME.txt` beside a photo on disk. */
  caption?: string;
}

/** What {@link savePhotoUpload} returns (and `POST /upload` answers). */
export interface PhotoUploadResult {
  /** The upload id: give it as `upload` to `train.start`. */
  upload: string;
  /** The photos stored, in name order. */
  files: { name: string; bytes: number; width: number; height: number; caption?: string }[];
}

/** Upload ids: `u` + 24 hex digits. */
export const uploadIdPattern: RegExp = /^u[0-9a-f]{24}$/;

const formats: [string, (b: Uint8Array) => boolean][] = [
  ["PNG", (b) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b[i] === v)],
  ["JPEG", (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ["WebP", (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP"],
];

function ascii(b: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...b.subarray(from, to));
}

/**
 * Why a file name cannot be stored as given (a plain name with an image extension), or
 * `undefined` when it can.
 *
 * @param name The name the client sent.
 * @returns The reason, or `undefined`.
 *
 * @example
 * ```ts
 * import { photoNameProblem } from "./photo_upload.ts";
 * console.log(photoNameProblem("dog.jpg")); // undefined
 * console.log(photoNameProblem("../x.png")); // must be a plain file name, without folders or '..'
 * ```
 */
export function photoNameProblem(name: string): string | undefined {
  if (typeof name !== "string" || name === "") return "must be a non-empty file name";
  if (name.length > 255) return "must be at most 255 characters long";
  if (name.includes("\0")) return "must not contain NUL characters";
  if ([...name].some((ch) => ch.charCodeAt(0) < 32 || ch.charCodeAt(0) === 127)) {
    return "must not contain control characters";
  }
  if (/[\\/]/.test(name) || name.includes("..") || /^[a-zA-Z]:/.test(name)) {
    return "must be a plain file name, without folders or '..'";
  }
  if (name.startsWith(".")) return "must not start with '.'";
  if (/[<>:"|?*]/.test(name)) return 'must not contain any of < > : " | ? *';
  const lower = name.toLowerCase();
  if (!SUBJECT_IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext))) {
    return `must end in ${SUBJECT_IMAGE_EXTENSIONS.join(", ")}`;
  }
  return undefined;
}

/** A -32602 refusal naming each bad file and its reason. */
function refusal(field: string, bad: { name: string; reason: string }[]): RpcError {
  const list = bad.map((b) => `${JSON.stringify(b.name)} ${b.reason}`).join("; ");
  return new RpcError(
    RpcErrorCode.InvalidParams,
    `Invalid params: '${field}' ${
      bad.length === 1 ? "has a bad file" : `has ${bad.length} bad files`
    }: ${list}`,
    { field, files: bad },
  );
}

/** The checks that need no decoding: count, names, duplicates, sizes, captions. */
function checkListing(photos: readonly UploadedPhoto[], field: string): void {
  const { maxFiles, maxFileBytes, maxTotalBytes, maxCaptionLength } = PHOTO_UPLOAD_LIMITS;
  if (photos.length === 0) {
    throw refusal(field, [{ name: "", reason: "no photos: send 1–32 photos of the subject" }]);
  }
  if (photos.length > maxFiles) {
    throw new RpcError(
      RpcErrorCode.InvalidParams,
      `Invalid params: '${field}' holds ${photos.length} files, more than ${maxFiles} (DreamBooth needs 3–5 photos): ${
        photos.slice(maxFiles).map((p) => JSON.stringify(p.name)).join(", ")
      } ${photos.length - maxFiles === 1 ? "is" : "are"} one too many`,
      {
        field,
        files: photos.slice(maxFiles).map((p) => ({
          name: p.name,
          reason: `is file ${maxFiles + 1}+`,
        })),
      },
    );
  }
  const bad: { name: string; reason: string }[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const p of photos) {
    total += p.bytes.length;
    const nameProblem = photoNameProblem(p.name);
    if (nameProblem !== undefined) {
      bad.push({ name: p.name, reason: `is refused: the name ${nameProblem}` });
      continue;
    }
    const stem = p.name.toLowerCase().replace(/\.[^.]+$/, "");
    if (seen.has(stem)) {
      bad.push({ name: p.name, reason: "is refused: another photo has the same name" });
    }
    seen.add(stem);
    if (p.bytes.length > maxFileBytes) {
      bad.push({
        name: p.name,
        reason:
          `is ${p.bytes.length} bytes, over the limit of ${maxFileBytes} bytes (20 MiB) per photo`,
      });
    } else if (p.caption !== undefined && p.caption.length > maxCaptionLength) {
      bad.push({ name: p.name, reason: `has a caption over ${maxCaptionLength} characters` });
    }
  }
  if (bad.length > 0) throw refusal(field, bad);
  if (total > maxTotalBytes) {
    throw new RpcError(
      RpcErrorCode.InvalidParams,
      `Invalid params: '${field}' totals ${total} bytes, over the limit of ${maxTotalBytes} bytes (100 MiB) per upload`,
      { field },
    );
  }
}

/** Decodes each stored photo with the CLI's loader and rule; the problems, by file. */
async function checkImages(
  dir: string,
  photos: readonly UploadedPhoto[],
): Promise<{ bad: { name: string; reason: string }[]; sizes: Map<string, [number, number]> }> {
  const bad: { name: string; reason: string }[] = [];
  const sizes = new Map<string, [number, number]>();
  for (const p of photos) {
    const format = formats.find(([, test]) => test(p.bytes))?.[0];
    if (format === undefined) {
      bad.push({ name: p.name, reason: "is not a PNG, JPEG or WebP image (its bytes say so)" });
      continue;
    }
    try {
      // The loader and the smallest side `deno task train` uses on a subject folder.
      await loadImage(join(dir, p.name), { size: 8, minSide: MIN_SUBJECT_SIDE });
      const { width, height } = headerSize(p.bytes, format);
      sizes.set(p.name, [width, height]);
    } catch (err) {
      const c = (err as Error).cause as { width?: number; height?: number } | undefined;
      bad.push({
        name: p.name,
        reason: c?.width !== undefined
          ? `is ${c.width}×${c.height} px, smaller than ${MIN_SUBJECT_SIDE} px on its short side`
          : `does not decode as a ${format} image`,
      });
    }
  }
  return { bad, sizes };
}

/** Width and height from a PNG/JPEG/WebP header (0×0 when not found: the decode proved it valid). */
function headerSize(b: Uint8Array, format: string): { width: number; height: number } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  try {
    if (format === "PNG") return { width: v.getUint32(16), height: v.getUint32(20) };
    if (format === "JPEG") {
      for (let i = 2; i + 9 < b.length;) {
        if (b[i] !== 0xff) break;
        const marker = b[i + 1];
        const len = v.getUint16(i + 2);
        if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
          return { width: v.getUint16(i + 7), height: v.getUint16(i + 5) };
        }
        i += 2 + len;
      }
    }
    if (format === "WebP") {
      const chunk = ascii(b, 12, 16);
      if (chunk === "VP8X") {
        const w = 1 + (b[24] | b[25] << 8 | b[26] << 16),
          h = 1 + (b[27] | b[28] << 8 | b[29] << 16);
        return { width: w, height: h };
      }
      if (chunk === "VP8 ") {
        return { width: v.getUint16(26, true) & 0x3fff, height: v.getUint16(28, true) & 0x3fff };
      }
      if (chunk === "VP8L") {
        const bits = v.getUint32(21, true);
        return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
      }
    }
  } catch {
    // a short header: the decoder accepted it, the size stays unknown
  }
  return { width: 0, height: 0 };
}

/**
 * Checks photos and stores them in `<data root>/uploads/<upload id>/` (captions as `NAME.txt`
 * beside each photo, the subject-folder layout the CLI reads). Nothing is stored when a check
 * fails: count (≤ 32), names (plain, no folders, `..`, NUL, leading dot, drive letters; unique;
 * `.jpg/.jpeg/.png/.webp`), size (≤ 20 MiB each, 100 MiB in all), content (PNG/JPEG/WebP bytes
 * that decode), and the CLI's smallest side (64 px).
 *
 * @param root The data root.
 * @param photos The photos.
 * @param options `field`: the param named in errors (default `photos`); `via`: how they came
 * (`base64`: moved into the job's folder when it starts, `multipart`: copied, reusable).
 * @returns The upload id and the files.
 * @throws {RpcError} -32602 naming every bad file (`data.files: [{name, reason}]`).
 *
 * @example
 * ```ts
 * import { DataRoot } from "./data_root.ts";
 * import { savePhotoUpload } from "./photo_upload.ts";
 * const dir = await Deno.makeTempDir();
 * const root = await DataRoot.open(dir);
 * const bytes = new TextEncoder().encode("not an image");
 * await savePhotoUpload(root, [{ name: "a.png", bytes }]).catch((e) => console.log(e.message));
 * // Invalid params: 'photos' has a bad file: "a.png" is not a PNG, JPEG or WebP image (its bytes say so)
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function savePhotoUpload(
  root: DataRoot,
  photos: readonly UploadedPhoto[],
  options: { field?: string; via?: "base64" | "multipart" } = {},
): Promise<PhotoUploadResult> {
  const { field = "photos", via = "multipart" } = options;
  checkListing(photos, field);
  const id = "u" + [...crypto.getRandomValues(new Uint8Array(12))]
    .map((x) => x.toString(16).padStart(2, "0")).join("");
  const uploads = join(root.path, "uploads");
  const staging = join(uploads, `.${id}.partial`);
  await Deno.mkdir(staging, { recursive: true });
  try {
    for (const p of photos) await Deno.writeFile(join(staging, p.name), p.bytes);
    const { bad, sizes } = await checkImages(staging, photos);
    if (bad.length > 0) throw refusal(field, bad);
    const files: PhotoUploadResult["files"] = [];
    for (const p of [...photos].sort((a, b) => a.name < b.name ? -1 : 1)) {
      const [width, height] = sizes.get(p.name)!;
      const caption = p.caption?.trim() || undefined;
      if (caption !== undefined) {
        await Deno.writeTextFile(join(staging, p.name.replace(/\.[^.]+$/, ".txt")), caption);
      }
      files.push({ name: p.name, bytes: p.bytes.length, width, height, ...caption && { caption } });
    }
    await Deno.writeTextFile(
      join(staging, ".upload.json"),
      JSON.stringify({ id, via, createdAt: new Date().toISOString(), files }, null, 1),
    );
    await Deno.rename(staging, join(uploads, id));
    return { upload: id, files };
  } catch (err) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw err;
  }
}

/**
 * Checks that an upload id names a stored upload.
 *
 * @param root The data root.
 * @param id The id (`train.start`'s `upload`).
 * @param field The param named in errors (default `upload`).
 * @returns The upload's folder (absolute).
 * @throws {RpcError} -32602 for a malformed id, -32004 for an unknown one.
 */
export async function uploadFolder(root: DataRoot, id: unknown, field = "upload"): Promise<string> {
  if (typeof id !== "string" || !uploadIdPattern.test(id)) {
    throw new RpcError(
      RpcErrorCode.InvalidParams,
      `Invalid params: '${field}' must be an upload id from POST /upload ('u' and 24 hex digits): current value is ${
        JSON.stringify(id)?.slice(0, 80)
      }`,
      { field },
    );
  }
  const dir = join(root.path, "uploads", id);
  try {
    await Deno.stat(join(dir, ".upload.json"));
  } catch {
    throw new RpcError(RpcErrorCode.NotFound, `Unknown upload '${id}'`, { field, upload: id });
  }
  return dir;
}

/**
 * Puts an upload's photos into a job's folder (`<dir>/photos/`), once: a `multipart` upload is
 * copied (it may serve several jobs), a `base64` one (made for this job alone) is moved. When
 * `<dir>/photos/` exists already (a resumed job), it is kept as is.
 *
 * @param root The data root.
 * @param id The upload id.
 * @param dir The job's folder (absolute, inside the data root).
 * @returns The photos' folder (absolute).
 */
export async function photosIntoJob(root: DataRoot, id: string, dir: string): Promise<string> {
  const target = join(dir, "photos");
  if (await Deno.stat(target).then(() => true, () => false)) return target;
  const source = await uploadFolder(root, id);
  const meta = JSON.parse(await Deno.readTextFile(join(source, ".upload.json")));
  await Deno.mkdir(dir, { recursive: true });
  if (meta.via === "base64") {
    await Deno.rename(source, target);
    return target;
  }
  const partial = join(dir, ".photos.partial");
  await Deno.remove(partial, { recursive: true }).catch(() => {});
  await Deno.mkdir(partial);
  for await (const entry of Deno.readDir(source)) {
    if (entry.isFile) await Deno.copyFile(join(source, entry.name), join(partial, entry.name));
  }
  await Deno.rename(partial, target);
  return target;
}
