import {
  JSONRPCErrorException,
  type JSONRPCID,
  type JSONRPCRequest,
  type JSONRPCResponse,
  JSONRPCServer,
} from "./deps.ts";
import type { MethodSpec } from "./define_method.ts";
import type { MethodRegistry } from "./method_registry.ts";
import type { RpcServices } from "./rpc_services.ts";
import { RpcError, RpcErrorCode } from "./rpc_error.ts";
import { showValue } from "./_show_value.ts";

/** Options of the {@linkcode RpcHandler} constructor. */
export interface RpcHandlerOptions {
  /** Most calls in one batch; a larger batch is answered with one -32600 error (default 1000). */
  maxBatch?: number;
  /** Time limit of one call in ms unless its method sets its own (default 30 000). */
  timeoutMs?: number;
  /** Where unexpected method errors (answered with -32603) are reported (default `console.error`). */
  onError?: (message: string, error: unknown) => void;
  /**
   * Rewrites every error's message and data before it is sent (the server passes
   * `DataRoot.redact`, so that no answer shows an absolute folder of the server). Default none.
   */
  redact?: (text: string) => string;
}

/** One JSON-RPC response object. */
export type RpcResponse = JSONRPCResponse;

interface CallParams {
  signal?: AbortSignal;
}

/**
 * Answers JSON-RPC 2.0 request bodies: single calls, notifications and batches, exactly as the
 * specification's examples show. The envelope (parsing, request-object checks, batches and their
 * size limit) is handled here, because json-rpc-2.0 1.8.1 answers a one-element batch with a bare
 * object, accepts a non-string `method`, and throws on `null` in a batch; each valid request is
 * then dispatched by the library's `JSONRPCServer`, with params validated by the method's schema
 * (-32602 naming the field) and a per-call time limit (-32000).
 *
 * @example
 * ```ts
 * import { RpcHandler } from "./rpc_handler.ts";
 * import { MethodRegistry } from "./method_registry.ts";
 * import { defineMethod } from "./define_method.ts";
 * import type { RpcServices } from "./rpc_services.ts";
 * import { s } from "./schema.ts";
 * const registry = new MethodRegistry([defineMethod({
 *   name: "add",
 *   summary: "Adds two numbers.",
 *   params: s.object({ a: s.number(), b: s.number() }),
 *   handler: ({ a, b }) => a + b,
 * })]);
 * const handler = new RpcHandler(registry, {} as RpcServices);
 * console.log(await handler.handle('{"jsonrpc":"2.0","method":"add","params":{"a":1,"b":2},"id":1}'));
 * // { jsonrpc: "2.0", id: 1, result: 3 }
 * ```
 */
export class RpcHandler {
  private readonly server: JSONRPCServer<CallParams>;
  private readonly maxBatch: number;
  private readonly timeoutMs: number;

  /**
   * @param registry The methods (read now: methods added later are not served).
   * @param services Handed to every handler.
   * @param options Batch limit, time limit, error sink.
   */
  constructor(registry: MethodRegistry, services: RpcServices, options: RpcHandlerOptions = {}) {
    const {
      maxBatch = 1000,
      timeoutMs = 30_000,
      onError = console.error,
      redact = (text: string) => text,
    } = options;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(
        `Cannot create the handler as 'maxBatch' must be a positive integer: current value is ${
          showValue(maxBatch)
        }`,
      );
    }
    if (!(timeoutMs > 0)) {
      throw new RangeError(
        `Cannot create the handler as 'timeoutMs' must be positive: current value is ${
          showValue(timeoutMs)
        }`,
      );
    }
    this.maxBatch = maxBatch;
    this.timeoutMs = timeoutMs;
    this.server = new JSONRPCServer<CallParams>({
      errorListener: (message, error) => {
        if (!(error instanceof JSONRPCErrorException)) onError(message, error);
      },
    });
    this.server.mapErrorToJSONRPCErrorResponse = (id, error) => {
      if (error instanceof JSONRPCErrorException) {
        const e: { code: number; message: string; data?: unknown } = {
          code: error.code,
          message: redact(error.message),
        };
        if (error.data !== undefined) e.data = JSON.parse(redact(JSON.stringify(error.data)));
        return { jsonrpc: "2.0", id, error: e };
      }
      const message = redact(error instanceof Error ? error.message : String(error));
      return {
        jsonrpc: "2.0",
        id,
        error: { code: RpcErrorCode.InternalError, message: `Internal error: ${message}` },
      };
    };
    for (const spec of registry.list()) {
      this.server.addMethod(
        spec.name,
        (params, call) => this.invoke(spec, params, call?.signal, services),
      );
    }
    this.server.addMethod("rpc.discover", (params) => {
      if (
        params !== undefined &&
        (typeof params !== "object" || params === null || Object.keys(params).length > 0)
      ) {
        throw new RpcError(RpcErrorCode.InvalidParams, "Invalid params: rpc.discover takes none", {
          field: "",
        });
      }
      return registry.discover();
    });
  }

  /**
   * Answers one HTTP body.
   *
   * @param body The request body (text).
   * @param signal Aborted when the client goes away (passed on to handlers).
   * @returns The response object, the array of responses of a batch, or `null` when nothing is
   * to be sent (notifications only).
   */
  async handle(body: string, signal?: AbortSignal): Promise<RpcResponse | RpcResponse[] | null> {
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return errorResponse(null, RpcErrorCode.ParseError, "Parse error");
    }
    if (!Array.isArray(payload)) return await this.single(payload, signal);
    if (payload.length === 0) {
      return errorResponse(null, RpcErrorCode.InvalidRequest, "Invalid Request");
    }
    if (payload.length > this.maxBatch) {
      return errorResponse(
        null,
        RpcErrorCode.InvalidRequest,
        `Invalid Request: a batch of ${payload.length} calls exceeds the limit of ${this.maxBatch}`,
      );
    }
    const responses = await Promise.all(payload.map((p) => this.single(p, signal)));
    const sent = responses.filter((r): r is RpcResponse => r !== null);
    return sent.length === 0 ? null : sent;
  }

  private async single(request: unknown, signal?: AbortSignal): Promise<RpcResponse | null> {
    if (!isRequest(request)) {
      const id = typeof request === "object" && request !== null && !Array.isArray(request) &&
          isId((request as { id?: unknown }).id)
        ? (request as { id: JSONRPCID }).id
        : null;
      return errorResponse(id, RpcErrorCode.InvalidRequest, "Invalid Request");
    }
    try {
      return await this.server.receive(request, { signal });
    } catch (err) {
      // The library catches method errors itself; this is a last line of defence.
      return request.id === undefined ? null : errorResponse(
        request.id,
        RpcErrorCode.InternalError,
        `Internal error: ${(err as Error)?.message ?? String(err)}`,
      );
    }
  }

  private async invoke(
    spec: MethodSpec,
    rawParams: unknown,
    callSignal: AbortSignal | undefined,
    services: RpcServices,
  ): Promise<unknown> {
    const params = spec.params.parse(rawParams, "");
    const ms = spec.timeoutMs ?? this.timeoutMs;
    const controller = new AbortController();
    const signal = callSignal === undefined
      ? controller.signal
      : AbortSignal.any([callSignal, controller.signal]);
    const work = Promise.resolve().then(() => spec.handler(params, { signal, services }));
    if (!Number.isFinite(ms)) return await work;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new RpcError(
          RpcErrorCode.Timeout,
          `Method '${spec.name}' timed out after ${ms} ms`,
          { timeoutMs: ms },
        );
        controller.abort(err);
        reject(err);
      }, ms);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
      work.catch(() => {}); // a handler that fails after its timeout must not crash the server
    }
  }
}

function isId(id: unknown): id is JSONRPCID {
  return typeof id === "string" || (typeof id === "number" && Number.isFinite(id)) || id === null;
}

function isRequest(value: unknown): value is JSONRPCRequest {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  return r.jsonrpc === "2.0" && typeof r.method === "string" &&
    (!("params" in r) || (typeof r.params === "object" && r.params !== null)) &&
    (!("id" in r) || isId(r.id)) && !("result" in r) && !("error" in r);
}

function errorResponse(id: JSONRPCID, code: number, message: string): RpcResponse {
  return { jsonrpc: "2.0", id, error: { code, message } };
}
