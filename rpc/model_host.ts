import type { ProgressUpdate } from "./job_kind.ts";
import { RpcError, RpcErrorCode } from "./rpc_error.ts";

/** A model kept loaded by {@linkcode ModelHost}. */
export interface LoadedModel {
  /** Its name (what `sample` takes as `loaded`). */
  name: string;
  /** Where it came from: a checkpoint path relative to the data root, or `preset:<name>`. */
  source: string;
  /** Image size and default sampler steps of each stage, base first. */
  stages: { imageSize: number; steps: number }[];
  /** The tfjs backend it runs on. */
  backend: string;
  /** ISO time it was loaded. */
  loadedAt: string;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  progress?: (update: ProgressUpdate) => void;
}

/**
 * Keeps cascades loaded between calls (`model.load`, `model.unload`, `sample {loaded}`) in one
 * long-lived Worker, so tfjs and the weights never live on the server's thread. Requests run one
 * at a time inside the worker; a sample reports progress per step and stops at the next step
 * when its signal aborts. The worker starts on the first load and ends with `close()`.
 *
 * @example
 * ```ts
 * import { ModelHost } from "./model_host.ts";
 * const host = new ModelHost();
 * console.log(host.list()); // []
 * host.close();
 * ```
 */
export class ModelHost {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly models = new Map<string, LoadedModel>();
  private readonly backend: string | undefined;

  /**
   * @param options `backend`: the tfjs backend to prefer (default automatic).
   */
  constructor(options: { backend?: string } = {}) {
    this.backend = options.backend;
  }

  /**
   * Loads (or replaces) a model under a name.
   *
   * @param name The name.
   * @param source `path`: an absolute checkpoint path (already confined by the caller), shown as
   * `label`; or `preset`.
   * @returns What was loaded.
   */
  async load(
    name: string,
    source: { path: string; label: string } | { preset: string },
  ): Promise<LoadedModel> {
    const r = await this.request({
      op: "load",
      name,
      backend: this.backend,
      ...("path" in source ? { path: source.path } : { preset: source.preset }),
    }) as { stages: LoadedModel["stages"]; backend: string };
    const info: LoadedModel = {
      name,
      source: "path" in source ? source.label : `preset:${source.preset}`,
      stages: r.stages,
      backend: r.backend,
      loadedAt: new Date().toISOString(),
    };
    this.models.set(name, info);
    return structuredClone(info);
  }

  /**
   * Drops a model and frees its weights.
   *
   * @param name The name.
   * @returns Whether it was loaded.
   */
  async unload(name: string): Promise<boolean> {
    if (!this.models.has(name)) return false;
    this.models.delete(name);
    await this.request({ op: "unload", name });
    return true;
  }

  /**
   * The loaded models.
   *
   * @returns Copies, in load order.
   */
  list(): LoadedModel[] {
    return [...this.models.values()].map((m) => structuredClone(m));
  }

  /**
   * Whether a model of that name is loaded.
   *
   * @param name The name.
   * @returns `true` when loaded.
   */
  has(name: string): boolean {
    return this.models.has(name);
  }

  /**
   * Samples one image from a loaded model and writes it as PNG.
   *
   * @param name The loaded model.
   * @param params Prompt and sampler settings.
   * @param out The PNG's absolute path.
   * @param options `signal` stops it at the next step; `progress` gets each step.
   * @returns Size, seed and backend of the image.
   */
  async sample(
    name: string,
    params: {
      prompt: string;
      seed?: number;
      steps?: number;
      guidance?: number;
      sampler?: "ddim" | "ancestral";
      stages?: number;
    },
    out: string,
    options: { signal?: AbortSignal; progress?: (update: ProgressUpdate) => void } = {},
  ): Promise<
    { width: number; height: number; seed: number; backend: string; warnings?: string[] }
  > {
    if (!this.models.has(name)) {
      throw new RpcError(RpcErrorCode.NotFound, `No model '${name}' is loaded`, { name });
    }
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const onAbort = () => Atomics.store(flag, 0, 1);
    options.signal?.addEventListener("abort", onAbort);
    try {
      if (options.signal?.aborted) onAbort();
      return await this.request(
        { op: "sample", name, out, flag, params },
        options.progress,
      ) as { width: number; height: number; seed: number; backend: string; warnings?: string[] };
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Ends the worker (every loaded model with it); pending requests fail. */
  close(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.models.clear();
    for (const p of this.pending.values()) p.reject(new Error("The model host was closed"));
    this.pending.clear();
  }

  private request(
    message: Record<string, unknown>,
    progress?: (update: ProgressUpdate) => void,
  ): Promise<unknown> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, progress });
      worker.postMessage({ ...message, id });
    });
  }

  private ensureWorker(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(new URL("./_model_host_worker.ts", import.meta.url), {
      type: "module",
      name: "model-host",
    });
    worker.onmessage = (e: MessageEvent) => {
      const msg = e.data as {
        id: number;
        result?: unknown;
        progress?: ProgressUpdate;
        error?: { name: string; message: string };
      };
      const p = this.pending.get(msg.id);
      if (p === undefined) return;
      if (msg.progress !== undefined) {
        try {
          p.progress?.(msg.progress);
        } catch {
          // the job was cancelled: the flag stops the worker at its next step
        }
        return;
      }
      this.pending.delete(msg.id);
      if (msg.error !== undefined) {
        const err = new Error(msg.error.message);
        err.name = msg.error.name;
        p.reject(err);
      } else {
        p.resolve(msg.result);
      }
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      const err = new Error(`The model host crashed: ${e.message}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.models.clear();
      this.worker?.terminate();
      this.worker = undefined;
    };
    this.worker = worker;
    return worker;
  }
}
