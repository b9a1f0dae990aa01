/**
 * The npm dependencies of rpc/, with full `npm:` specifiers so that a URL import without this
 * repository's deno.json resolves them (the versions match the root import map).
 *
 * @module
 */
export { Hono } from "npm:hono@4.13.19";
export type { Context } from "npm:hono@4.13.19";
export { bodyLimit } from "npm:hono@4.13.19/body-limit";
export { JSONRPCErrorCode, JSONRPCErrorException, JSONRPCServer } from "npm:json-rpc-2.0@1.8.1";
export type {
  JSONRPCErrorResponse,
  JSONRPCID,
  JSONRPCRequest,
  JSONRPCResponse,
} from "npm:json-rpc-2.0@1.8.1";
