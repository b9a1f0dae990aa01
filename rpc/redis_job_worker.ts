import { join } from "node:path";
import type { DataRoot } from "./data_root.ts";
import type { JobKind, ProgressUpdate } from "./job_kind.ts";
import type { JobRecord } from "./job_record.ts";
import { progressTracker } from "./_job_progress.ts";
import {
  closeRedis,
  connectRedis,
  type RedisKeys,
  redisKeys,
  settleWithin,
} from "./_redis_keys.ts";
import { type Job, Redis, Worker } from "./redis_deps.ts";
import { showValue } from "./_show_value.ts";

/** Options of {@linkcode RedisJobWorker.start}. */
export interface RedisJobWorkerOptions {
  /** The shared store (`--store`): job folders, checkpoints, results. */
  dataRoot: DataRoot;
  /** The kinds this worker runs (the server's kinds; a subset with `--kinds`). */
  kinds: JobKind[];
  /** Jobs at once on this worker (default 1). */
  concurrency?: number;
  /** The `--backend` handed to the jobs (default automatic). */
  backend?: string;
  /** Key namespace (default `dreambooth`); as the server's. */
  prefix?: string;
  /** This worker's name in logs (default `<hostname>-<pid>`). */
  name?: string;
  /**
   * How long a job's lock lives without renewal, in ms (default 30 000): a worker that dies
   * loses its jobs to another worker after about this long.
   */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs of dead workers, in ms (default 15 000). */
  stalledIntervalMs?: number;
  /** How long a cancelled job may take to stop (checkpoint) before it is killed (default 60 000). */
  graceMs?: number;
  /** The script a job runs in (default rpc/_job_child.ts; tests may pass another). */
  childModule?: string | URL;
  /** Where this worker's log lines go (default `console.log`). */
  log?: (message: string) => void;
}

interface Running {
  child: Deno.ChildProcess;
  abort(reason: string): void;
  lost: boolean;
}

const marker = "\x01job ";

/** How a job process ended, as it said. */
type Outcome =
  | { type: "done"; result: unknown; aborted: boolean }
  | { type: "error"; name: string; message: string; aborted: boolean };

/**
 * Only the attempt that owns a job may write its record; a `running` write while the job is
 * cancelled is refused (-1) so that the worker writes `cancelling` instead. KEYS: record, owner,
 * cancel flag, completions; ARGV: token, record JSON, channel, status, final success (0/1), id.
 */
const writeScript = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if ARGV[4] == 'running' and redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[5] == '1' then redis.call('HINCRBY', KEYS[4], ARGV[6], 1) end
redis.call('PUBLISH', ARGV[3], ARGV[2])
return 1`;

/**
 * A BullMQ worker for the jobs that `deno task serve --queue` queues (`deno task worker`). Each
 * job runs in a child process (`deno run -A rpc/_job_child.ts`), so this process's event loop is
 * always free to renew the job's lock; the child's progress goes to BullMQ (`updateProgress`,
 * which the server relays to `GET /events`) and, once a second, into the job record in Redis. A
 * job that was started before (a retry, or a job taken over from a dead worker: BullMQ's stalled
 * check) runs with `resume: true` and continues from the checkpoint in the shared store. The
 * child's output is appended to `<store>/jobs/<id>/worker.log`, one header line per attempt.
 *
 * @example
 * ```ts ignore
 * import { DataRoot } from "./data_root.ts";
 * import { RedisJobWorker } from "./redis_job_worker.ts";
 * import { servedMethods } from "./served_methods.ts";
 * const worker = await RedisJobWorker.start("redis://127.0.0.1:6379", {
 *   dataRoot: await DataRoot.open("/mnt/shared/store"),
 *   kinds: servedMethods().jobKinds,
 * });
 * await worker.stop();
 * ```
 */
export class RedisJobWorker {
  /** This worker's name. */
  readonly name: string;
  private readonly keys: RedisKeys;
  private readonly options: RedisJobWorkerOptions;
  private readonly kindMap: Map<string, JobKind>;
  private readonly workers: Worker[] = [];
  private readonly running = new Map<string, Running>();
  private readonly log: (message: string) => void;
  private readonly concurrency: number;
  private stopping = false;
  private active = 0;
  private readonly slots: (() => void)[] = [];

  private constructor(
    private readonly url: string,
    private readonly cmd: Redis,
    private readonly sub: Redis,
    options: RedisJobWorkerOptions,
  ) {
    this.options = options;
    this.keys = redisKeys(options.prefix);
    this.kindMap = new Map(options.kinds.map((k) => [k.name, k]));
    this.name = options.name ?? `${Deno.hostname()}-${Deno.pid}`;
    this.log = options.log ?? console.log;
    this.concurrency = options.concurrency ?? 1;
  }

  /**
   * Connects and starts taking jobs.
   *
   * @param url `redis://host:port`.
   * @param options Store, kinds, concurrency, lock timing.
   * @returns The running worker.
   */
  static async start(url: string, options: RedisJobWorkerOptions): Promise<RedisJobWorker> {
    const { concurrency = 1, lockDurationMs = 30_000, stalledIntervalMs = 15_000 } = options;
    for (
      const [name, value] of Object.entries({ concurrency, lockDurationMs, stalledIntervalMs })
    ) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(
          `Cannot start the worker as '${name}' must be a positive integer: current value is ${
            showValue(value)
          }`,
        );
      }
    }
    if (options.kinds.length === 0) {
      throw new RangeError("Cannot start the worker as 'kinds' is empty");
    }
    const warn = (m: string) => (options.log ?? console.log)(m);
    const cmd = connectRedis(url, warn, Redis);
    const sub = connectRedis(url, warn, Redis);
    const worker = new RedisJobWorker(url, cmd, sub, options);
    await sub.subscribe(worker.keys.cancelChannel);
    sub.on("message", (_channel: string, id: string) => worker.running.get(id)?.abort("cancelled"));
    const connection = { url, maxRetriesPerRequest: null };
    for (const kind of options.kinds) {
      const w = new Worker(kind.name, (job: Job) => worker.process(job), {
        connection,
        prefix: worker.keys.prefix,
        concurrency,
        lockDuration: lockDurationMs,
        stalledInterval: stalledIntervalMs,
        maxStalledCount: 3,
      });
      w.on("error", (err: Error) => worker.log(`[${worker.name}] BullMQ: ${err.message}`));
      w.on("lockRenewalFailed", (ids: string[]) => worker.loseLocks(ids));
      worker.workers.push(w);
    }
    return worker;
  }

  /**
   * Stops taking jobs; running ones are aborted (they write a checkpoint) and left to BullMQ,
   * whose stalled check hands them to another worker, which resumes them.
   *
   * @param graceMs How long running jobs may take to stop (default 30 000).
   * @returns When stopped.
   */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await Promise.all(this.workers.map((w) => settleWithin(w.pause(true), 1000)));
    const children = [...this.running.values()];
    for (const r of children) r.abort("shutdown");
    await settleWithin(Promise.all(children.map((r) => r.child.status)), graceMs);
    for (const r of children) {
      try {
        r.child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    await Promise.all([closeRedis(this.sub), closeRedis(this.cmd)]);
  }

  private loseLocks(ids: string[]): void {
    for (const [id, r] of this.running) {
      if (!ids.some((bullId) => id === bullId || this.bullIdOf.get(id) === bullId)) continue;
      this.log(`[${this.name}] lost the lock of job ${id}: stopping it (another worker takes it)`);
      r.lost = true;
      try {
        r.child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  private readonly bullIdOf = new Map<string, string>();

  /**
   * Takes a slot of `concurrency` (over all kinds). At the limit, the BullMQ workers stop fetching
   * so that waiting jobs stay free for other workers; a job fetched in the same instant waits here.
   */
  private async acquire(): Promise<void> {
    while (this.active >= this.concurrency) {
      await new Promise<void>((resolve) => this.slots.push(resolve));
    }
    this.active++;
    if (this.active >= this.concurrency) {
      for (const w of this.workers) w.pause(true).catch(() => {});
    }
  }

  private release(): void {
    this.active--;
    this.slots.shift()?.();
    if (!this.stopping && this.active < this.concurrency) {
      for (const w of this.workers) if (w.isPaused()) w.resume().catch(() => {});
    }
  }

  private async process(job: Job): Promise<unknown> {
    await this.acquire();
    try {
      return await this.processHeld(job);
    } finally {
      this.release();
    }
  }

  private async processHeld(job: Job): Promise<unknown> {
    const id = String((job.data as { id?: unknown })?.id ?? "");
    const { keys } = this;
    if (this.stopping) return await new Promise(() => {}); // left for another worker
    const text = await this.cmd.get(keys.record(id));
    if (text === null) {
      this.log(`[${this.name}] job ${id}: no record in Redis, dropped`);
      return null;
    }
    const record = JSON.parse(text) as JobRecord;
    const kind = this.kindMap.get(record.kind);
    if (kind === undefined) throw new Error(`This worker has no job kind '${record.kind}'`);
    const token = `${this.name}:${job.id}:${crypto.randomUUID()}`;
    await this.cmd.set(keys.owner(id), token);
    this.bullIdOf.set(id, String(job.id));
    const write = async (r: JobRecord, finalSuccess = false): Promise<number> => {
      const res = await this.cmd.eval(
        writeScript,
        4,
        keys.record(id),
        keys.owner(id),
        keys.cancel(id),
        keys.completions,
        token,
        JSON.stringify(r),
        keys.recordChannel,
        r.status,
        finalSuccess ? "1" : "0",
        id,
      ) as number;
      if (res === -1) {
        return await write({ ...r, status: "cancelling" }, finalSuccess);
      }
      return res;
    };
    if (await this.cmd.exists(keys.cancel(id))) {
      await write({
        ...record,
        status: "cancelled",
        finishedAt: new Date().toISOString(),
        error: { name: "Cancelled", message: "Cancelled before it started" },
      });
      return { cancelled: true };
    }
    const resume = record.attempts > 0 && kind.resumable === true;
    const current: JobRecord = {
      ...record,
      status: "running",
      startedAt: new Date().toISOString(),
      attempts: record.attempts + 1,
    };
    delete current.progress;
    delete current.result;
    delete current.error;
    delete current.finishedAt;
    await write(current);
    const dir = join(this.options.dataRoot.path, ...record.dir.split("/"));
    await Deno.mkdir(dir, { recursive: true });
    const logFile = await Deno.open(join(dir, "worker.log"), { append: true, create: true });
    const logText = (t: string) => logFile.write(new TextEncoder().encode(t)).catch(() => {});
    await logText(
      `--- attempt ${current.attempts} on worker ${this.name} at ${current.startedAt}` +
        ` (resume: ${resume})\n`,
    );
    this.log(`[${this.name}] job ${id} (${record.kind}) attempt ${current.attempts} started`);
    try {
      return await this.runChild(job, kind, current, { dir, resume, write, logText });
    } finally {
      logFile.close();
      this.running.delete(id);
      this.bullIdOf.delete(id);
    }
  }

  private async runChild(
    job: Job,
    kind: JobKind,
    record: JobRecord,
    io: {
      dir: string;
      resume: boolean;
      write: (r: JobRecord, finalSuccess?: boolean) => Promise<number>;
      logText: (t: string) => Promise<unknown>;
    },
  ): Promise<unknown> {
    const { id } = record;
    const module = String(this.options.childModule ?? new URL("./_job_child.ts", import.meta.url));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", module],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdin = child.stdin.getWriter();
    const encoder = new TextEncoder();
    let abortReason: string | undefined;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const entry: Running = {
      child,
      lost: false,
      abort: (reason) => {
        if (abortReason !== undefined) return;
        abortReason = reason;
        stdin.write(encoder.encode(JSON.stringify({ type: "abort", reason }) + "\n"))
          .catch(() => {});
        killTimer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            // gone
          }
        }, this.options.graceMs ?? 60_000);
      },
    };
    this.running.set(id, entry);
    await stdin.write(encoder.encode(
      JSON.stringify({
        kind: kind.name,
        params: record.params,
        backend: this.options.backend,
        context: {
          id,
          dir: io.dir,
          relDir: record.dir,
          dataRoot: this.options.dataRoot.path,
          resume: io.resume,
        },
      }) + "\n",
    ));
    const track = progressTracker(Date.now());
    let lastSave = 0;
    let outcome: Outcome | undefined;
    const onLine = async (line: string) => {
      if (!line.startsWith(marker)) {
        await io.logText(line + "\n");
        return;
      }
      const msg = JSON.parse(line.slice(marker.length));
      if (msg.type === "progress") {
        const progress = track(msg.update as ProgressUpdate);
        record.progress = progress;
        await job.updateProgress({ id, progress }).catch(() => {});
        const now = Date.now();
        if (now - lastSave >= 1000) {
          lastSave = now;
          if (await this.cmd.exists(this.keys.cancel(id))) entry.abort("cancelled");
          await io.write(record).catch(() => {});
        }
      } else if (msg.type === "done" || msg.type === "error") {
        outcome = msg;
      }
    };
    await Promise.all([
      pumpLines(child.stdout, onLine),
      pumpLines(child.stderr, (line) => io.logText(line + "\n")),
    ]);
    const status = await child.status;
    clearTimeout(killTimer);
    await stdin.close().catch(() => {});
    if (entry.lost || this.stopping) {
      // Another worker has (or will have) the job: write nothing, finish nothing.
      return await new Promise(() => {});
    }
    return await this.settle(job, record, io.write, {
      outcome,
      aborted: abortReason !== undefined || outcome?.aborted === true,
      code: status.code,
    });
  }

  /** Writes the attempt's end into the record; a failure throws for BullMQ's retry. */
  private async settle(
    job: Job,
    record: JobRecord,
    write: (r: JobRecord, finalSuccess?: boolean) => Promise<number>,
    end: { outcome: Outcome | undefined; aborted: boolean; code: number },
  ): Promise<unknown> {
    const { id } = record;
    const { outcome, aborted } = end;
    const finishedAt = new Date().toISOString();
    if (aborted) {
      await write({
        ...record,
        status: "cancelled",
        finishedAt,
        ...(outcome?.type === "done"
          ? { result: outcome.result }
          : { error: { name: "Cancelled", message: "Cancelled while running" } }),
      });
      this.log(`[${this.name}] job ${id} cancelled`);
      return { cancelled: true };
    }
    if (outcome?.type === "done") {
      const done: JobRecord = {
        ...record,
        status: "succeeded",
        finishedAt,
        result: outcome.result,
      };
      if ((await write(done, true)) !== 1) {
        throw new Error(`Job ${id} finished here but another worker owns it now`);
      }
      this.log(`[${this.name}] job ${id} (${record.kind}) succeeded`);
      return outcome.result;
    }
    const error = outcome?.type === "error"
      ? { name: outcome.name, message: outcome.message }
      : { name: "Error", message: `The job process exited with ${showValue(end.code)}` };
    const attempts = job.opts.attempts ?? 1;
    const retry = job.attemptsMade + 1 < attempts;
    await write({
      ...record,
      status: retry ? "queued" : "failed",
      ...(retry ? {} : { finishedAt }),
      error,
    });
    this.log(
      `[${this.name}] job ${id} failed (${error.message})${retry ? ": retried with back-off" : ""}`,
    );
    const err = new Error(error.message);
    err.name = error.name;
    throw err;
  }
}

async function pumpLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => Promise<unknown> | unknown,
): Promise<void> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let i;
    while ((i = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      try {
        await onLine(line);
      } catch {
        // a malformed line is not fatal
      }
    }
  }
  if (buffer !== "") await onLine(buffer);
}
