/**
 * Shared harness of the URL-import tests. DESIGN.md promises that one package can be imported by
 * URL without this repository's deno.json: these helpers serve the checkout over HTTP on 127.0.0.1
 * and run a script in a fresh Deno with `--no-config --no-lock` (no import map, no workspace, npm
 * packages from Deno's global cache) from a scratch folder.
 *
 * @module
 */

const root = new URL("../", import.meta.url);

function contentType(path: string): string {
  if (path.endsWith(".ts")) return "application/typescript";
  if (path.endsWith(".js")) return "application/javascript";
  if (path.endsWith(".json")) return "application/json";
  return "application/octet-stream";
}

/** What a script run by {@link runByUrl} printed. */
export interface UrlRunResult {
  success: boolean;
  stdout: string;
  stderr: string;
  /** The last non-empty line of stdout (where the scripts print their JSON or "OK"). */
  lastLine: string;
}

/** A served checkout: its base URL (with a trailing slash) and a scratch folder. */
export interface ServedCheckout {
  base: string;
  scratch: string;
  /** Writes `source` to the scratch folder and runs it with `--no-config`. */
  run(source: string, options?: { timeoutMs?: number }): Promise<UrlRunResult>;
}

/**
 * Serves the checkout on 127.0.0.1 (port 0) for the duration of `body`, with a scratch folder that
 * is removed afterwards.
 */
export async function withServedCheckout(
  body: (checkout: ServedCheckout) => Promise<void>,
): Promise<void> {
  // Deno caches remote modules by URL in DENO_DIR, which outlives this run (and may be shared with
  // earlier checkouts): a port reused by a later run would otherwise be answered from that cache
  // with an older checkout's files. A fresh path prefix per run makes every URL new.
  const prefix = `/${crypto.randomUUID()}/`;
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      const full = decodeURIComponent(new URL(req.url).pathname);
      if (!full.startsWith(prefix)) return new Response("not found", { status: 404 });
      const path = full.slice(prefix.length);
      if (path.split("/").includes("..")) return new Response("bad path", { status: 400 });
      try {
        const data = await Deno.readFile(new URL(path, root));
        return new Response(data, { headers: { "content-type": contentType(path) } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}${prefix}`;
  const scratch = await Deno.makeTempDir({ prefix: "url-import-" });
  let n = 0;
  const run = async (source: string, { timeoutMs = 180_000 } = {}): Promise<UrlRunResult> => {
    const script = `${scratch}/main${n++}.ts`;
    await Deno.writeTextFile(script, source);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", "--no-lock", `--reload=${base}`, script],
      cwd: scratch,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    try {
      const out = await child.output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      const lastLine = stdout.trim().split("\n").at(-1) ?? "";
      return { success: out.success, stdout, stderr, lastLine };
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    await body({ base, scratch, run });
  } finally {
    ac.abort();
    await server.finished;
    await Deno.remove(scratch, { recursive: true });
  }
}

/** A failure message with what the script printed (stderr's tail). */
export function explain(r: UrlRunResult): string {
  return `URL-imported script failed:\n${r.stdout}\n${r.stderr.slice(-3000)}`;
}
