/**
 * A throwaway `redis-server` on a free loopback port (for trying the Redis job queue on one machine,
 * its tests and bench/queue_bench.ts), and child processes (server, workers) whose output is kept
 * and searched.
 *
 * @example
 * ```ts
 * import { redisMissing, startRedis } from "./local_redis.ts";
 * if (redisMissing() === undefined) {
 *   const dir = await Deno.makeTempDir();
 *   const redis = await startRedis(dir);
 *   console.log(redis.url.startsWith("redis://127.0.0.1:")); // true
 *   await redis.proc.stop();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** Why Redis tests cannot run here, or `undefined` when `redis-server` is on PATH. */
export function redisMissing(): string | undefined {
  try {
    new Deno.Command("redis-server", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
    return undefined;
  } catch {
    return "redis-server is not installed (Debian: apt-get install redis-server; .ci/run does it)";
  }
}

/** A free TCP port on 127.0.0.1 (closed again; a tiny race is acceptable in tests). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Options of {@link WatchedProcess}. */
export interface WatchedProcessOptions {
  /** Names the process in errors (default: the command). */
  label?: string;
}

/** A child process whose stdout and stderr are collected into {@link WatchedProcess.output}. */
export class WatchedProcess {
  readonly child: Deno.ChildProcess;
  /** Everything it has written so far (stdout and stderr interleaved). */
  output = "";
  /** Settles when both streams have ended. */
  readonly done: Promise<void>;
  /** Names the process in errors. */
  readonly label: string;

  /**
   * Starts `cmd` with `args` (stdin closed).
   *
   * @param cmd The program.
   * @param args Its arguments.
   * @param options Its label.
   */
  constructor(cmd: string, args: string[], options: WatchedProcessOptions = {}) {
    this.label = options.label ?? cmd;
    this.child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" })
      .spawn();
    const pump = async (s: ReadableStream<Uint8Array>) => {
      for await (const t of s.pipeThrough(new TextDecoderStream())) this.output += t;
    };
    this.done = Promise.all([pump(this.child.stdout), pump(this.child.stderr)]).then(() => {});
  }

  /** Waits until the output matches. */
  async waitFor(re: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const m = this.output.match(re);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.label}: no ${re} within ${timeoutMs} ms; output:\n${this.output}`);
  }

  /** Sends a signal and waits for the end (SIGKILL after `ms`). */
  async stop(signal: Deno.Signal = "SIGTERM", ms = 15_000): Promise<void> {
    try {
      this.child.kill(signal);
    } catch {
      // gone
    }
    const t = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // gone
      }
    }, ms);
    await this.child.status;
    clearTimeout(t);
    await this.done;
  }
}

/** `redis-server` on a free port with a throwaway folder. */
export async function startRedis(
  dir: string,
): Promise<{ url: string; port: number; proc: WatchedProcess }> {
  const port = freePort();
  const proc = new WatchedProcess("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "no",
  ], { label: "redis" });
  await proc.waitFor(/Ready to accept connections/, 15_000);
  return { url: `redis://127.0.0.1:${port}`, port, proc };
}

/** Runs `redis-cli` against a port and returns its output. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("redis-cli", { args: ["-p", String(port), ...args] }).output();
  return new TextDecoder().decode(out.stdout);
}

/** Options of {@link startQueueProcess}. */
export interface QueueProcessOptions {
  /** The worker's name (`--name`, and the process label); only for `"worker"`. */
  name?: string;
  /** More arguments for rpc/serve.ts or rpc/worker.ts. */
  args?: string[];
}

/**
 * Starts `deno run -A rpc/serve.ts --port 0` (`"server"`) or `rpc/worker.ts` (`"worker"`) on the
 * Redis queue at `queue.url` with the store folder `queue.store`: what `deno task serve --queue`
 * and `deno task worker` run. The server prints `Listening on <url>`; a worker prints `ready`.
 *
 * @param role `"server"` or `"worker"`.
 * @param queue The Redis URL and the shared store folder.
 * @param options The worker's name and extra arguments.
 * @returns The watched process.
 */
export function startQueueProcess(
  role: "server" | "worker",
  queue: { url: string; store: string },
  options: QueueProcessOptions = {},
): WatchedProcess {
  const script = new URL(role === "server" ? "./serve.ts" : "./worker.ts", import.meta.url);
  const args = ["run", "-A", script.protocol === "file:" ? fileURLToPath(script) : script.href];
  if (role === "server") args.push("--port", "0");
  args.push("--queue", queue.url, "--store", queue.store);
  if (role === "worker" && options.name !== undefined) args.push("--name", options.name);
  args.push(...options.args ?? []);
  return new WatchedProcess(Deno.execPath(), args, { label: options.name ?? role });
}
