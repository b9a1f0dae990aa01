/**
 * A typed Deno client of the JSON-RPC server: `call`, `notify`, `batch`, `events` (the
 * Server-Sent Events of job progress), `waitForJob`, `health`, `fileUrl`. It uses only `fetch`,
 * so it imports by URL on its own.
 *
 * @module
 */
import type { JobProgress, JobRecord, JobStatus } from "./job_record.ts";
import type { OpenRpcDocument } from "./method_registry.ts";
import type { LoadedModel as LoadedModelInfo } from "./model_host.ts";

/** Params and result of every method the server may offer (compute methods once plugged in). */
export interface RpcMethods {
  "tokenizer.encode": {
    params: { text: string; pieces?: boolean; length?: number; model?: string };
    result: { ids: number[]; pieces?: string[]; mask?: number[]; truncated?: boolean };
  };
  "tokenizer.decode": { params: { ids: number[]; model?: string }; result: { text: string } };
  "tokenizer.identifier": {
    params: { k?: number; seed?: number; range?: [number, number]; model?: string };
    result: { text: string; ids: number[]; pieces: string[]; k: number; poolSize: number };
  };
  "jobs.get": { params: { id: string }; result: JobRecord };
  "jobs.list": {
    params: { status?: JobStatus[]; kind?: string; limit?: number };
    result: { jobs: JobRecord[] };
  };
  "jobs.cancel": { params: { id: string }; result: JobRecord };
  "jobs.resume": { params: { id: string }; result: JobRecord };
  "model.list": {
    params: Record<never, never>;
    result: {
      checkpoints: { path: string; bytes: number; modifiedAt: string | null }[];
      presets: string[];
      loaded: LoadedModelInfo[];
    };
  };
  "model.load": {
    params: { name: string; model?: string; preset?: "tiny" | "small" };
    result: LoadedModelInfo;
  };
  "model.unload": { params: { name: string }; result: { unloaded: boolean } };
  "sample": { params: SampleCallParams & { png?: boolean }; result: SampleCallResult };
  "sample.start": { params: SampleCallParams; result: { id: string; status: JobStatus } };
  "eval.start": { params: EvalCallParams; result: { id: string; status: JobStatus } };
  "rpc.discover": { params: Record<never, never>; result: OpenRpcDocument };
}

/** Params of `sample` and `sample.start`. */
export interface SampleCallParams {
  /** The prompt. */
  prompt: string;
  /** A cascade checkpoint relative to the data root (see `model.list`). */
  model?: string;
  /** A fresh preset instead (default `tiny`). */
  preset?: "tiny" | "small";
  /** A model kept loaded by `model.load`. */
  loaded?: string;
  /** Seed (default 0). */
  seed?: number;
  /** Sampler steps of every stage. */
  steps?: number;
  /** Guidance weight. */
  guidance?: number;
  /** `ddim` or `ancestral`. */
  sampler?: "ddim" | "ancestral";
  /** Run only the first N stages. */
  stages?: number;
}

/**
 * Params of `eval.start`: exactly one of `preset`, `model`, `real`. Paths are relative to the data
 * root. The job's result is an {@linkcode EvalJobOutcome}.
 */
export interface EvalCallParams {
  /** A fresh, untrained preset cascade. */
  preset?: "tiny" | "small";
  /** A cascade file, or a folder holding cascade.safetensors / model.safetensors (`models/<id>`). */
  model?: string;
  /** Score the subject's own images (the "real images" row). */
  real?: boolean;
  /** Subject image folder (needs `classNoun`). */
  subject?: string;
  /** A built-in subject instead (default `dog`). */
  builtInSubject?: "dog" | "cat" | "teapot" | "backpack" | "sneaker";
  /** Class noun (default: the built-in subject's). */
  classNoun?: string;
  /** Identifier in the prompts (default `sks`). */
  identifier?: string;
  /** Images per prompt (default 4). */
  samples?: number;
  /** Images of the class prompt for PRES (default 8). */
  pres?: number;
  /** Only the first N of the 24 prompts. */
  prompts?: number;
  /** Sampler steps per stage. */
  steps?: number;
  /** Only the first N stages. */
  stages?: number;
  /** Guidance weight. */
  guidance?: number;
  /** Seed (default 0). */
  seed?: number;
}

/** The `result` of a finished `eval` job (`jobs.get`, `waitForJob`). */
export interface EvalJobOutcome {
  /** `jobs/<id>/metrics.json`, relative to the data root (`client.fileUrl(metrics)`). */
  metrics: string;
  /** `jobs/<id>/index.html`. */
  report: string;
  /** The PNG grids. */
  grids: string[];
  /** The summary metrics (each `{ estimate, low, high }` or null), as in metrics.json. */
  summary: Record<string, unknown>;
  /** Prompts evaluated. */
  prompts: number;
  /** Wall-clock seconds. */
  seconds: number;
}

/** Result of `sample`. */
export interface SampleCallResult {
  /** The job that made the image. */
  id: string;
  /** The PNG relative to the data root (`client.fileUrl(file)`). */
  file: string;
  /** Its URL path on the server (`/files/…`). */
  url: string;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** The seed used. */
  seed: number;
  /** The PNG as base64 (unless `png: false`). */
  png?: string;
}

/** Options of the {@linkcode RpcClient} constructor. */
export interface RpcClientOptions {
  /** Bearer token (when the server has one). */
  token?: string;
  /** The `fetch` to use (default the global one). */
  fetch?: typeof fetch;
}

/** One Server-Sent Event from `GET /events`. */
export interface RpcEvent {
  /** `hello`, `job` (data: a {@linkcode JobRecord}) or `progress` (data: `{id, kind, …JobProgress}`). */
  event: string;
  /** The parsed JSON data. */
  data: unknown;
  /** The event id. */
  id?: string;
}

/** The progress event's data. */
export type ProgressEventData = JobProgress & { id: string; kind: string };

/** A JSON-RPC error answer (or an HTTP failure, with `code` 0 and `status` set). */
export class RpcClientError extends Error {
  /** The JSON-RPC error code (0 for an HTTP-level failure). */
  readonly code: number;
  /** The error's `data`. */
  readonly data?: unknown;
  /** The HTTP status, when the failure was at the HTTP level. */
  readonly status?: number;

  /**
   * @param code The JSON-RPC error code.
   * @param message The message.
   * @param data The error's `data`.
   * @param status The HTTP status for HTTP-level failures.
   */
  constructor(code: number, message: string, data?: unknown, status?: number) {
    super(message);
    this.name = "RpcClientError";
    this.code = code;
    this.data = data;
    this.status = status;
  }
}

/** One entry of a {@linkcode RpcClient.batch}. */
export interface BatchCall {
  /** The method. */
  method: string;
  /** Its params. */
  params?: unknown;
  /** Send as a notification (no answer). */
  notify?: boolean;
}

/** The answer to one non-notification call of a batch. */
export type BatchResult =
  | { ok: true; result: unknown }
  | { ok: false; error: RpcClientError };

type Params<M extends keyof RpcMethods> = RpcMethods[M]["params"];
type Result<M extends keyof RpcMethods> = RpcMethods[M]["result"];

/**
 * The client.
 *
 * @example
 * ```ts
 * import { RpcClient } from "./client.ts";
 * // A fake server (a real one: `new RpcClient("http://127.0.0.1:8787")`).
 * const fakeFetch = async (_url: string | URL | Request, init?: RequestInit) => {
 *   const req = JSON.parse(String(init?.body));
 *   return Response.json({ jsonrpc: "2.0", id: req.id, result: { ids: [3, 9, 1782] } });
 * };
 * const client = new RpcClient("http://127.0.0.1:8787", { fetch: fakeFetch as typeof fetch });
 * const { ids } = await client.call("tokenizer.encode", { text: "a dog" });
 * console.log(ids); // [3, 9, 1782]
 * ```
 */
export class RpcClient {
  /** The server's base URL (`http://127.0.0.1:8787`). */
  readonly baseUrl: string;
  private readonly token?: string;
  private readonly fetchFn: typeof fetch;
  private nextId = 1;

  /**
   * @param baseUrl The server's base URL (without `/rpc`).
   * @param options Token, fetch.
   */
  constructor(baseUrl: string | URL, options: RpcClientOptions = {}) {
    this.baseUrl = String(baseUrl).replace(/\/+$/, "").replace(/\/rpc$/, "");
    this.token = options.token;
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /**
   * Calls a method and returns its result.
   *
   * @param method The method name.
   * @param params Its params (by name).
   * @returns The result.
   * @throws {RpcClientError} With the server's code, message and data.
   */
  call<M extends keyof RpcMethods>(method: M, params?: Params<M>): Promise<Result<M>>;
  /**
   * Calls a method not in {@linkcode RpcMethods} (compute methods, custom servers).
   *
   * @param method The method name.
   * @param params Its params.
   * @returns The result.
   */
  call<R = unknown>(method: string, params?: unknown): Promise<R>;
  async call(method: string, params?: unknown): Promise<unknown> {
    const id = this.nextId++;
    const body = await this.post(request(method, params, id));
    return unwrap(body as Response_);
  }

  /**
   * Sends a notification (no answer; errors are not reported by the server).
   *
   * @param method The method name.
   * @param params Its params.
   * @returns When the server has received it.
   */
  async notify(method: string, params?: unknown): Promise<void> {
    await this.post(request(method, params));
  }

  /**
   * Sends several calls in one request.
   *
   * @param calls The calls (notifications get no entry in the answer).
   * @returns One entry per non-notification call, in the order given.
   */
  async batch(calls: BatchCall[]): Promise<BatchResult[]> {
    const ids: number[] = [];
    const payload = calls.map((c) => {
      if (c.notify) return request(c.method, c.params);
      const id = this.nextId++;
      ids.push(id);
      return request(c.method, c.params, id);
    });
    const body = await this.post(payload);
    if (body === null) return [];
    if (!Array.isArray(body)) {
      // The whole batch was refused (empty, too large): one error object.
      const err = toError(body as Response_);
      return ids.map(() => ({ ok: false, error: err }));
    }
    const byId = new Map((body as Response_[]).map((r) => [r.id, r]));
    return ids.map((id): BatchResult => {
      const r = byId.get(id);
      if (r === undefined) {
        return { ok: false, error: new RpcClientError(0, `No answer for call ${id}`) };
      }
      return r.error === undefined
        ? { ok: true, result: r.result }
        : { ok: false, error: toError(r) };
    });
  }

  /**
   * Subscribes to `GET /events`: job status changes and progress, until `signal` aborts or the
   * server closes the stream.
   *
   * @param options `job`: only this job's events; `signal`: stops the subscription.
   * @returns The events.
   */
  async *events(options: { job?: string; signal?: AbortSignal } = {}): AsyncGenerator<RpcEvent> {
    const url = new URL(`${this.baseUrl}/events`);
    if (options.job !== undefined) url.searchParams.set("job", options.job);
    const res = await this.fetchFn(url, {
      headers: this.headers({ accept: "text/event-stream" }),
      signal: options.signal,
    });
    if (!res.ok || res.body === null) {
      await res.body?.cancel();
      throw new RpcClientError(0, `GET /events answered HTTP ${res.status}`, undefined, res.status);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value.replace(/\r\n?/g, "\n");
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const ev = parseEvent(block);
          if (ev !== null) yield ev;
        }
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }

  /**
   * Polls `jobs.get` until the job has finished.
   *
   * @param id The job id.
   * @param options `intervalMs` between polls (default 500), `onProgress` called with each new
   * record, `signal` to stop waiting.
   * @returns The final record.
   */
  async waitForJob(
    id: string,
    options: { intervalMs?: number; onProgress?: (job: JobRecord) => void; signal?: AbortSignal } =
      {},
  ): Promise<JobRecord> {
    const { intervalMs = 500, onProgress, signal } = options;
    for (;;) {
      signal?.throwIfAborted();
      const job = await this.call("jobs.get", { id });
      onProgress?.(job);
      if (["succeeded", "failed", "cancelled", "interrupted"].includes(job.status)) return job;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  /**
   * `GET /health`.
   *
   * @returns The server's health record.
   */
  async health(): Promise<
    { status: string; version: string; uptimeSeconds: number; jobs: object; backend: string }
  > {
    const res = await this.fetchFn(`${this.baseUrl}/health`, { headers: this.headers({}) });
    if (!res.ok) {
      await res.body?.cancel();
      throw new RpcClientError(0, `GET /health answered HTTP ${res.status}`, undefined, res.status);
    }
    return await res.json();
  }

  /**
   * `POST /upload`: sends subject photos as multipart/form-data (a caption goes as `NAME.txt`);
   * the server checks them (PNG/JPEG/WebP, ≤ 20 MiB each, ≤ 32, ≥ 64 px) and stores them.
   *
   * @param photos The photos: file name, bytes, optional caption.
   * @returns The upload id (give it as `upload` to `train.start`) and the files stored.
   * @throws {RpcClientError} -32602 naming each bad file (`data.files`), or an HTTP-level failure.
   */
  async upload(
    photos: readonly { name: string; bytes: Uint8Array<ArrayBuffer>; caption?: string }[],
  ): Promise<{
    upload: string;
    files: { name: string; bytes: number; width: number; height: number; caption?: string }[];
  }> {
    const form = new FormData();
    for (const p of photos) {
      form.append("photos", new Blob([p.bytes]), p.name);
      if (p.caption !== undefined) {
        form.append("captions", new Blob([p.caption]), p.name.replace(/\.[^.]+$/, "") + ".txt");
      }
    }
    const res = await this.fetchFn(`${this.baseUrl}/upload`, {
      method: "POST",
      headers: this.headers({}),
      body: form,
    });
    const text = await res.text();
    let body: { error?: { code: number; message: string; data?: unknown } } | undefined;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: reported below
    }
    if (res.ok && body !== undefined) return body as Awaited<ReturnType<RpcClient["upload"]>>;
    const e = body?.error;
    if (typeof e === "object" && e !== null) {
      throw new RpcClientError(e.code, e.message, e.data, res.status);
    }
    throw new RpcClientError(0, `POST /upload answered HTTP ${res.status}: ${text.slice(0, 200)}`);
  }

  /**
   * The URL of a file under the data root (a job's output).
   *
   * @param path Relative to the data root (`jobs/<id>/sample.png`).
   * @returns The URL (without the token).
   */
  fileUrl(path: string): string {
    return `${this.baseUrl}/files/${path.split("/").map(encodeURIComponent).join("/")}`;
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return this.token === undefined ? extra : { ...extra, authorization: `Bearer ${this.token}` };
  }

  private async post(payload: unknown): Promise<unknown> {
    const res = await this.fetchFn(`${this.baseUrl}/rpc`, {
      method: "POST",
      headers: this.headers({ "content-type": "application/json" }),
      body: JSON.stringify(payload),
    });
    if (res.status === 204) {
      await res.body?.cancel();
      return null;
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new RpcClientError(
        0,
        `POST /rpc answered HTTP ${res.status}: ${text.slice(0, 200)}`,
        undefined,
        res.status,
      );
    }
    if (!res.ok) {
      const r = body as { jsonrpc?: string; error?: unknown };
      if (r?.jsonrpc === "2.0" && typeof r.error === "object" && r.error !== null) {
        const e = r.error as { code: number; message: string; data?: unknown };
        throw new RpcClientError(e.code, e.message, e.data, res.status);
      }
      const why = typeof r?.error === "string" ? r.error : text.slice(0, 200);
      throw new RpcClientError(
        0,
        `POST /rpc answered HTTP ${res.status}: ${why}`,
        body,
        res.status,
      );
    }
    return body;
  }
}

interface Response_ {
  jsonrpc: "2.0";
  id: number | string | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

function request(method: string, params: unknown, id?: number): Record<string, unknown> {
  const r: Record<string, unknown> = { jsonrpc: "2.0", method };
  if (params !== undefined) r.params = params;
  if (id !== undefined) r.id = id;
  return r;
}

function toError(r: Response_): RpcClientError {
  const e = r?.error ?? { code: 0, message: "Malformed response" };
  return new RpcClientError(e.code, e.message, e.data);
}

function unwrap(r: Response_): unknown {
  if (r === null || typeof r !== "object" || Array.isArray(r)) {
    throw new RpcClientError(0, "Malformed response");
  }
  if (r.error !== undefined) throw toError(r);
  return r.result;
}

function parseEvent(block: string): RpcEvent | null {
  let event = "message";
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id") id = value;
  }
  if (data.length === 0) return null;
  const text = data.join("\n");
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return id === undefined ? { event, data: parsed } : { event, data: parsed, id };
}
