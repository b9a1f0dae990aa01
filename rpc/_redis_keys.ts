import type { Redis } from "./redis_deps.ts";

/**
 * The Redis keys and channels shared by `RedisJobQueue` (the server) and `RedisJobWorker`. BullMQ
 * keeps its queues under `<prefix>:<kind>:…` (one queue per job kind, so that a worker can take
 * only some kinds); our job records live beside them.
 */
export interface RedisKeys {
  /** BullMQ's key prefix. */
  readonly prefix: string;
  /** The job record (JSON of a `JobRecord`). */
  record(id: string): string;
  /** Sorted set of every job id, scored by creation time. */
  readonly ids: string;
  /** Hash: job id → BullMQ job id of its current attempt. */
  readonly bullIds: string;
  /** The token of the worker attempt that holds the job (only it may write the record). */
  owner(id: string): string;
  /** Set while a job is cancelled (workers check it at start and at every progress report). */
  cancel(id: string): string;
  /** Hash: job id → how many times a worker finished it successfully (1 at most, tests check). */
  readonly completions: string;
  /** Pub/sub channel: a record's JSON after each write. */
  readonly recordChannel: string;
  /** Pub/sub channel: the id of a job to cancel. */
  readonly cancelChannel: string;
}

/**
 * The keys under a prefix.
 *
 * @param prefix Namespace (default `dreambooth`); letters, digits, `_`, `-`, `.`.
 * @returns The key names.
 */
export function redisKeys(prefix = "dreambooth"): RedisKeys {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) {
    throw new RangeError(
      `Cannot use the queue as 'prefix' must be 1–64 letters, digits, '_', '-' or '.': current value is ${
        JSON.stringify(prefix)
      }`,
    );
  }
  return {
    prefix,
    record: (id) => `${prefix}:rec:${id}`,
    ids: `${prefix}:ids`,
    bullIds: `${prefix}:bullids`,
    owner: (id) => `${prefix}:owner:${id}`,
    cancel: (id) => `${prefix}:cancel:${id}`,
    completions: `${prefix}:completions`,
    recordChannel: `${prefix}:records`,
    cancelChannel: `${prefix}:cancels`,
  };
}

/**
 * Checks a `redis://` URL and opens a connection for BullMQ (which needs
 * `maxRetriesPerRequest: null`). Connection errors are reported through `warn`, never thrown.
 *
 * @param url `redis://[user:password@]host:port[/db]` or `rediss://…`.
 * @param warn Where connection errors go.
 * @param RedisClass The ioredis class.
 * @returns The client.
 */
export function connectRedis(
  url: string,
  warn: (message: string) => void,
  RedisClass: typeof Redis,
): Redis {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(
      `Cannot use the queue as 'queue' must be a redis:// URL: current value is ${
        JSON.stringify(url)
      }`,
    );
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new RangeError(
      `Cannot use the queue as 'queue' must be a redis:// or rediss:// URL: current value is ${
        JSON.stringify(url)
      }`,
    );
  }
  const client = new RedisClass(url, { maxRetriesPerRequest: null });
  let last = "";
  client.on("error", (err: Error) => {
    if (err.message !== last) warn(`Redis: ${err.message}`);
    last = err.message;
  });
  return client;
}

/**
 * Closes a client without hanging: `quit`, then `disconnect` after `ms`.
 *
 * @param client The client.
 * @param ms Grace in ms (default 1000).
 * @returns When closed.
 */
export async function closeRedis(client: Redis, ms = 1000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    client.quit().catch(() => {}),
    new Promise((r) => (timer = setTimeout(r, ms))),
  ]);
  clearTimeout(timer);
  client.disconnect();
}

/**
 * Runs a promise with a time limit and swallows its error (closing BullMQ objects under Deno can
 * wait on a blocking read; a stopping process must not hang on it).
 *
 * @param promise The promise.
 * @param ms The limit.
 * @returns When it settled or the time ran out.
 */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise((r) => (timer = setTimeout(r, ms))),
  ]);
  clearTimeout(timer);
}
