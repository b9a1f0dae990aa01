/**
 * `hf:ORG/NAME[@REV]` model sources: downloads a Hugging Face Hub repository snapshot into the
 * standard hub cache layout (`$HF_HOME/hub/models--ORG--NAME/{blobs,snapshots/<commit>,refs}`), so
 * that files a Python user already downloaded are reused and the other way round. Sends
 * `HF_TOKEN` as a bearer token, resumes `.incomplete` blobs with a Range request, and checks each
 * file's size and, for LFS files (whose ETag is their SHA-256), its hash.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Options of {@link downloadHubSnapshot} and {@link resolveModelDir}. */
export interface HubOptions {
  /** Hub URL. Default `$HF_ENDPOINT` or https://huggingface.co. */
  endpoint?: string;
  /** Access token. Default `$HF_TOKEN` (`$HUGGING_FACE_HUB_TOKEN`). */
  token?: string;
  /** Cache folder. Default `$HF_HUB_CACHE`, `$HUGGINGFACE_HUB_CACHE`, `$HF_HOME/hub` or `~/.cache/huggingface/hub`. */
  cacheDir?: string;
  /** Which repository files to fetch. Default {@link isDiffusersWeightFile}. */
  allow?: (path: string) => boolean;
  /** Called after each file with its path and whether it was downloaded (false: already cached). */
  onFile?: (path: string, downloaded: boolean) => void;
}

/**
 * The files a diffusers/transformers folder needs here: JSON configs and indexes, safetensors
 * weights and the SentencePiece model (not PyTorch pickles, Flax, ONNX or the safety checker).
 *
 * @param path A repository-relative path.
 * @returns Whether to download it.
 */
export function isDiffusersWeightFile(path: string): boolean {
  if (/^(safety_checker|feature_extractor|watermarker)\//.test(path)) return false;
  return /\.json$/.test(path) || /\.safetensors$/.test(path) || /(^|\/)spiece\.model$/.test(path);
}

/**
 * Parses `hf:ORG/NAME[@REV]`.
 *
 * @param source The model source.
 * @returns The repository id and revision (default "main"), or null for a plain path.
 *
 * @example
 * ```ts
 * import { parseHubSource } from "./hf_hub.ts";
 * console.log(parseHubSource("hf:DeepFloyd/IF-I-M-v1.0@main")); // { repoId: "DeepFloyd/IF-I-M-v1.0", revision: "main" }
 * ```
 */
export function parseHubSource(source: string): { repoId: string; revision: string } | null {
  if (!source.startsWith("hf:")) return null;
  const m = /^hf:([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w./-]+))?$/.exec(source);
  if (!m || m[1].includes("..")) {
    throw new RangeError(
      `Cannot read the model source as it must look like hf:ORG/NAME[@REV]: current value is ${
        JSON.stringify(source)
      }`,
    );
  }
  return { repoId: m[1], revision: m[2] ?? "main" };
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env
  }
}

/** The hub cache folder: `cacheDir`, else the one the environment names (as huggingface_hub reads it). */
export function hubCacheDir(options: HubOptions = {}): string {
  if (options.cacheDir) return options.cacheDir;
  const explicit = env("HF_HUB_CACHE") ?? env("HUGGINGFACE_HUB_CACHE");
  if (explicit) return explicit;
  const home = env("HF_HOME") ??
    `${env("XDG_CACHE_HOME") ?? `${env("HOME") ?? "."}/.cache`}/huggingface`;
  return `${home}/hub`;
}

function normalizeEtag(etag: string | null): string | null {
  return etag === null ? null : etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function hubFetch(url: string, init: RequestInit, what: string): Promise<Response> {
  const r = await fetch(url, init);
  if (r.status === 401 || r.status === 403) {
    await r.body?.cancel();
    throw new Error(
      `Cannot download ${what}: the hub answered ${r.status} (a gated or private repository: accept its licence on the hub and set HF_TOKEN)`,
    );
  }
  return r;
}

/**
 * Downloads (or finds in the cache) a repository snapshot in the hub cache layout.
 *
 * @param repoId `ORG/NAME`.
 * @param options `revision` (default "main") and {@link HubOptions}.
 * @returns The snapshot folder `…/models--ORG--NAME/snapshots/<commit>`.
 */
export async function downloadHubSnapshot(
  repoId: string,
  options: HubOptions & { revision?: string } = {},
): Promise<string> {
  const endpoint = (options.endpoint ?? env("HF_ENDPOINT") ?? "https://huggingface.co").replace(
    /\/$/,
    "",
  );
  const token = options.token ?? env("HF_TOKEN") ?? env("HUGGING_FACE_HUB_TOKEN");
  const revision = options.revision ?? "main";
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const repoDir = `${hubCacheDir(options)}/models--${repoId.replace("/", "--")}`;
  const info = await hubFetch(
    `${endpoint}/api/models/${repoId}/revision/${encodeURIComponent(revision)}`,
    { headers },
    `hf:${repoId}@${revision}`,
  );
  if (!info.ok) {
    await info.body?.cancel();
    throw new Error(`Cannot download hf:${repoId}@${revision}: the hub answered ${info.status}`);
  }
  const json = await info.json() as { sha?: string; siblings?: { rfilename: string }[] };
  const commit = json.sha;
  if (!commit || !/^[0-9a-f]{40}$/.test(commit) || !Array.isArray(json.siblings)) {
    throw new Error(
      `Cannot download hf:${repoId}@${revision}: the hub's answer has no commit and file list`,
    );
  }
  await Deno.mkdir(`${repoDir}/refs`, { recursive: true });
  await Deno.mkdir(`${repoDir}/blobs`, { recursive: true });
  if (revision !== commit) await Deno.writeTextFile(`${repoDir}/refs/${revision}`, commit);
  const snapshot = `${repoDir}/snapshots/${commit}`;
  const allow = options.allow ?? isDiffusersWeightFile;
  for (const { rfilename } of json.siblings) {
    if (!allow(rfilename)) continue;
    if (rfilename.split("/").some((p) => p === ".." || p === "")) {
      throw new Error(
        `Cannot download hf:${repoId}: unsafe file name ${JSON.stringify(rfilename)}`,
      );
    }
    const pointer = `${snapshot}/${rfilename}`;
    if (await exists(pointer)) {
      options.onFile?.(rfilename, false);
      continue;
    }
    const downloaded = await downloadFile(
      endpoint,
      repoId,
      commit,
      rfilename,
      headers,
      repoDir,
      pointer,
    );
    options.onFile?.(rfilename, downloaded);
  }
  return snapshot;
}

async function downloadFile(
  endpoint: string,
  repoId: string,
  commit: string,
  file: string,
  headers: Record<string, string>,
  repoDir: string,
  pointer: string,
): Promise<boolean> {
  const what = `hf:${repoId}/${file}`;
  const url = `${endpoint}/${repoId}/resolve/${commit}/${
    file.split("/").map(encodeURIComponent).join("/")
  }`;
  const head = await hubFetch(url, {
    method: "HEAD",
    headers: { ...headers, "accept-encoding": "identity" },
    redirect: "manual",
  }, what);
  await head.body?.cancel();
  if (head.status >= 400) {
    throw new Error(`Cannot download ${what}: the hub answered ${head.status}`);
  }
  const etag = normalizeEtag(head.headers.get("x-linked-etag") ?? head.headers.get("etag"));
  const sizeText = head.headers.get("x-linked-size") ?? head.headers.get("content-length");
  const size = sizeText === null ? null : Number(sizeText);
  if (!etag || !/^[\w.-]+$/.test(etag)) throw new Error(`Cannot download ${what}: no usable ETag`);
  const location = head.status >= 300 && head.status < 400 ? head.headers.get("location") : null;
  const source = location ? new URL(location, url).href : url;
  const blob = `${repoDir}/blobs/${etag}`;
  let downloaded = false;
  if (!(await exists(blob))) {
    const incomplete = `${blob}.incomplete`;
    const have = (await exists(incomplete)) ? (await Deno.stat(incomplete)).size : 0;
    const sameHost = new URL(source).host === new URL(endpoint).host;
    const get = await hubFetch(source, {
      headers: {
        ...(sameHost ? headers : {}),
        "accept-encoding": "identity",
        ...(have > 0 ? { range: `bytes=${have}-` } : {}),
      },
    }, what);
    if (!get.ok || !get.body) {
      throw new Error(`Cannot download ${what}: the hub answered ${get.status}`);
    }
    const append = have > 0 && get.status === 206;
    const f = await Deno.open(incomplete, { write: true, create: true, append, truncate: !append });
    try {
      await get.body.pipeTo(f.writable);
    } catch (e) {
      throw new Error(`Cannot download ${what}: ${(e as Error).message} (run again to resume)`, {
        cause: e,
      });
    }
    const got = (await Deno.stat(incomplete)).size;
    if (size !== null && got !== size) {
      throw new Error(
        `Cannot download ${what}: got ${got} bytes, expected ${size} (run again to resume)`,
      );
    }
    if (/^[0-9a-f]{64}$/.test(etag)) {
      const hash = createHash("sha256");
      const r = await Deno.open(incomplete);
      for await (const chunk of r.readable) hash.update(chunk);
      const digest = hash.digest("hex");
      if (digest !== etag) {
        await Deno.remove(incomplete);
        throw new Error(
          `Cannot download ${what}: its SHA-256 is ${digest}, expected ${etag} (removed; run again)`,
        );
      }
    }
    await Deno.rename(incomplete, blob);
    downloaded = true;
  }
  const dir = pointer.slice(0, pointer.lastIndexOf("/"));
  await Deno.mkdir(dir, { recursive: true });
  const depth = pointer.slice(repoDir.length + 1).split("/").length - 1;
  await Deno.symlink(`${"../".repeat(depth)}blobs/${etag}`, pointer);
  return downloaded;
}

/**
 * A model folder from a source: a local path as it is, or `hf:ORG/NAME[@REV]` downloaded into
 * the hub cache first.
 *
 * @param source A folder or `hf:ORG/NAME[@REV]`.
 * @param options {@link HubOptions}.
 * @returns The folder to load.
 */
export async function resolveModelDir(source: string, options: HubOptions = {}): Promise<string> {
  const hub = parseHubSource(source);
  if (!hub) return source;
  return await downloadHubSnapshot(hub.repoId, { ...options, revision: hub.revision });
}
