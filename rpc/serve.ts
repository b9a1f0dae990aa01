/**
 * `deno task serve`: the JSON-RPC 2.0 server on 127.0.0.1:8787 (see README and `createRpcApp`).
 *
 * ```sh
 * npx -y deno@2.9.6 task serve [--host 127.0.0.1] [--port 8787] [--token T] [--data-root runs/rpc]
 *                              [--backend auto|tensorflow|native|wasm-native|wasm|cpu|webgpu]
 *                              [--concurrency 1] [--max-body-mb 10] [--max-batch 1000] [--timeout-s 30]
 *                              [--queue redis://HOST:PORT --store DIR]
 * ```
 *
 * With `--queue`, jobs go to BullMQ on Redis and run in `deno task worker` processes (see
 * rpc/worker.ts); `--store` is the shared folder they all mount.
 *
 * The token may also come from `DREAMBOOTH_RPC_TOKEN` (keeps it out of `ps`). Binding anywhere
 * but loopback without a token is refused. The first line printed is
 * `Listening on http://HOST:PORT/` (with `--port 0`, the port the system chose).
 *
 * @module
 */
import { runCli } from "../params/mod.ts";
import { type ServeConfig, serveConfig, serveParams } from "./serve_args.ts";
import { createRpcApp } from "./create_rpc_app.ts";

/**
 * Runs the server until SIGINT/SIGTERM.
 *
 * @param args Arguments without the script name (e.g. `Deno.args`).
 * @returns The exit code: 0 after a clean stop or `--help`, 2 for a bad command line (the usage
 * follows its message), 1 for a runtime error (its message only).
 *
 * @example
 * ```ts
 * import { main } from "./serve.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCli(args, {
    params: serveParams,
    usage: "deno task serve [options]",
    summary: "The JSON-RPC 2.0 server (POST /rpc; GET /events, /files/…).",
  }, (values) => serve(serveConfig(values, Deno.env.get("DREAMBOOTH_RPC_TOKEN"))));
}

async function serve(config: ServeConfig): Promise<number> {
  const rpc = await createRpcApp({
    dataRoot: config.dataRoot,
    token: config.token,
    host: config.host,
    backend: config.backend,
    concurrency: config.concurrency,
    maxBodyBytes: config.maxBodyBytes,
    maxBatch: config.maxBatch,
    timeoutMs: config.timeoutMs,
    queue: config.queue,
  });
  // Last line of defence: a stray rejection is logged, never fatal (see DESIGN.md on tfjs-wasm).
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    console.error(`Unhandled rejection (server kept running): ${e.reason?.stack ?? e.reason}`);
  });
  const ac = new AbortController();
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    signal: ac.signal,
    onListen({ hostname, port }) {
      const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
      console.log(`Listening on http://${shown}:${port}/`);
      console.log(
        `data root ${rpc.services.dataRoot.path}; token ${config.token ? "required" : "off"}; ` +
          `methods: ${rpc.registry.list().map((m) => m.name).join(", ")}, rpc.discover`,
      );
    },
  }, rpc.fetch);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    console.log(
      config.queue === undefined
        ? "Stopping: running jobs become 'interrupted' (resumable with jobs.resume)"
        : "Stopping: jobs keep running on the workers; their records stay in Redis",
    );
    rpc.close()
      .catch((err) => console.error(`Error while stopping: ${err}`))
      .finally(() => ac.abort());
  };
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
