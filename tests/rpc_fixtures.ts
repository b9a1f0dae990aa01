/**
 * Test fixtures of rpc/ (not served by `deno task serve`): the JSON-RPC 2.0 specification's
 * example methods, a `debug.sleep` job kind standing in for compute jobs, and a helper that
 * starts the server on 127.0.0.1 port 0 with a temporary data root.
 *
 * @module
 */
import {
  busyMainThreadJob,
  busyWorkerJob,
  createRpcApp,
  defineMethod,
  type MethodSpec,
  ModelHost,
  type RpcApp,
  type RpcAppOptions,
  s,
  servedMethods,
  sleepJob,
} from "../rpc/mod.ts";

export { busyMainThreadJob, busyWorkerJob, sleepJob } from "../rpc/mod.ts";

/** The methods the specification's examples call (`subtract`, `update`, `sum`, …). */
export const specMethods: MethodSpec[] = [
  defineMethod({
    name: "subtract",
    summary: "minuend - subtrahend (positional or named params).",
    params: s.unknown(),
    handler: (p) => {
      if (Array.isArray(p)) return (p[0] as number) - (p[1] as number);
      const { minuend, subtrahend } = p as { minuend: number; subtrahend: number };
      return minuend - subtrahend;
    },
  }),
  defineMethod({
    name: "update",
    summary: "Does nothing.",
    params: s.unknown(),
    handler: () => {},
  }),
  defineMethod({
    name: "sum",
    summary: "Adds numbers.",
    params: s.unknown(),
    handler: (p) => (p as number[]).reduce((a, b) => a + b, 0),
  }),
  defineMethod({
    name: "notify_hello",
    summary: "Does nothing.",
    params: s.unknown(),
    handler: () => {},
  }),
  defineMethod({
    name: "get_data",
    summary: "Returns ['hello', 5].",
    params: s.unknown(),
    handler: () => ["hello", 5],
  }),
];

/** A running test server. */
export interface TestServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The app (services, registry). */
  rpc: RpcApp;
  /** The temporary data root. */
  dir: string;
  /** Stops the server and the queue and removes the data root (unless `keep`). */
  close(keep?: boolean): Promise<void>;
}

/**
 * Starts the server on 127.0.0.1, port 0, with a temporary data root (or `dir`), the served
 * methods plus the spec methods, and the `debug.sleep` job kind.
 *
 * @param options Overrides of `createRpcApp`'s options.
 * @returns The server.
 */
export async function startTestServer(
  options: Partial<RpcAppOptions> = {},
): Promise<TestServer> {
  const dir = options.dataRoot ?? await Deno.makeTempDir({ prefix: "rpc-test-" });
  const models = new ModelHost({ backend: options.backend });
  const served = servedMethods({ backend: options.backend, models });
  const warnings: string[] = [];
  const rpc = await createRpcApp({
    methods: [...served.methods, ...specMethods],
    jobKinds: [...served.jobKinds, sleepJob, busyWorkerJob, busyMainThreadJob],
    log: (m) => warnings.push(m),
    models,
    ...options,
    dataRoot: dir,
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, rpc.fetch);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    rpc,
    dir,
    async close(keep = false) {
      await rpc.close();
      await server.shutdown();
      if (!keep) await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * POSTs a body to `/rpc` and reads the answer.
 *
 * @param url The server's base URL.
 * @param body The raw body.
 * @param headers Extra headers (content type defaults to JSON).
 * @returns Status and body text (parsed when JSON).
 */
export async function postRpc(
  url: string,
  body: string | Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; json: unknown }> {
  const res = await fetch(`${url}/rpc`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, text, json };
}

/**
 * Polls `check` until it returns `true`, failing after `timeoutMs` (tests stop by themselves).
 *
 * @param what What is awaited, for the failure message.
 * @param check The condition.
 * @param timeoutMs Limit (default 10 000).
 */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Awaits `promise`, failing after `timeoutMs` (tests stop by themselves).
 *
 * @param promise What to await.
 * @param timeoutMs Limit (default 10 000).
 * @returns Its value.
 */
export async function within<T>(promise: Promise<T>, timeoutMs = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
