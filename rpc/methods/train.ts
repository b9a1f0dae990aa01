import { Buffer } from "node:buffer";
import { isAbsolute, posix } from "node:path";
import type { JobKind } from "../job_kind.ts";
import { DataRoot } from "../data_root.ts";
import { invalidParams } from "../rpc_error.ts";
import { s, type Schema } from "../schema.ts";
import { workerJobKind } from "../worker_job_kind.ts";
import {
  PHOTO_UPLOAD_LIMITS,
  photosIntoJob,
  savePhotoUpload,
  uploadFolder,
  uploadIdPattern,
} from "../photo_upload.ts";
import { inModelFolder, isHubSource } from "./_model_folder_kind.ts";
// The declaration alone (its public light entry, dreambooth/deno.json "./params"): the server thread
// must not load tfjs.
import { type DreamBoothFields, dreamboothParams } from "../../dreambooth/dreambooth_params.ts";

/** One photo inside `train.start`'s `photos`: a file name, its bytes in base64, an optional caption. */
export interface TrainPhoto {
  /** The file name (`dog1.jpg`): a plain name with a .jpg/.jpeg/.png/.webp extension. */
  name: string;
  /** The file's bytes, base64 (standard alphabet; a `data:image/…;base64,` prefix is allowed). */
  data: string;
  /** This photo's caption (its instance prompt; `{identifier}`/`[V]` and `{class}` are filled in). */
  caption?: string;
}

/**
 * The validated params of `train.start`: the DreamBooth parameters declared in
 * dreambooth/dreambooth_params.ts (all optional: the defaults of `deno task train`; `subject`,
 * `classDir` and `model` are paths relative to the data root) plus `preset` and the subject's photos
 * sent with the call: `photos` (base64) or `upload` (the id `POST /upload` answered).
 */
export type TrainParams = DreamBoothFields & {
  /** A fresh preset base model (`tiny` for CI) instead of `model`. */
  preset?: "tiny" | "small";
  /** The subject's photos, sent inline (instead of `subject` or `upload`). */
  photos?: TrainPhoto[];
  /** An upload id from `POST /upload` (instead of `subject` or `photos`). */
  upload?: string;
};

/**
 * The DreamBooth params that name a file or folder on the server (a `DIR`, `FILE` or `PATH`
 * placeholder in the declaration), by RPC field name: each is resolved inside the data root before
 * the job is queued, so an option added to the declaration later is confined too.
 *
 * @example
 * ```ts
 * import { trainPathFields } from "./train.ts";
 * console.log(trainPathFields.includes("subject")); // true
 * ```
 */
export const trainPathFields: readonly string[] = Object.entries(dreamboothParams.specs)
  .filter(([, spec]) =>
    spec.type === "string" &&
    /\b(DIR|FILE|PATH)\b/.test((spec as { metavar?: string }).metavar ?? "")
  )
  .map(([key]) => dreamboothParams.name(key as keyof typeof dreamboothParams.specs, "field"))
  .filter((f): f is string => f !== undefined);

// A 20 MiB photo is 27,962,028 base64 characters; longer strings reach the size check, which names
// the file (the request body limit, `--max-body-mb`, bounds them first).
const maxBase64 = 4 * Math.ceil(4 * PHOTO_UPLOAD_LIMITS.maxFileBytes / 3) + 64;

/** The params of `train.start`, derived from the DreamBooth declaration (bounds, defaults, help). */
export const trainParams: Schema<TrainParams> = s.declared(dreamboothParams, {
  preset: s.optional(s.enum(["tiny", "small"] as const, {
    description: "A fresh preset base model instead of `model` (`tiny` for CI).",
  })),
  photos: s.optional(s.array(
    s.object({
      name: s.string({ minLength: 1, maxLength: 255, description: "File name (`dog1.jpg`)." }),
      data: s.string({ maxLength: maxBase64, description: "The file's bytes, base64." }),
      caption: s.optional(s.string({
        maxLength: PHOTO_UPLOAD_LIMITS.maxCaptionLength,
        description: "This photo's caption (like NAME.txt beside a photo).",
      })),
    }),
    {
      maxItems: 1000,
      description:
        "The subject's photos, inline (instead of `subject`/`upload`): PNG/JPEG/WebP, at most 32 " +
        "files, 20 MiB each, 100 MiB in all, ≥ 64 px on the short side; stored in jobs/<id>/photos/.",
    },
  )),
  upload: s.optional(s.string({
    pattern: uploadIdPattern,
    description: "An upload id from `POST /upload` (multipart), instead of `subject`/`photos`.",
  })),
});

/** Decodes one photo's base64 (standard alphabet, optional data-URL prefix), or null when malformed. */
function decodeBase64(data: string): Uint8Array | null {
  const body = data.replace(/^data:[\w.+/-]*;base64,/, "").replace(/\s+/g, "");
  if (body.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(body)) return null;
  const buf = Buffer.from(body, "base64");
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * The folders a concepts file names (`instanceDir`, `classDir`, relative to the file's folder)
 * stay inside the data root like every path field; the trainer checks the rest of the file.
 */
async function checkConceptsPaths(root: DataRoot, concepts: string): Promise<void> {
  let list: unknown;
  try {
    list = JSON.parse(await Deno.readTextFile(await root.resolve(concepts, { field: "concepts" })));
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw invalidParams("concepts", `is not valid JSON: ${e.message}`);
  }
  if (!Array.isArray(list)) return; // the trainer names what is wrong
  for (const [i, entry] of list.entries()) {
    for (const k of ["instanceDir", "classDir"]) {
      const dir = (entry as Record<string, unknown> | null)?.[k];
      if (dir === undefined) continue;
      // An absolute folder goes as it is (and is refused); a relative one is the file's folder's.
      const rel = typeof dir === "string" && !isAbsolute(dir) && !/^[a-zA-Z]:|^[\\/]/.test(dir)
        ? posix.join(posix.dirname(concepts), dir)
        : dir;
      await root.resolve(rel, { field: `concepts[${i}].${k}` });
    }
  }
}

/** Checks the params that the schema cannot, stores inline photos; the params to queue. */
async function prepareTrain(params: TrainParams, root: DataRoot): Promise<TrainParams> {
  if (params.preset !== undefined && params.model !== undefined) {
    throw invalidParams("model", "must not be given together with 'preset'");
  }
  const given = (["subject", "photos", "upload"] as const).filter((f) => params[f] !== undefined);
  if (given.length > 1) {
    throw invalidParams(given[1], `must not be given together with '${given[0]}'`);
  }
  for (const field of trainPathFields) {
    const value = (params as Record<string, unknown>)[field];
    // `hf:ORG/NAME[@REV]` (a DeepFloyd IF model on the hub) is not a path.
    if (value !== undefined && !isHubSource(value)) await root.resolve(value, { field });
  }
  if (params.concepts !== undefined) await checkConceptsPaths(root, params.concepts);
  if (given.length === 1 && given[0] !== "subject" && params.classNoun === undefined) {
    throw invalidParams(
      "classNoun",
      `is required with '${given[0]}' (uploaded photos carry no subject.json): e.g. "dog"`,
    );
  }
  if (params.upload !== undefined) await uploadFolder(root, params.upload);
  if (params.photos === undefined) return params;
  const bad = params.photos.flatMap((p, i) =>
    decodeBase64(p.data) === null
      ? [{ name: p.name, reason: `photos[${i}].data is not base64` }]
      : []
  );
  if (bad.length > 0) {
    throw invalidParams("photos", `has bad files: ${bad.map((b) => `"${b.name}" ${b.reason}`)}`);
  }
  const { photos, ...rest } = params;
  const { upload } = await savePhotoUpload(
    root,
    photos.map((p) => ({ name: p.name, bytes: decodeBase64(p.data)!, caption: p.caption })),
    { via: "base64" },
  );
  // The record keeps the upload id, not megabytes of base64.
  return { ...rest, upload };
}

/**
 * The `train` job kind (served as `train.start`): DreamBooth fine-tuning through
 * dreambooth/dreambooth_rpc_job.ts in a Worker (through the adapter rpc/jobs/train_job.ts). The
 * model folder is `<data root>/models/<job id>/` (so `model.list` finds its `model.safetensors` and
 * `sample {model}` takes it); cancellation stops at the next step and leaves a checkpoint there,
 * which `jobs.resume` continues from. Path params are resolved inside the data root (checked in the
 * server before queueing). Photos sent with the call (`photos`, or `upload` from `POST /upload`)
 * are checked before queueing and land in the job's own folder, `jobs/<job id>/photos/`, which
 * becomes the subject folder.
 *
 * @param options `backend`: the server's `--backend` (default automatic).
 * @returns The job kind.
 *
 * @example
 * ```ts
 * import { trainJobKind } from "./train.ts";
 * console.log(trainJobKind().name); // train
 * ```
 */
export function trainJobKind(options: { backend?: string } = {}): JobKind<TrainParams, unknown> {
  const kind = inModelFolder(
    workerJobKind<TrainParams>({
      name: "train",
      summary: "DreamBooth fine-tuning; the model lands in models/<job id>/ (model.list, sample).",
      params: trainParams,
      resumable: true,
      module: new URL("../jobs/train_job.ts", import.meta.url),
      data: { backend: options.backend },
    }),
    trainPathFields as (keyof TrainParams & string)[],
  );
  return {
    ...kind,
    prepare: (params, { dataRoot }) => prepareTrain(params, dataRoot),
    run: async (params, ctx) => {
      if (params.upload === undefined) return kind.run(params, ctx);
      const root = await DataRoot.open(ctx.dataRoot);
      const photos = await photosIntoJob(root, params.upload, ctx.dir);
      const { upload: _, ...rest } = params;
      return kind.run({ ...rest, subject: root.relative(photos) }, ctx);
    },
  };
}
