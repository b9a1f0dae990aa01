import { parseBackendName } from "../backend/mod.ts";
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
}

/** The flags as `parseArgs` from `node:util` returns them (all strings). */
export interface ServeFlags {
  host?: string;
  port?: string;
  token?: string;
  "data-root"?: string;
  backend?: string;
  concurrency?: string;
  "max-body-mb"?: string;
  "max-batch"?: string;
  "timeout-s"?: string;
}

function positive(flag: string, value: string | undefined, fallback: number, integer = true) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new RangeError(
      `Cannot start the server as '--${flag}' must be a positive ${
        integer ? "integer" : "number"
      }: ` +
        `current value is ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/**
 * Validates the flags of `deno task serve`, including the rule that binding off loopback needs a
 * token.
 *
 * @param flags The parsed flags.
 * @param envToken `DREAMBOOTH_RPC_TOKEN`, used when `--token` is absent.
 * @returns The settings.
 * @throws {RangeError} Naming the flag, for a bad value or an off-loopback bind without token.
 *
 * @example
 * ```ts
 * import { parseServeArgs } from "./serve_args.ts";
 * console.log(parseServeArgs({ port: "0" }).port); // 0
 * try {
 *   parseServeArgs({ host: "0.0.0.0" });
 * } catch (err) {
 *   console.log((err as Error).message.startsWith("Cannot start the server as '--host'")); // true
 * }
 * ```
 */
export function parseServeArgs(flags: ServeFlags, envToken?: string): ServeConfig {
  const host = flags.host ?? "127.0.0.1";
  if (host.trim() === "") {
    throw new RangeError(`Cannot start the server as '--host' is empty`);
  }
  const port = flags.port === undefined ? 8787 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || flags.port?.trim() === "") {
    throw new RangeError(
      `Cannot start the server as '--port' must be an integer in [0, 65535]: current value is ${
        JSON.stringify(flags.port)
      }`,
    );
  }
  const token = flags.token ?? (envToken === "" ? undefined : envToken);
  if (token !== undefined && (token.length < 8 || /\s/.test(token))) {
    throw new RangeError(
      "Cannot start the server as '--token' must be at least 8 characters without spaces",
    );
  }
  if (!isLoopback(host) && token === undefined) {
    throw new RangeError(
      `Cannot start the server as '--host' ${
        JSON.stringify(host)
      } is not loopback and no token is set: pass --token (or DREAMBOOTH_RPC_TOKEN) to bind ` +
        "off loopback",
    );
  }
  const dataRoot = flags["data-root"] ?? "runs/rpc";
  if (dataRoot.trim() === "") {
    throw new RangeError(`Cannot start the server as '--data-root' is empty`);
  }
  return {
    host,
    port,
    token,
    dataRoot,
    backend: parseBackendName(flags.backend),
    concurrency: positive("concurrency", flags.concurrency, 1),
    maxBodyBytes: Math.round(
      positive("max-body-mb", flags["max-body-mb"], 10, false) * 1024 * 1024,
    ),
    maxBatch: positive("max-batch", flags["max-batch"], 1000),
    timeoutMs: Math.round(positive("timeout-s", flags["timeout-s"], 30, false) * 1000),
  };
}
