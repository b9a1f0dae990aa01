/**
 * `deno task serve`: the JSON-RPC 2.0 server on 127.0.0.1:8787 (see README and `createRpcApp`).
 *
 * ```sh
 * npx -y deno@2.9.6 task serve [--host 127.0.0.1] [--port 8787] [--token T] [--data-root runs/rpc]
 *                              [--backend auto|tensorflow|wasm-native|wasm|cpu|webgpu]
 *                              [--concurrency 1] [--max-body-mb 10] [--max-batch 1000] [--timeout-s 30]
 * ```
 *
 * The token may also come from `DREAMBOOTH_RPC_TOKEN` (keeps it out of `ps`). Binding anywhere
 * but loopback without a token is refused. The first line printed is
 * `Listening on http://HOST:PORT/` (with `--port 0`, the port the system chose).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parseServeArgs } from "./serve_args.ts";
import { createRpcApp } from "./create_rpc_app.ts";

const usage = `Usage: deno task serve [options]
  --host ADDR        bind address (default 127.0.0.1; off loopback needs a token)
  --port N           port (default 8787; 0 = any free port)
  --token T          bearer token (or env DREAMBOOTH_RPC_TOKEN)
  --data-root DIR    job records, outputs and .model files (default runs/rpc)
  --backend NAME     tfjs backend for compute jobs: auto, tensorflow, wasm-native, wasm, cpu, webgpu
  --concurrency N    compute jobs at once (default 1)
  --max-body-mb N    request body limit in MiB (default 10)
  --max-batch N      calls per batch (default 1000)
  --timeout-s N      time limit of a synchronous call (default 30)`;

async function main(): Promise<number> {
  let config;
  try {
    const { values } = parseArgs({
      args: Deno.args,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        token: { type: "string" },
        "data-root": { type: "string" },
        backend: { type: "string" },
        concurrency: { type: "string" },
        "max-body-mb": { type: "string" },
        "max-batch": { type: "string" },
        "timeout-s": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (values.help) {
      console.log(usage);
      return 0;
    }
    config = parseServeArgs(values, Deno.env.get("DREAMBOOTH_RPC_TOKEN"));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }

  const rpc = await createRpcApp({
    dataRoot: config.dataRoot,
    token: config.token,
    host: config.host,
    backend: config.backend,
    concurrency: config.concurrency,
    maxBodyBytes: config.maxBodyBytes,
    maxBatch: config.maxBatch,
    timeoutMs: config.timeoutMs,
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
    console.log("Stopping: running jobs become 'interrupted' (resumable with jobs.resume)");
    rpc.close()
      .catch((err) => console.error(`Error while stopping: ${err}`))
      .finally(() => ac.abort());
  };
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  return 0;
}

if (import.meta.main) Deno.exit(await main());
