/**
 * Request guards of the HTTP layer: bearer-token check (constant time) and the Host-header check
 * that stops DNS rebinding when the server runs on loopback without a token.
 *
 * @module
 */

/**
 * Whether a request carries the token: `Authorization: Bearer <token>`, or for GET requests
 * (EventSource and `<img>` cannot set headers) `?access_token=<token>` (RFC 6750 §2.3).
 *
 * @param request The request.
 * @param token The expected token.
 * @returns `true` when it matches.
 */
export function hasToken(request: Request, token: string): boolean {
  const header = request.headers.get("authorization");
  let given: string | null = null;
  if (header !== null) {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    given = m === null ? "" : m[1];
  } else if (request.method === "GET" || request.method === "HEAD") {
    given = new URL(request.url).searchParams.get("access_token");
  }
  return given !== null && constantTimeEqual(given, token);
}

/**
 * Compares two strings in time that depends only on their lengths.
 *
 * @param a One string.
 * @param b The other.
 * @returns Whether they are equal.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Host names that are loopback. */
export const loopbackHosts: readonly string[] = ["localhost", "127.0.0.1", "::1", "[::1]"];

/**
 * Whether a bind address is loopback (`127.0.0.0/8`, `::1`, `localhost`).
 *
 * @param host The `--host` value.
 * @returns `true` for loopback.
 */
export function isLoopback(host: string): boolean {
  return loopbackHosts.includes(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Whether the request's Host header names a loopback host or the bind address (anything else
 * reaching a loopback server is a browser tricked by DNS rebinding).
 *
 * @param request The request.
 * @param bindHost The address the server listens on.
 * @returns `true` when acceptable.
 */
export function hostAllowed(request: Request, bindHost: string): boolean {
  const host = request.headers.get("host");
  if (host === null) return true;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
  const lower = name.toLowerCase();
  return isLoopback(lower) || lower === bindHost.toLowerCase() ||
    `[${bindHost.toLowerCase()}]` === lower;
}

/**
 * The path after `/files/` of a request, exactly as the client sent it (dot segments are not
 * folded, so `/files/../x` is `../x`, which the data root then refuses), percent-decoded.
 *
 * @param url The request's URL (`request.url`: the request target as received).
 * @returns The relative path, or `null` when the path is not under `/files/` or not decodable.
 */
export function filesPath(url: string): string | null {
  const scheme = url.indexOf("://");
  const start = url.indexOf("/", scheme < 0 ? 0 : scheme + 3);
  if (start < 0) return null;
  let path = url.slice(start);
  const end = path.search(/[?#]/);
  if (end >= 0) path = path.slice(0, end);
  if (!path.startsWith("/files/")) return null;
  try {
    return decodeURIComponent(path.slice("/files/".length));
  } catch {
    return null;
  }
}

/**
 * Whether an error thrown while answering a request means the client went away (it closed the
 * connection before sending the body it declared): that is the client's doing, not the server's.
 *
 * @param error The error.
 * @returns `true` for a client abort.
 */
export function isClientAbort(error: unknown): boolean {
  return [
    Deno.errors.BadResource,
    Deno.errors.BrokenPipe,
    Deno.errors.ConnectionAborted,
    Deno.errors.ConnectionReset,
    Deno.errors.Http,
    Deno.errors.Interrupted,
    Deno.errors.UnexpectedEof,
  ].some((type) => error instanceof type);
}
