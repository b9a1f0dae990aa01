import { bodyLimit, Hono } from "./deps.ts";
import { DataRoot } from "./data_root.ts";
import type { MethodSpec } from "./define_method.ts";
import type { JobKind } from "./job_kind.ts";
import { type JobEvent, JobQueue, type JobService } from "./job_queue.ts";
import { jobIdPattern, JobStore } from "./job_store.ts";
import { jobStartMethod } from "./job_start_method.ts";
import { MethodRegistry } from "./method_registry.ts";
import { ModelHost } from "./model_host.ts";
import { RpcHandler } from "./rpc_handler.ts";
import { RpcError, RpcErrorCode } from "./rpc_error.ts";
import type { RpcServices } from "./rpc_services.ts";
import { servedMethods } from "./served_methods.ts";
import { TokenizerCache } from "./tokenizer_cache.ts";
import { filesPath, hasToken, hostAllowed, isClientAbort } from "./_http_guard.ts";
import { PHOTO_UPLOAD_LIMITS, savePhotoUpload, type UploadedPhoto } from "./photo_upload.ts";

/** Options of {@linkcode createRpcApp}. */
export interface RpcAppOptions {
  /** The data root: job records, job outputs, `.model` files; every path is confined to it. */
  dataRoot: string;
  /** Bearer token required on `/rpc`, `/events` and `/files` (default none). */
  token?: string;
  /** The bind address, for the Host-header check without a token (default `127.0.0.1`). */
  host?: string;
  /** Synchronous methods (default: those of `servedMethods()`). */
  methods?: MethodSpec[];
  /** Job kinds, each served as `<name>.start` (default: those of `servedMethods()`). */
  jobKinds?: JobKind[];
  /** The `--backend` choice handed to compute plug-ins (default automatic). */
  backend?: string;
  /**
   * The model host (default a new one): pass the one given to `servedMethods({ models })` when
   * building custom `methods`/`jobKinds`. `close()` closes it.
   */
  models?: ModelHost;
  /** Jobs running at once (default 1). */
  concurrency?: number;
  /** Jobs waiting at most (default 100). */
  maxQueued?: number;
  /** Largest request body in bytes; larger answers HTTP 413 (default 10 MiB). */
  maxBodyBytes?: number;
  /** Most calls in a batch (default 1000). */
  maxBatch?: number;
  /** Time limit of a synchronous call in ms (default 30 000). */
  timeoutMs?: number;
  /** Most simultaneous `/events` subscribers (default 64). */
  maxSubscribers?: number;
  /** Interval of SSE keep-alive comments in ms (default 15 000). */
  heartbeatMs?: number;
  /** Where warnings and errors go (default `console.error`). */
  log?: (message: string) => void;
  /**
   * `redis://HOST:PORT`: jobs go to BullMQ on Redis and run in `deno task worker` processes
   * (`RedisJobQueue`; `concurrency` is then the workers' business); default: the embedded queue.
   */
  queue?: string;
  /** Key namespace in Redis (default `dreambooth`). */
  queuePrefix?: string;
}

/** What {@linkcode createRpcApp} returns. */
export interface RpcApp {
  /** The Hono app (`app.fetch` is the request handler). */
  readonly app: Hono;
  /** Shorthand for `app.fetch`: hand it to `Deno.serve`. */
  readonly fetch: (request: Request) => Promise<Response>;
  /** The shared state the methods see. */
  readonly services: RpcServices;
  /** The methods served (without `rpc.discover`). */
  readonly registry: MethodRegistry;
  /**
   * Ends every `/events` stream, stops the job queue (running jobs become `interrupted`) and the
   * model worker; call before (or after) shutting the HTTP server down.
   */
  close(): Promise<void>;
}

const version = "0.1.0";

/**
 * Builds the JSON-RPC server: a Hono app with
 *
 * - `POST /rpc`: JSON-RPC 2.0 (single calls, notifications, batches); `Content-Type` must be
 *   `application/json` (else 415: a browser cannot send that cross-origin without a preflight,
 *   which this server never grants); bodies over `maxBodyBytes` answer HTTP 413 with a JSON-RPC
 *   -32600 error body; a batch over `maxBatch` calls answers one -32600 error; notifications only
 *   answer 204.
 * - `GET /events[?job=<id>]`: Server-Sent Events `job` (status changes, the whole record) and
 *   `progress` (`{id, kind, step, total, etaSeconds, …}`), a `hello` event first.
 * - `GET /health`: `{status: "ok", version, uptimeSeconds, jobs, backend}` (no token needed).
 * - `GET /files/<path>`: a file under the data root (images a job wrote), confined to it.
 * - `POST /upload`: subject photos as `multipart/form-data` (file parts; `NAME.txt` parts are
 *   captions), checked and stored in `uploads/<id>/`; answers `{upload, files}` for
 *   `train.start {upload}`, or HTTP 400 with a JSON-RPC error object naming each bad file.
 *
 * With `token`, every route but `/health` needs `Authorization: Bearer <token>` (or
 * `?access_token=` on GET) and answers 401 otherwise. Without one, requests whose Host header is
 * not loopback (or the bind address) answer 403, against DNS rebinding. Every promise is caught:
 * tfjs-backend-wasm rethrows unhandled rejections, which would end the process.
 *
 * @param options Data root, token, methods, limits.
 * @returns The app and its services.
 *
 * @example
 * ```ts
 * import { createRpcApp } from "./create_rpc_app.ts";
 * const dir = await Deno.makeTempDir();
 * const rpc = await createRpcApp({ dataRoot: dir });
 * const res = await rpc.fetch(new Request("http://127.0.0.1/rpc", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ jsonrpc: "2.0", method: "tokenizer.encode", params: { text: "a dog" }, id: 1 }),
 * }));
 * console.log(await res.json()); // { jsonrpc: "2.0", id: 1, result: { ids: [3, 9, 1782] } }
 * await rpc.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function createRpcApp(options: RpcAppOptions): Promise<RpcApp> {
  const models = options.models ?? new ModelHost({ backend: options.backend });
  const defaults = servedMethods({ backend: options.backend, models });
  const {
    token,
    host = "127.0.0.1",
    methods = defaults.methods,
    jobKinds = defaults.jobKinds,
    backend,
    concurrency = 1,
    maxQueued = 100,
    maxBodyBytes = 10 * 1024 * 1024,
    maxBatch = 1000,
    timeoutMs = 30_000,
    maxSubscribers = 64,
    heartbeatMs = 15_000,
    log = console.error,
  } = options;
  if (token !== undefined && (typeof token !== "string" || token.length < 8 || /\s/.test(token))) {
    throw new RangeError(
      "Cannot create the RPC app as 'token' must be at least 8 characters without spaces",
    );
  }
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1024) {
    throw new RangeError(
      `Cannot create the RPC app as 'maxBodyBytes' must be an integer ≥ 1024: current value is ${maxBodyBytes}`,
    );
  }

  const dataRoot = await DataRoot.open(options.dataRoot);
  const jobs = await openJobs(options, dataRoot, { concurrency, maxQueued, log });
  const services: RpcServices = {
    dataRoot,
    jobs,
    tokenizers: new TokenizerCache(dataRoot),
    models,
    backend,
    startedAt: Date.now(),
  };
  const registry = new MethodRegistry(methods);
  for (const kind of jobKinds) {
    jobs.register(kind);
    registry.add(jobStartMethod(kind));
  }
  const handler = new RpcHandler(registry, services, {
    maxBatch,
    timeoutMs,
    onError: (message, error) => log(`${message} ${(error as Error)?.stack ?? String(error)}`),
    redact: (text) => dataRoot.redact(text),
  });

  const streams = new Set<() => void>();
  const app = new Hono();
  addErrorHandlers(app, log);
  app.get("/health", (c) =>
    c.json({
      status: "ok",
      version,
      uptimeSeconds: Math.round((Date.now() - services.startedAt) / 1000),
      jobs: jobs.counts(),
      backend: backend ?? "auto",
    }));
  addAccessGuard(app, token, host);
  addRpcRoute(app, handler, maxBodyBytes);
  addUploadRoute(app, dataRoot, log);
  addEventsRoute(app, { jobs, streams, maxSubscribers, heartbeatMs });
  addFilesRoute(app, dataRoot);

  const fetch = async (request: Request): Promise<Response> => {
    try {
      return await app.fetch(request);
    } catch (err) {
      log(`Unexpected error: ${(err as Error)?.stack ?? err}`);
      return new Response(JSON.stringify({ error: "Internal server error" }), {
        status: 500,
        headers: { "content-type": "application/json" },
      });
    }
  };

  return {
    app,
    fetch,
    services,
    registry,
    async close() {
      for (const end of [...streams]) end();
      await jobs.shutdown();
      models.close();
    },
  };
}

/** The job queue: BullMQ on Redis with `queue`, else the embedded one over the data root. */
async function openJobs(
  options: RpcAppOptions,
  dataRoot: DataRoot,
  settings: { concurrency: number; maxQueued: number; log: (message: string) => void },
): Promise<JobService> {
  const { concurrency, maxQueued, log } = settings;
  if (options.queue === undefined) {
    const store = await JobStore.open(dataRoot, { warn: log });
    return new JobQueue(store, { concurrency, maxQueued, warn: log });
  }
  // Loaded only here: the embedded queue (the default) never loads BullMQ.
  const { RedisJobQueue } = await import("./redis_job_queue.ts");
  return await RedisJobQueue.open(options.queue, {
    dataRoot,
    prefix: options.queuePrefix,
    warn: log,
  });
}

function contentType(path: string): string {
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  const types: Record<string, string> = {
    png: "image/png",
    jpg: "image/jpeg",
    jpeg: "image/jpeg",
    webp: "image/webp",
    gif: "image/gif",
    svg: "image/svg+xml",
    json: "application/json",
    txt: "text/plain; charset=utf-8",
    log: "text/plain; charset=utf-8",
    csv: "text/csv; charset=utf-8",
    html: "text/plain; charset=utf-8",
  };
  return types[ext] ?? "application/octet-stream";
}

/** Answers errors thrown by handlers (400 for a client that went away, else 500) and unknown routes (404). */
function addErrorHandlers(app: Hono, log: (message: string) => void): void {
  app.onError((err, c) => {
    if (isClientAbort(err)) {
      log(
        `Client aborted ${c.req.method} ${c.req.path}: the connection closed before the request was read (${err?.name})`,
      );
      return c.json({ error: "Bad request: the client closed the connection" }, 400);
    }
    log(`Unexpected error on ${c.req.method} ${c.req.path}: ${err?.stack ?? err}`);
    return c.json({ error: "Internal server error" }, 500);
  });
  app.notFound((c) => c.json({ error: `Not found: ${c.req.method} ${c.req.path}` }, 404));
}

/** With a token: every route but `/health` needs it (401). Without: a non-local Host header answers 403. */
function addAccessGuard(app: Hono, token: string | undefined, host: string): void {
  app.use("*", async (c, next) => {
    if (token === undefined) {
      if (!hostAllowed(c.req.raw, host)) {
        return c.json({ error: "Forbidden: the Host header is not this server's" }, 403);
      }
    } else if (c.req.path !== "/health" && !hasToken(c.req.raw, token)) {
      c.header("WWW-Authenticate", 'Bearer realm="dreambooth-rpc"');
      return c.json({ error: "Unauthorized: send 'Authorization: Bearer <token>'" }, 401);
    }
    await next();
  });
}

/** `POST /rpc`: JSON bodies only (415), at most `maxBodyBytes` (413), handed to the JSON-RPC handler. */
function addRpcRoute(app: Hono, handler: RpcHandler, maxBodyBytes: number): void {
  app.post(
    "/rpc",
    async (c, next) => {
      const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
      if (type !== "application/json" && type !== "application/json-rpc") {
        return c.json(
          {
            jsonrpc: "2.0",
            id: null,
            error: {
              code: RpcErrorCode.InvalidRequest,
              message: "Invalid Request: send the body with 'Content-Type: application/json'",
            },
          },
          415,
        );
      }
      await next();
    },
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) =>
        c.json(
          {
            jsonrpc: "2.0",
            id: null,
            error: {
              code: RpcErrorCode.InvalidRequest,
              message:
                `Invalid Request: the body exceeds the limit of ${maxBodyBytes} bytes (server option --max-body-mb; send large photos with POST /upload)`,
            },
          },
          413,
        ),
    }),
    async (c) => {
      const body = await c.req.text();
      const response = await handler.handle(body);
      if (response === null) return c.body(null, 204);
      return c.json(response);
    },
  );
}

/** An HTTP answer carrying a JSON-RPC error object (no id: `/upload` is not a JSON-RPC call). */
function errorBody(code: number, message: string, data?: unknown) {
  return {
    jsonrpc: "2.0",
    id: null,
    error: { code, message, ...(data !== undefined && { data }) },
  };
}

/**
 * `POST /upload`: subject photos as `multipart/form-data` (every file part is a photo, whatever its
 * field name; a part `NAME.txt` is the caption of `NAME.jpg`), checked like `train.start`'s
 * `photos` and stored in `uploads/<id>/`. Refuses cross-site browser requests (an HTML form may post
 * multipart without a preflight).
 */
function addUploadRoute(app: Hono, dataRoot: DataRoot, log: (message: string) => void): void {
  const maxSize = PHOTO_UPLOAD_LIMITS.maxTotalBytes + 2 ** 20;
  app.post(
    "/upload",
    async (c, next) => {
      const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
      if (type !== "multipart/form-data") {
        const message = "Invalid Request: send the photos as 'Content-Type: multipart/form-data'";
        return c.json(errorBody(RpcErrorCode.InvalidRequest, message), 415);
      }
      const origin = c.req.header("origin");
      const site = c.req.header("sec-fetch-site");
      let foreign = site !== undefined && site !== "same-origin" && site !== "none";
      try {
        foreign ||= origin !== undefined && new URL(origin).host !== c.req.header("host");
      } catch {
        foreign = true;
      }
      if (foreign) return c.json({ error: "Forbidden: cross-site upload" }, 403);
      await next();
    },
    bodyLimit({
      maxSize,
      onError: (c) =>
        c.json(
          errorBody(
            RpcErrorCode.InvalidRequest,
            `Invalid Request: the upload exceeds the limit of ${maxSize} bytes (100 MiB of photos)`,
          ),
          413,
        ),
    }),
    async (c) => {
      let form: FormData;
      try {
        form = await c.req.raw.formData();
      } catch {
        const message = "Invalid Request: the body is not readable multipart/form-data";
        return c.json(errorBody(RpcErrorCode.InvalidRequest, message), 400);
      }
      const photos: UploadedPhoto[] = [];
      const captions = new Map<string, string>();
      for (const [, value] of form.entries()) {
        if (typeof value === "string") continue;
        if (/\.txt$/i.test(value.name) && value.size <= 64 * 1024) {
          captions.set(value.name.slice(0, -4), (await value.text()).trim());
        } else {
          photos.push({ name: value.name, bytes: new Uint8Array(await value.arrayBuffer()) });
        }
      }
      for (const p of photos) {
        const stem = p.name.replace(/\.[^.]+$/, "");
        const caption = captions.get(stem);
        captions.delete(stem);
        if (caption) p.caption = caption;
      }
      if (captions.size > 0) {
        const files = [...captions.keys()].map((stem) => ({
          name: `${stem}.txt`,
          reason: "is a caption of no photo (NAME.txt goes with NAME.jpg/.png/.webp)",
        }));
        const list = files.map((f) => `${JSON.stringify(f.name)} ${f.reason}`).join("; ");
        const message = `Invalid params: 'photos' has a bad file: ${list}`;
        const body = errorBody(RpcErrorCode.InvalidParams, message, { field: "photos", files });
        return c.json(JSON.parse(dataRoot.redact(JSON.stringify(body))), 400);
      }
      try {
        return c.json(await savePhotoUpload(dataRoot, photos, { via: "multipart" }));
      } catch (err) {
        if (err instanceof RpcError) {
          const { code, message, data } = err.toObject() as {
            code: number;
            message: string;
            data?: unknown;
          };
          const body = errorBody(code, dataRoot.redact(message), data);
          return c.json(JSON.parse(dataRoot.redact(JSON.stringify(body))), 400);
        }
        log(`Upload failed: ${(err as Error)?.stack ?? err}`);
        return c.json(errorBody(RpcErrorCode.InternalError, "Internal error: upload failed"), 500);
      }
    },
  );
}

/** What the `/events` streams share: the job service, the open streams (their cleanups) and limits. */
interface EventStreams {
  jobs: JobService;
  streams: Set<() => void>;
  maxSubscribers: number;
  heartbeatMs: number;
}

/** `GET /events[?job=<id>]`: a Server-Sent Events stream of job and progress events. */
function addEventsRoute(app: Hono, events: EventStreams): void {
  app.get("/events", (c) => {
    const jobFilter = c.req.query("job");
    if (jobFilter !== undefined && !jobIdPattern.test(jobFilter)) {
      return c.json({ error: "Bad request: 'job' must be a job id" }, 400);
    }
    if (events.streams.size >= events.maxSubscribers) {
      return c.json({ error: `Too many event subscribers (${events.maxSubscribers})` }, 503);
    }
    return eventStream(events, jobFilter);
  });
}

/** `GET /files/<path>`: a file under the data root, confined to it. */
function addFilesRoute(app: Hono, dataRoot: DataRoot): void {
  app.get("/files/*", async (c) => {
    // Resolved once, from the path as sent: `..` is refused by the data root, not folded here.
    const rel = filesPath(c.req.raw.url);
    if (rel === null) return c.json({ error: "Bad request: malformed path" }, 400);
    let path: string;
    try {
      path = await dataRoot.resolve(rel, { field: "path" });
    } catch (err) {
      if (err instanceof RpcError) {
        const missing = err.message.includes("existing");
        return c.json(
          { error: dataRoot.redact(err.message.replace(/^Invalid params: /, "")) },
          missing ? 404 : 403,
        );
      }
      throw err;
    }
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch {
      return c.json({ error: "Not found" }, 404);
    }
    const info = await file.stat();
    if (!info.isFile) {
      file.close();
      return c.json({ error: "Not found: not a file" }, 404);
    }
    return new Response(file.readable, {
      headers: {
        "content-type": contentType(path),
        "content-length": String(info.size),
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; sandbox",
        "cache-control": "no-store",
      },
    });
  });
}

/** One SSE subscriber's stream: `hello`, then `job`/`progress` events (of one job with `jobFilter`). */
function eventStream(events: EventStreams, jobFilter: string | undefined): Response {
  const { jobs, streams, heartbeatMs } = events;
  const encoder = new TextEncoder();
  let seq = 0;
  let cleanup = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      const write = (text: string) => {
        if (closed) return;
        try {
          if ((controller.desiredSize ?? 0) < -1024) throw new Error("subscriber too slow");
          controller.enqueue(encoder.encode(text));
        } catch {
          cleanup();
        }
      };
      const send = (event: string, data: unknown) =>
        write(`id: ${++seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      const unsubscribe = jobs.subscribe((ev: JobEvent) => {
        const id = ev.type === "job" ? ev.job.id : ev.id;
        if (jobFilter !== undefined && id !== jobFilter) return;
        if (ev.type === "job") send("job", ev.job);
        else send("progress", { id: ev.id, kind: ev.kind, ...ev.progress });
      });
      const heartbeat = setInterval(() => write(": keep-alive\n\n"), heartbeatMs);
      cleanup = () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        clearInterval(heartbeat);
        streams.delete(cleanup);
        try {
          controller.close();
        } catch {
          // already closed or cancelled
        }
      };
      streams.add(cleanup);
      write("retry: 3000\n\n");
      send("hello", { version, jobs: jobs.counts() });
      if (jobFilter !== undefined) {
        try {
          send("job", jobs.get(jobFilter));
        } catch {
          // unknown job: nothing to send yet
        }
      }
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    },
  });
}
