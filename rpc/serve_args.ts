import { backendNames, parseBackendName } from "../backend/mod.ts";
import {
  declareParams,
  type ParamDeclaration,
  type ParamSpecs,
  type ParamValues,
  parseCliArgs,
  UsageError,
} from "../params/mod.ts";
import { isLoopback } from "./_http_guard.ts";

/** The server settings `deno task serve` runs with. */
export interface ServeConfig {
  /** Bind address. */
  host: string;
  /** Port (0: any free port). */
  port: number;
  /** Bearer token, if any. */
  token: string | undefined;
  /** Data root folder. */
  dataRoot: string;
  /** Backend name, or `undefined` for automatic. */
  backend: string | undefined;
  /** Compute jobs at once. */
  concurrency: number;
  /** Body limit in bytes. */
  maxBodyBytes: number;
  /** Calls per batch. */
  maxBatch: number;
  /** Time limit of a synchronous call in ms. */
  timeoutMs: number;
  /** `redis://…`: jobs go to BullMQ workers instead of the embedded queue. */
  queue?: string;
}

const serveSpecs = {
  host: {
    type: "string",
    minLength: 1,
    default: "127.0.0.1",
    metavar: "ADDR",
    help: "bind address (off loopback needs a token)",
  },
  port: { type: "integer", min: 0, max: 65535, default: 8787, help: "port (0 = any free port)" },
  // Length and spaces are checked in serveConfig, whose message does not echo the token.
  token: { type: "string", metavar: "T", help: "bearer token (or env DREAMBOOTH_RPC_TOKEN)" },
  dataRoot: {
    type: "string",
    minLength: 1,
    default: "runs/rpc",
    metavar: "DIR",
    help: "job records, outputs and .model files",
  },
  backend: {
    type: "enum",
    values: ["auto", ...backendNames],
    default: "auto",
    metavar: "NAME",
    help: "tfjs backend for compute jobs",
  },
  concurrency: { type: "integer", min: 1, max: 256, default: 1, help: "compute jobs at once" },
  maxBodyMb: {
    type: "number",
    exclusiveMin: 0,
    max: 4096,
    default: 10,
    option: "max-body-mb",
    help: "request body limit in MiB",
  },
  maxBatch: { type: "integer", min: 1, max: 1_000_000, default: 1000, help: "calls per batch" },
  timeoutS: {
    type: "number",
    exclusiveMin: 0,
    max: 86_400,
    default: 30,
    option: "timeout-s",
    help: "time limit of a synchronous call in seconds",
  },
  queue: {
    type: "string",
    pattern: /rediss?:\/\/\S+/,
    metavar: "URL",
    help: "redis://HOST:PORT: jobs go to BullMQ workers (deno task worker) instead of the " +
      "embedded queue",
  },
  store: {
    type: "string",
    minLength: 1,
    metavar: "DIR",
    help: "the shared store (with --queue: the path the workers mount too); replaces --data-root",
  },
} as const satisfies ParamSpecs;

/**
 * The parameters of `deno task serve`, declared once: the parser, the usage text and the checks
 * derive from them.
 *
 * @example
 * ```ts
 * import { serveParams } from "./serve_args.ts";
 * console.log(serveParams.specs.port.default); // 8787
 * ```
 */
export const serveParams: ParamDeclaration<typeof serveSpecs> = declareParams(
  "start the server",
  serveSpecs,
);

/** The flags by option name, as strings (what {@link parseServeArgs} also takes). */
export type ServeFlags = { [option: string]: string | undefined };

/**
 * Turns the checked values of {@link serveParams} into the server settings, with the rules that
 * join several values: a token needs 8 characters without spaces, binding off loopback needs one.
 *
 * @param values The values (from `parseCliArgs(serveParams, …)`).
 * @param envToken `DREAMBOOTH_RPC_TOKEN`, used when `--token` is absent.
 * @returns The settings.
 * @throws {UsageError} Naming the flag, for a bad token or an off-loopback bind without one.
 *
 * @example
 * ```ts
 * import { parseCliArgs } from "../params/mod.ts";
 * import { serveConfig, serveParams } from "./serve_args.ts";
 * const { values } = parseCliArgs(serveParams, ["--port", "0"]);
 * console.log(serveConfig(values).port); // 0
 * ```
 */
export function serveConfig(
  values: ParamValues<typeof serveParams.specs>,
  envToken?: string,
): ServeConfig {
  const { host } = values;
  const dataRoot = values.store ?? values.dataRoot;
  if (host.trim() === "") throw new UsageError(`Cannot start the server as '--host' is empty`);
  if (dataRoot.trim() === "") {
    throw new UsageError(`Cannot start the server as '--data-root' is empty`);
  }
  const token = values.token ?? (envToken === "" ? undefined : envToken);
  if (token !== undefined && (token.length < 8 || /\s/.test(token))) {
    throw new UsageError(
      "Cannot start the server as '--token' must be at least 8 characters without spaces",
    );
  }
  if (!isLoopback(host) && token === undefined) {
    throw new UsageError(
      `Cannot start the server as '--host' ${
        JSON.stringify(host)
      } is not loopback and no token is set: pass --token (or DREAMBOOTH_RPC_TOKEN) to bind ` +
        "off loopback",
    );
  }
  return {
    host,
    port: values.port,
    token,
    dataRoot,
    backend: parseBackendName(values.backend),
    concurrency: values.concurrency,
    maxBodyBytes: Math.round(values.maxBodyMb * 1024 * 1024),
    maxBatch: values.maxBatch,
    timeoutMs: Math.round(values.timeoutS * 1000),
    ...(values.queue !== undefined ? { queue: values.queue } : {}),
  };
}

/**
 * Validates the flags of `deno task serve` (a command line, or flags by option name), including
 * the rule that binding off loopback needs a token.
 *
 * @param flags The arguments (`Deno.args`), or the flags by option name as strings.
 * @param envToken `DREAMBOOTH_RPC_TOKEN`, used when `--token` is absent.
 * @returns The settings.
 * @throws {UsageError} Naming the flag, for a bad value or an off-loopback bind without token.
 *
 * @example
 * ```ts
 * import { parseServeArgs } from "./serve_args.ts";
 * console.log(parseServeArgs({ port: "0" }).port); // 0
 * try {
 *   parseServeArgs(["--host", "0.0.0.0"]);
 * } catch (err) {
 *   console.log((err as Error).message.startsWith("Cannot start the server as '--host'")); // true
 * }
 * ```
 */
export function parseServeArgs(
  flags: readonly string[] | ServeFlags,
  envToken?: string,
): ServeConfig {
  const args = Array.isArray(flags) ? flags : Object.entries(flags as ServeFlags)
    .filter(([, v]) => v !== undefined).map(([k, v]) => `--${k}=${v}`);
  return serveConfig(parseCliArgs(serveParams, args).values, envToken);
}
