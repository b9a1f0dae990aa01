/**
 * One job in its own process, started by `RedisJobWorker` (`deno run -A rpc/_job_child.ts`): the
 * first line on stdin says what to run (`{kind, params, context, backend}`); a later line
 * `{"type":"abort","reason":…}` aborts it. Messages to the worker are stdout lines that start
 * with `\x01job ` (progress, then done or error); every other output is the job's log.
 *
 * @module
 */
import { servedMethods } from "./served_methods.ts";

interface Start {
  kind: string;
  params: unknown;
  backend?: string;
  context: { id: string; dir: string; relDir: string; dataRoot: string; resume: boolean };
}

const encoder = new TextEncoder();

/** Writes one message line in full (a pipe may take it in pieces). */
function send(message: unknown): void {
  let bytes = encoder.encode(`\x01job ${JSON.stringify(message)}\n`);
  while (bytes.length > 0) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let i;
    while ((i = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
    }
  }
}

async function main(): Promise<void> {
  const input = lines(Deno.stdin.readable);
  const first = await input.next();
  if (first.done) throw new Error("No job on stdin");
  const start = JSON.parse(first.value) as Start;
  const kind = servedMethods({ backend: start.backend }).jobKinds.find((k) =>
    k.name === start.kind
  );
  if (kind === undefined) throw new RangeError(`Unknown job kind '${start.kind}'`);
  const controller = new AbortController();
  (async () => {
    for await (const line of input) {
      const msg = JSON.parse(line) as { type: string; reason?: string };
      if (msg.type === "abort") controller.abort(msg.reason ?? "cancelled");
    }
    // stdin closed while running: the worker died (kill -9). Stop at once, so that the worker
    // that takes the job over is the only one writing to its folder.
    console.error("The worker is gone: stopping this job process");
    Deno.exit(70);
  })().catch(() => Deno.exit(70));
  const signal = controller.signal;
  try {
    const result = await kind.run(kind.params.parse(start.params), {
      ...start.context,
      signal,
      progress(update) {
        if (signal.aborted) {
          throw new DOMException(`Job '${start.context.id}' was ${signal.reason}`, "AbortError");
        }
        send({ type: "progress", update });
      },
    });
    send({ type: "done", result: result ?? null, aborted: signal.aborted });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    console.error(e.stack ?? e.message);
    send({ type: "error", name: e.name, message: e.message, aborted: signal.aborted });
  }
}

// Unhandled rejections must not end the job silently (tfjs-wasm rethrows them).
globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  console.error(`Unhandled rejection: ${e.reason?.stack ?? e.reason}`);
});
try {
  await main();
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  send({ type: "error", name: e.name, message: e.message, aborted: false });
}
Deno.exit(0);
