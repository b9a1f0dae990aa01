/**
 * `deno task worker`: runs the jobs that `deno task serve --queue redis://…` queues, on this
 * machine, each in its own child process.
 *
 * ```sh
 * npx -y deno@2.9.6 task worker --queue redis://HOST:6379 --store /mnt/shared/store \
 *   [--concurrency 1] [--kinds train,sample] [--backend auto]
 * ```
 *
 * `--store` must be the same shared folder the server and every other worker use (a job taken
 * over from a dead worker resumes from the checkpoint there). SIGINT/SIGTERM: running jobs stop
 * at their next step with a checkpoint and are left to BullMQ, which hands them to another
 * worker after the lock expires (`--lock-s`); that worker resumes them.
 *
 * @module
 */
import { backendNames, parseBackendName } from "../backend/mod.ts";
import { declareParams, type ParamDeclaration, runCli, UsageError } from "../params/mod.ts";
import { DataRoot } from "./data_root.ts";
import { servedMethods } from "./served_methods.ts";

const workerSpecs = {
  queue: {
    type: "string",
    pattern: /rediss?:\/\/\S+/,
    metavar: "URL",
    help: "redis://HOST:PORT of the server's --queue",
  },
  store: {
    type: "string",
    minLength: 1,
    default: "runs/rpc",
    metavar: "DIR",
    help: "the shared store (the server's --store, on a shared filesystem)",
  },
  concurrency: { type: "integer", min: 1, max: 256, default: 1, help: "jobs at once" },
  kinds: {
    type: "string",
    pattern: /[a-z][a-z0-9_.-]*(,[a-z][a-z0-9_.-]*)*/,
    metavar: "LIST",
    help: "only these job kinds, comma-separated (default all: sample,train,superres,eval)",
  },
  backend: {
    type: "enum",
    values: ["auto", ...backendNames],
    default: "auto",
    metavar: "NAME",
    help: "tfjs backend for the jobs",
  },
  name: { type: "string", minLength: 1, maxLength: 100, help: "this worker's name in logs" },
  lockS: {
    type: "number",
    min: 1,
    max: 3600,
    default: 30,
    option: "lock-s",
    help: "a dead worker's jobs go to another after this many seconds",
  },
  stalledS: {
    type: "number",
    min: 1,
    max: 3600,
    default: 15,
    option: "stalled-s",
    help: "how often to look for jobs of dead workers, in seconds",
  },
  graceS: {
    type: "number",
    min: 1,
    max: 3600,
    default: 60,
    option: "grace-s",
    help: "how long a cancelled job may take to checkpoint before it is killed",
  },
} as const;

/**
 * The parameters of `deno task worker`, declared once.
 *
 * @example
 * ```ts
 * import { workerParams } from "./worker.ts";
 * console.log(workerParams.specs.concurrency.default); // 1
 * ```
 */
export const workerParams: ParamDeclaration<typeof workerSpecs> = declareParams(
  "start the worker",
  workerSpecs,
);

/**
 * Runs the worker until SIGINT/SIGTERM.
 *
 * @param args Arguments without the script name.
 * @returns The exit code (2 for a bad command line).
 *
 * @example
 * ```ts
 * import { main } from "./worker.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCli(args, {
    params: workerParams,
    usage: "deno task worker --queue redis://HOST:PORT [options]",
    summary: "Runs the jobs of `deno task serve --queue …`, each in a child process.",
  }, async (values) => {
    if (values.queue === undefined) {
      throw new UsageError("Cannot start the worker as '--queue' is missing");
    }
    const backend = parseBackendName(values.backend);
    const all = servedMethods({ backend }).jobKinds;
    const wanted = values.kinds?.split(",");
    for (const k of wanted ?? []) {
      if (!all.some((kind) => kind.name === k)) {
        throw new UsageError(
          `Cannot start the worker as '--kinds' names an unknown kind ${JSON.stringify(k)} ` +
            `(known: ${all.map((kind) => kind.name).join(", ")})`,
        );
      }
    }
    const kinds = wanted === undefined ? all : all.filter((k) => wanted.includes(k.name));
    const { RedisJobWorker } = await import("./redis_job_worker.ts");
    const worker = await RedisJobWorker.start(values.queue, {
      dataRoot: await DataRoot.open(values.store),
      kinds,
      concurrency: values.concurrency,
      backend,
      name: values.name,
      lockDurationMs: Math.round(values.lockS * 1000),
      stalledIntervalMs: Math.round(values.stalledS * 1000),
      graceMs: Math.round(values.graceS * 1000),
    });
    console.log(
      `Worker ${worker.name} ready: kinds ${kinds.map((k) => k.name).join(",")}; ` +
        `concurrency ${values.concurrency}; store ${values.store}`,
    );
    globalThis.addEventListener("unhandledrejection", (e) => {
      e.preventDefault();
      console.error(`Unhandled rejection (worker kept running): ${e.reason?.stack ?? e.reason}`);
    });
    const { promise, resolve } = Promise.withResolvers<void>();
    const stop = () => {
      console.log(`Worker ${worker.name} stopping: running jobs checkpoint and go back to Redis`);
      worker.stop().finally(resolve);
    };
    Deno.addSignalListener("SIGINT", stop);
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
    await promise;
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
