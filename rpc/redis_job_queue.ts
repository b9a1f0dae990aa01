import type { DataRoot } from "./data_root.ts";
import type { JobKind } from "./job_kind.ts";
import type { JobEvent, JobFilter, JobService } from "./job_queue.ts";
import { finishedStatuses, type JobProgress, type JobRecord } from "./job_record.ts";
import { RpcError, RpcErrorCode } from "./rpc_error.ts";
import {
  closeRedis,
  connectRedis,
  type RedisKeys,
  redisKeys,
  settleWithin,
} from "./_redis_keys.ts";
import { Queue, QueueEvents, Redis } from "./redis_deps.ts";
import { showValue } from "./_show_value.ts";
import { JobEvents } from "./_job_events.ts";
import { JobKinds, newJobRecord } from "./_job_kinds.ts";

/** Options of {@linkcode RedisJobQueue.open}. */
export interface RedisJobQueueOptions {
  /** The shared store (`--store`): `prepare` checks path params against it. */
  dataRoot: DataRoot;
  /** Key namespace in Redis (default `dreambooth`); server and workers must agree. */
  prefix?: string;
  /** Tries per job, the first included (default 3). */
  attempts?: number;
  /** First retry delay in ms, doubled at each retry (default 2000). */
  backoffMs?: number;
  /** How many jobs may wait; more is refused with -32005 (default 1000). */
  maxQueued?: number;
  /** Where warnings go (default `console.warn`). */
  warn?: (message: string) => void;
}

/**
 * The job queue on Redis (`deno task serve --queue redis://…`): jobs go to BullMQ, one queue per
 * kind, and run in `deno task worker` processes on any machine that reaches Redis and mounts the
 * shared store. Job records live in Redis (they survive a server restart, and `jobs.list` shows
 * the jobs of every worker); the server keeps a mirror of them, updated from a pub/sub channel the
 * workers write to, so `jobs.get` and `jobs.list` answer at once. Progress arrives through
 * BullMQ's `updateProgress` (QueueEvents) and reaches `GET /events` like the embedded queue's.
 * Cancelling a running job sets a flag in Redis and tells the workers; the one that holds the
 * job aborts it at its next step. Stopping the server leaves the jobs running on the workers.
 *
 * @example
 * ```ts ignore
 * import { DataRoot } from "./data_root.ts";
 * import { RedisJobQueue } from "./redis_job_queue.ts";
 * const queue = await RedisJobQueue.open("redis://127.0.0.1:6379", {
 *   dataRoot: await DataRoot.open("/mnt/shared/store"),
 * });
 * console.log(queue.list().length);
 * await queue.shutdown();
 * ```
 */
export class RedisJobQueue implements JobService {
  private readonly keys: RedisKeys;
  private readonly dataRoot: DataRoot;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly maxQueued: number;
  private readonly warn: (message: string) => void;
  private readonly kindMap = new JobKinds();
  private readonly queues = new Map<string, Queue>();
  private readonly events: QueueEvents[] = [];
  private readonly records = new Map<string, JobRecord>();
  private readonly jobEvents: JobEvents;
  private readonly poll: ReturnType<typeof setInterval>;
  private stopping = false;
  private reconcileTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(
    private readonly url: string,
    private readonly cmd: Redis,
    private readonly sub: Redis,
    options: RedisJobQueueOptions,
  ) {
    const { attempts = 3, backoffMs = 2000, maxQueued = 1000, warn = console.warn } = options;
    for (const [name, value] of Object.entries({ attempts, maxQueued })) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(
          `Cannot create the job queue as '${name}' must be a positive integer: current value is ${
            showValue(value)
          }`,
        );
      }
    }
    this.keys = redisKeys(options.prefix);
    this.dataRoot = options.dataRoot;
    this.attempts = attempts;
    this.backoffMs = backoffMs;
    this.maxQueued = maxQueued;
    this.warn = warn;
    this.jobEvents = new JobEvents(warn);
    // A record message missed while Redis was unreachable must not leave a waiter hanging.
    this.poll = setInterval(() => this.refreshWaited().catch(() => {}), 2000);
  }

  /**
   * Connects, loads every job record from Redis and subscribes to record changes.
   *
   * @param url `redis://host:port`.
   * @param options The shared store, prefix, retries, warning sink.
   * @returns The queue.
   */
  static async open(url: string, options: RedisJobQueueOptions): Promise<RedisJobQueue> {
    const warn = options.warn ?? console.warn;
    const cmd = connectRedis(url, warn, Redis);
    const sub = connectRedis(url, warn, Redis);
    const queue = new RedisJobQueue(url, cmd, sub, options);
    try {
      await queue.load();
    } catch (err) {
      await queue.shutdown();
      throw err;
    }
    return queue;
  }

  private async load(): Promise<void> {
    const { keys } = this;
    await this.sub.subscribe(keys.recordChannel);
    this.sub.on("message", (_channel: string, message: string) => {
      try {
        this.apply(JSON.parse(message));
      } catch (err) {
        this.warn(`Ignoring a job record message: ${(err as Error).message}`);
      }
    });
    const ids: string[] = await this.cmd.zrange(keys.ids, 0, -1);
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const texts: (string | null)[] = await this.cmd.mget(...chunk.map((id) => keys.record(id)));
      for (const text of texts) {
        if (text === null) continue;
        const record = JSON.parse(text) as JobRecord;
        this.records.set(record.id, record);
      }
    }
  }

  /**
   * Adds a job kind; its BullMQ queue and progress events are opened here.
   *
   * @param kind The kind; its name must be new.
   */
  register(kind: JobKind): void {
    this.kindMap.add(kind);
    const connection = { url: this.url, maxRetriesPerRequest: null };
    this.queues.set(kind.name, new Queue(kind.name, { connection, prefix: this.keys.prefix }));
    const events = new QueueEvents(kind.name, { connection, prefix: this.keys.prefix });
    events.on("progress", ({ data }: { jobId: string; data: unknown }) => {
      const p = data as { id?: string; progress?: JobProgress };
      if (typeof p?.id !== "string" || p.progress === undefined) return;
      const record = this.records.get(p.id);
      if (record !== undefined) record.progress = p.progress;
      this.jobEvents.emit({ type: "progress", id: p.id, kind: kind.name, progress: p.progress });
    });
    // A job BullMQ gave up on (e.g. stalled more often than allowed) whose worker could not say so.
    events.on("failed", ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
      this.settleGone(kind.name, jobId, failedReason).catch(() => {});
    });
    events.on("error", (err: Error) => this.warn(`Redis events: ${err.message}`));
    this.events.push(events);
    clearTimeout(this.reconcileTimer);
    this.reconcileTimer = setTimeout(() => this.reconcile().catch(() => {}), 500);
  }

  /**
   * Records still `queued`/`running` whose BullMQ job failed for good or vanished while no
   * server listened become `failed` or `interrupted` (resumable with `jobs.resume`).
   */
  private async reconcile(): Promise<void> {
    for (const record of [...this.records.values()]) {
      if (finishedStatuses.includes(record.status) || this.stopping) continue;
      const bullId = await this.cmd.hget(this.keys.bullIds, record.id);
      const job = bullId === null ? undefined : await this.queues.get(record.kind)?.getJob(bullId);
      if (job === undefined) {
        await this.write({
          ...record,
          status: "interrupted",
          finishedAt: new Date().toISOString(),
          error: { name: "Interrupted", message: "Its queue entry is gone from Redis" },
        });
      } else if ((await job.getState()) === "failed") {
        await this.settleGone(record.kind, String(bullId), job.failedReason);
      }
    }
  }

  private async settleGone(kind: string, bullId: string, reason: string): Promise<void> {
    const job = await this.queues.get(kind)?.getJob(bullId);
    const id = (job?.data as { id?: string } | undefined)?.id;
    if (id === undefined) return;
    const record = await this.fresh(id);
    if (finishedStatuses.includes(record.status)) return;
    await this.write({
      ...record,
      status: "failed",
      finishedAt: new Date().toISOString(),
      error: { name: "Error", message: reason || "BullMQ gave up on the job" },
    });
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
   * Queues a job in BullMQ (with retries and exponential back-off) after writing its record.
   *
   * @param kindName A registered kind.
   * @param params Its params (validated with the kind's schema; `prepare` runs here).
   * @returns The new record (status `queued`).
   */
  async submit(kindName: string, params: unknown): Promise<JobRecord> {
    const { kind, checked } = this.kindMap.parse(kindName, params);
    this.checkRoom(); // before `prepare`, which may store files (uploaded photos), and after it
    const parsed = (await kind.prepare?.(checked, { dataRoot: this.dataRoot })) ?? checked;
    this.checkRoom();
    const record = newJobRecord(kind, parsed);
    const id = record.id;
    await this.cmd.zadd(this.keys.ids, Date.now(), id);
    await this.write(record);
    await this.enqueue(record);
    return structuredClone(this.records.get(id)!);
  }

  /**
   * One job.
   *
   * @param id The job id.
   * @returns Its record (from the mirror of Redis).
   */
  get(id: string): JobRecord {
    const record = this.records.get(id);
    if (record === undefined) {
      throw new RpcError(RpcErrorCode.NotFound, `Unknown job '${id}'`, { id });
    }
    return structuredClone(record);
  }

  /**
   * Jobs of every worker, newest first.
   *
   * @param filter Status, kind, limit.
   * @returns The records.
   */
  list(filter: JobFilter = {}): JobRecord[] {
    const { status, kind, limit = Infinity } = filter;
    return [...this.records.values()]
      .filter((r) =>
        (status === undefined || status.includes(r.status)) &&
        (kind === undefined || r.kind === kind)
      )
      .sort((
        a,
        b,
      ) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1))
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }

  /**
   * How many jobs wait and run, over all workers.
   *
   * @returns The counts.
   */
  counts(): { queued: number; running: number } {
    let queued = 0;
    let running = 0;
    for (const r of this.records.values()) {
      if (r.status === "queued") queued++;
      else if (r.status === "running" || r.status === "cancelling") running++;
    }
    return { queued, running };
  }

  /**
   * Cancels a job: a waiting one is taken out of BullMQ at once; for a running one a flag is set
   * in Redis and the worker holding it is told, which aborts it at its next step (`cancelling`,
   * then `cancelled`).
   *
   * @param id The job id.
   * @returns The record after the change.
   */
  async cancel(id: string): Promise<JobRecord> {
    const record = await this.fresh(id);
    if (record.status === "cancelling") return record;
    if (finishedStatuses.includes(record.status)) {
      throw new RpcError(
        RpcErrorCode.Conflict,
        `Cannot cancel job '${id}' as it already finished: status is ${record.status}`,
        { id, status: record.status },
      );
    }
    await this.cmd.set(this.keys.cancel(id), "1");
    if (record.status === "queued") {
      const bullId = await this.cmd.hget(this.keys.bullIds, id);
      const removed = bullId === null ? 0 : await this.queues.get(record.kind)?.remove(bullId);
      if (removed === 1) {
        await this.write({
          ...record,
          status: "cancelled",
          finishedAt: new Date().toISOString(),
          error: { name: "Cancelled", message: "Cancelled before it started" },
        });
        return this.get(id);
      }
      // A worker took it a moment ago: it sees the flag.
    }
    await this.write({ ...record, status: "cancelling" });
    await this.cmd.publish(this.keys.cancelChannel, id);
    return this.get(id);
  }

  /**
   * Queues a stopped job of a resumable kind again; the worker that takes it continues from the
   * checkpoint in the shared store.
   *
   * @param id The job id.
   * @returns The record (status `queued`).
   */
  async resume(id: string): Promise<JobRecord> {
    const record = await this.fresh(id);
    this.kindMap.assertResumable(record);
    this.checkRoom();
    await this.cmd.del(this.keys.cancel(id));
    const queued: JobRecord = { ...record, status: "queued" };
    delete queued.finishedAt;
    delete queued.error;
    await this.write(queued);
    await this.enqueue(queued);
    return this.get(id);
  }

  /**
   * Waits until a job has finished.
   *
   * @param id The job id.
   * @returns Its final record.
   */
  wait(id: string): Promise<JobRecord> {
    return this.jobEvents.wait(this.get(id));
  }

  /**
   * Subscribes to job events (status changes and progress, from every worker).
   *
   * @param listener Called synchronously for each event; its errors are caught.
   * @returns A function that unsubscribes.
   */
  subscribe(listener: (event: JobEvent) => void): () => void {
    return this.jobEvents.subscribe(listener);
  }

  /**
   * Disconnects. Jobs keep running on the workers and their records stay in Redis: a server
   * started again later lists them.
   *
   * @returns When closed.
   */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.poll);
    clearTimeout(this.reconcileTimer);
    await Promise.all([
      ...this.events.map((e) => settleWithin(e.close(), 1000)),
      ...[...this.queues.values()].map((q) => settleWithin(q.close(), 1000)),
    ]);
    await Promise.all([closeRedis(this.sub), closeRedis(this.cmd)]);
  }

  private checkRoom(): void {
    if (this.stopping) throw new RpcError(RpcErrorCode.Busy, "The server is shutting down");
    if (this.counts().queued >= this.maxQueued) {
      throw new RpcError(
        RpcErrorCode.Busy,
        `The job queue is full (${this.maxQueued} jobs waiting): try again later`,
      );
    }
  }

  private async enqueue(record: JobRecord): Promise<void> {
    const job = await this.queues.get(record.kind)!.add(record.kind, { id: record.id }, {
      attempts: this.attempts,
      backoff: { type: "exponential", delay: this.backoffMs },
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    });
    await this.cmd.hset(this.keys.bullIds, record.id, String(job.id));
  }

  /** Writes a record to Redis and tells every subscriber (this server included). */
  private async write(record: JobRecord): Promise<void> {
    const text = JSON.stringify(record);
    this.apply(record);
    await this.cmd.multi()
      .set(this.keys.record(record.id), text)
      .publish(this.keys.recordChannel, text)
      .exec();
  }

  private async fresh(id: string): Promise<JobRecord> {
    const text = await this.cmd.get(this.keys.record(id));
    if (text !== null) this.apply(JSON.parse(text), false);
    return this.get(id);
  }

  private async refreshWaited(): Promise<void> {
    for (const id of this.jobEvents.waited()) await this.fresh(id);
  }

  /** Takes a record into the mirror; emits and wakes waiters when it changed. */
  private apply(record: JobRecord, always = true): void {
    const before = this.records.get(record.id);
    const changed = before === undefined || before.status !== record.status ||
      before.attempts !== record.attempts || before.finishedAt !== record.finishedAt;
    if (before?.progress !== undefined && record.progress === undefined && !changed) {
      record.progress = before.progress;
    }
    this.records.set(record.id, record);
    if (!changed && !always) return;
    if (changed) this.jobEvents.emit({ type: "job", job: structuredClone(record) });
    this.jobEvents.settle(record);
  }
}
