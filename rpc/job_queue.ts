import { join } from "node:path";
import { JobEvents } from "./_job_events.ts";
import { JobKinds, newJobRecord } from "./_job_kinds.ts";
import type { JobContext, JobKind, ProgressUpdate } from "./job_kind.ts";
import type { JobProgress, JobRecord, JobStatus } from "./job_record.ts";
import type { JobStore } from "./job_store.ts";
import { RpcError, RpcErrorCode } from "./rpc_error.ts";
import { showValue } from "./_show_value.ts";
import { progressTracker } from "./_job_progress.ts";

/** What subscribers of a {@linkcode JobQueue} (and of `GET /events`) receive. */
export type JobEvent =
  | { type: "job"; job: JobRecord }
  | { type: "progress"; id: string; kind: string; progress: JobProgress };

/** Options of the {@linkcode JobQueue} constructor. */
export interface JobQueueOptions {
  /** How many jobs run at once (default 1: compute jobs share the machine). */
  concurrency?: number;
  /** How many jobs may wait; more is refused with -32005 (default 100). */
  maxQueued?: number;
  /** Progress is written to disk at most this often, in ms (default 1000); status changes at once. */
  progressSaveIntervalMs?: number;
  /** Where runner errors and warnings go (default `console.warn`). */
  warn?: (message: string) => void;
}

/** Filter of {@linkcode JobQueue.list}. */
export interface JobFilter {
  /** Only these statuses. */
  status?: readonly JobStatus[];
  /** Only this kind. */
  kind?: string;
  /** At most this many, newest first (default all). */
  limit?: number;
}

/**
 * What the server's methods and `GET /events` need from a job queue: the embedded
 * {@linkcode JobQueue} (one process) and `RedisJobQueue` (BullMQ workers on other processes or
 * machines) both provide it, so `jobs.*`, `<kind>.start` and the event stream behave the same.
 */
export interface JobService {
  /** Adds a job kind (its name must be new). */
  register(kind: JobKind): void;
  /** The registered kinds, in registration order. */
  kinds(): JobKind[];
  /** Queues a job (params validated, `prepare` run); the new record. */
  submit(kindName: string, params: unknown): Promise<JobRecord>;
  /** One record; throws RpcError -32004 for an unknown id. */
  get(id: string): JobRecord;
  /** Records, newest first. */
  list(filter?: JobFilter): JobRecord[];
  /** How many jobs wait and run. */
  counts(): { queued: number; running: number };
  /** Cancels a queued or running job. */
  cancel(id: string): Promise<JobRecord>;
  /** Queues a stopped job of a resumable kind again, continuing from its checkpoint. */
  resume(id: string): Promise<JobRecord>;
  /** Waits until a job has finished. */
  wait(id: string): Promise<JobRecord>;
  /** Subscribes to status changes and progress; returns the unsubscribe function. */
  subscribe(listener: (event: JobEvent) => void): () => void;
  /** Stops the queue (what happens to running jobs depends on the implementation). */
  shutdown(graceMs?: number): Promise<void>;
}

interface Active {
  controller: AbortController;
  done: Promise<void>;
}

const cancelledReason = "cancelled";
const shutdownReason = "shutdown";

/**
 * The job queue: runs registered {@linkcode JobKind}s one at a time (by default) in submission
 * order, reports progress with an ETA to subscribers, cancels through an `AbortSignal` at the
 * runner's next step, persists every record through a {@linkcode JobStore}, and continues
 * resumable jobs on request. Every promise it starts is caught: a failing runner fails its job,
 * never the server.
 *
 * @example
 * ```ts
 * import { DataRoot } from "./data_root.ts";
 * import { JobStore } from "./job_store.ts";
 * import { JobQueue } from "./job_queue.ts";
 * import { defineJobKind } from "./job_kind.ts";
 * import { s } from "./schema.ts";
 * const dir = await Deno.makeTempDir();
 * const queue = new JobQueue(await JobStore.open(await DataRoot.open(dir)));
 * queue.register(defineJobKind({
 *   name: "count",
 *   summary: "Counts to n.",
 *   params: s.object({ n: s.integer({ minimum: 1 }) }),
 *   async run({ n }, { progress }) {
 *     for (let i = 1; i <= n; i++) progress({ step: i, total: n });
 *     return { counted: n };
 *   },
 * }));
 * const job = await queue.submit("count", { n: 3 });
 * const done = await queue.wait(job.id);
 * console.log(done.status, done.result); // succeeded { counted: 3 }
 * await queue.shutdown();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class JobQueue implements JobService {
  /** The record store. */
  readonly store: JobStore;
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly progressSaveIntervalMs: number;
  private readonly warn: (message: string) => void;
  private readonly kindMap = new JobKinds();
  private readonly pending: string[] = [];
  private readonly active = new Map<string, Active>();
  private readonly events: JobEvents;
  private stopping = false;

  /**
   * @param store Where records live; unfinished records were already marked interrupted by it.
   * @param options Concurrency, queue length, progress save interval, warning sink.
   */
  constructor(store: JobStore, options: JobQueueOptions = {}) {
    const {
      concurrency = 1,
      maxQueued = 100,
      progressSaveIntervalMs = 1000,
      warn = console.warn,
    } = options;
    for (const [name, value] of Object.entries({ concurrency, maxQueued })) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(
          `Cannot create the job queue as '${name}' must be a positive integer: current value is ${
            showValue(value)
          }`,
        );
      }
    }
    this.store = store;
    this.concurrency = concurrency;
    this.maxQueued = maxQueued;
    this.progressSaveIntervalMs = progressSaveIntervalMs;
    this.warn = warn;
    this.events = new JobEvents(warn);
  }

  /**
   * Adds a job kind.
   *
   * @param kind The kind; its name must be new.
   * @throws {RangeError} When a kind of that name is registered already.
   */
  register(kind: JobKind): void {
    this.kindMap.add(kind);
  }

  /**
   * The registered kinds.
   *
   * @returns Them, in registration order.
   */
  kinds(): JobKind[] {
    return this.kindMap.list();
  }

  /**
   * Queues a job.
   *
   * @param kindName A registered kind.
   * @param params Its params (validated again with the kind's schema).
   * @returns The new record (status `queued`, or `running` if it started at once).
   * @throws {RpcError} -32602 for invalid params or an unknown kind, -32005 when the queue is
   * full or shutting down.
   */
  async submit(kindName: string, params: unknown): Promise<JobRecord> {
    const { kind, checked } = this.kindMap.parse(kindName, params);
    // Room is checked before `prepare` (which may store files, e.g. uploaded photos) and after it.
    this.checkRoom();
    const parsed = (await kind.prepare?.(checked, { dataRoot: this.store.root })) ?? checked;
    this.checkRoom();
    const record = newJobRecord(kind, parsed);
    const id = record.id;
    await this.store.save(record);
    this.pending.push(id);
    this.events.emit({ type: "job", job: record });
    this.pump();
    return this.store.get(id)!;
  }

  /** Throws -32005 when the server is stopping or the queue is full. */
  private checkRoom(): void {
    if (this.stopping) throw new RpcError(RpcErrorCode.Busy, "The server is shutting down");
    if (this.pending.length >= this.maxQueued) {
      throw new RpcError(
        RpcErrorCode.Busy,
        `The job queue is full (${this.maxQueued} jobs waiting): try again later`,
      );
    }
  }

  /**
   * One job.
   *
   * @param id The job id.
   * @returns Its record.
   * @throws {RpcError} -32004 for an unknown id.
   */
  get(id: string): JobRecord {
    const record = this.store.get(id);
    if (record === undefined) {
      throw new RpcError(RpcErrorCode.NotFound, `Unknown job '${id}'`, { id });
    }
    return record;
  }

  /**
   * Jobs, newest first.
   *
   * @param filter Status, kind, limit.
   * @returns The records.
   */
  list(filter: JobFilter = {}): JobRecord[] {
    const { status, kind, limit = Infinity } = filter;
    return this.store.list()
      .filter((r) =>
        (status === undefined || status.includes(r.status)) &&
        (kind === undefined || r.kind === kind)
      )
      .slice(0, limit);
  }

  /**
   * How many jobs wait and run.
   *
   * @returns The counts.
   */
  counts(): { queued: number; running: number } {
    return { queued: this.pending.length, running: this.active.size };
  }

  /**
   * Cancels a job: a queued one at once, a running one at its next step (status `cancelling`
   * until its runner returns, then `cancelled`). Cancelling a `cancelling` job changes nothing.
   *
   * @param id The job id.
   * @returns The record after the change.
   * @throws {RpcError} -32004 for an unknown id, -32009 for a job that already finished.
   */
  async cancel(id: string): Promise<JobRecord> {
    const record = this.get(id);
    if (record.status === "queued") {
      this.pending.splice(this.pending.indexOf(id), 1);
      await this.finish(record, "cancelled", {
        error: { name: "Cancelled", message: "Cancelled before it started" },
      });
      return this.get(id);
    }
    if (record.status === "running") {
      record.status = "cancelling";
      await this.store.save(record);
      this.events.emit({ type: "job", job: record });
      this.active.get(id)?.controller.abort(cancelledReason);
      return this.get(id);
    }
    if (record.status === "cancelling") return record;
    throw new RpcError(
      RpcErrorCode.Conflict,
      `Cannot cancel job '${id}' as it already finished: status is ${record.status}`,
      { id, status: record.status },
    );
  }

  /**
   * Queues an interrupted, cancelled or failed job of a resumable kind again, in its own folder
   * with `context.resume` set, so its runner continues from its last checkpoint.
   *
   * @param id The job id.
   * @returns The record (status `queued` or `running`).
   * @throws {RpcError} -32004 for an unknown id; -32009 when the kind is not resumable or not
   * available on this server, or the job is not stopped.
   */
  async resume(id: string): Promise<JobRecord> {
    const record = this.get(id);
    this.kindMap.assertResumable(record);
    if (this.stopping) throw new RpcError(RpcErrorCode.Busy, "The server is shutting down");
    if (this.pending.length >= this.maxQueued) {
      throw new RpcError(
        RpcErrorCode.Busy,
        `The job queue is full (${this.maxQueued} jobs waiting)`,
      );
    }
    record.status = "queued";
    delete record.finishedAt;
    delete record.error;
    await this.store.save(record);
    this.pending.push(id);
    this.events.emit({ type: "job", job: record });
    this.pump();
    return this.get(id);
  }

  /**
   * Waits until a job has finished (any of `succeeded`, `failed`, `cancelled`, `interrupted`).
   *
   * @param id The job id.
   * @returns Its final record.
   * @throws {RpcError} -32004 for an unknown id.
   */
  wait(id: string): Promise<JobRecord> {
    return this.events.wait(this.get(id));
  }

  /**
   * Subscribes to job events (status changes and progress).
   *
   * @param listener Called synchronously for each event; its errors are caught.
   * @returns A function that unsubscribes.
   */
  subscribe(listener: (event: JobEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  /**
   * Stops: queued jobs become `interrupted`, running ones are aborted and become `interrupted`
   * when their runner returns (waiting at most `graceMs`), and every record is written.
   *
   * @param graceMs How long to wait for running jobs (default 10 000).
   * @returns When done.
   */
  async shutdown(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const id of this.pending.splice(0)) {
      const record = this.store.get(id);
      if (record !== undefined) {
        await this.finish(record, "interrupted", {
          error: { name: "Interrupted", message: "The server stopped before the job started" },
        });
      }
    }
    const running = [...this.active.values()];
    for (const a of running) a.controller.abort(shutdownReason);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(running.map((a) => a.done)),
      new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
    await this.store.flush();
  }

  private pump(): void {
    while (!this.stopping && this.active.size < this.concurrency && this.pending.length > 0) {
      const id = this.pending.shift()!;
      const controller = new AbortController();
      const entry: Active = { controller, done: Promise.resolve() };
      this.active.set(id, entry);
      entry.done = this.runJob(id, controller)
        .catch((err) => this.warn(`Job ${id} could not be run: ${(err as Error).message}`))
        .finally(() => {
          this.active.delete(id);
          this.pump();
        });
    }
  }

  private async runJob(id: string, controller: AbortController): Promise<void> {
    const record = this.get(id);
    const kind = this.kindMap.get(record.kind)!;
    const signal = controller.signal;
    const resume = record.attempts > 0;
    record.status = "running";
    record.startedAt = new Date().toISOString();
    record.attempts += 1;
    delete record.progress;
    delete record.result;
    delete record.error;
    delete record.finishedAt;
    await this.store.save(record);
    this.events.emit({ type: "job", job: record });

    const dir = join(this.store.root.path, ...record.dir.split("/"));
    const track = progressTracker(Date.now());
    let lastSaveMs = 0;
    const progress = (update: ProgressUpdate): void => {
      if (signal.aborted) throw new DOMException(`Job '${id}' was ${signal.reason}`, "AbortError");
      const p = track(update);
      const now = Date.now();
      record.progress = p;
      const current = this.store.get(id);
      if (current !== undefined) {
        current.progress = p;
        if (now - lastSaveMs >= this.progressSaveIntervalMs) {
          lastSaveMs = now;
          this.store.save(current);
        } else {
          this.store.setInMemory(current);
        }
      }
      this.events.emit({ type: "progress", id, kind: record.kind, progress: p });
    };
    const context: JobContext = {
      id,
      signal,
      dir,
      relDir: record.dir,
      dataRoot: this.store.root.path,
      resume,
      progress,
    };
    let status: JobStatus;
    let extra: Partial<JobRecord> = {};
    try {
      await Deno.mkdir(dir, { recursive: true });
      const result = await kind.run(record.params, context);
      if (signal.aborted) {
        status = signal.reason === shutdownReason ? "interrupted" : "cancelled";
      } else {
        status = "succeeded";
      }
      extra = { result: JSON.parse(JSON.stringify(result ?? null)) };
    } catch (err) {
      if (signal.aborted) {
        status = signal.reason === shutdownReason ? "interrupted" : "cancelled";
        extra = {
          error: {
            name: status === "cancelled" ? "Cancelled" : "Interrupted",
            message: status === "cancelled"
              ? "Cancelled while running"
              : "The server stopped while the job was running",
          },
        };
      } else {
        status = "failed";
        const e = err instanceof Error ? err : new Error(String(err));
        extra = { error: { name: e.name, message: e.message } };
        this.warn(`Job ${id} (${record.kind}) failed: ${e.stack ?? e.message}`);
      }
    }
    const latest = this.store.get(id) ?? record;
    await this.finish(latest, status, extra);
  }

  private async finish(
    record: JobRecord,
    status: JobStatus,
    extra: Partial<JobRecord>,
  ): Promise<void> {
    // A record is for clients: the server's absolute folders (in an error, a result) are hidden.
    const shown = JSON.parse(this.store.root.redact(JSON.stringify(extra))) as Partial<JobRecord>;
    const done: JobRecord = {
      ...record,
      ...shown,
      status,
      finishedAt: new Date().toISOString(),
    };
    await this.store.save(done);
    this.events.emit({ type: "job", job: done });
    this.events.settle(done);
  }
}
