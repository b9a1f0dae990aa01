/**
 * The worker side of `workerJobKind`: imports the job module, builds its context (signal,
 * progress, folders), runs it, and reports progress, the result or the error to the server.
 *
 * @module
 */
/// <reference lib="deno.worker" />

interface Start {
  type: "start";
  module: string;
  params: unknown;
  flag: Int32Array;
  context: {
    id: string;
    dir: string;
    relDir: string;
    dataRoot: string;
    resume: boolean;
    data: unknown;
  };
}

const controller = new AbortController();
const signal = controller.signal;
const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted")!.get!;
const throwIfAborted = AbortSignal.prototype.throwIfAborted;
let flag: Int32Array | undefined;

let aborting = false;

/**
 * Aborts the signal once. Deno's `abort()` reads `signal.aborted`, which (patched below) calls
 * `checkFlag()` again: the guard stops that re-entry from recursing without end.
 */
function abortOnce(reason: string): void {
  if (aborting || abortedGetter.call(signal)) return;
  aborting = true;
  try {
    controller.abort(reason);
  } finally {
    aborting = false;
  }
}

function checkFlag(): void {
  if (flag !== undefined && Atomics.load(flag, 0) === 1) abortOnce("cancelled");
}

self.onmessage = (e: MessageEvent<Start | { type: "abort"; reason: string }>) => {
  const msg = e.data;
  if (msg.type === "abort") {
    abortOnce(msg.reason);
    return;
  }
  flag = msg.flag;
  run(msg).catch((err) => {
    const e = err instanceof Error ? err : new Error(String(err));
    self.postMessage({ type: "error", name: e.name, message: e.message, stack: e.stack });
  });
};

async function run(msg: Start): Promise<void> {
  const mod = await import(msg.module);
  if (typeof mod.run !== "function") {
    throw new TypeError(`Cannot run the job as module ${msg.module} exports no 'run' function`);
  }
  // A synchronous compute loop never lets the "abort" message in: make `signal.aborted` and
  // `signal.throwIfAborted()` read the shared flag too (internal uses of the signal are unaffected).
  Object.defineProperty(signal, "aborted", {
    get() {
      checkFlag();
      return abortedGetter.call(signal);
    },
  });
  Object.defineProperty(signal, "throwIfAborted", {
    value() {
      checkFlag();
      return throwIfAborted.call(signal);
    },
  });
  const context = {
    ...msg.context,
    signal,
    progress(update: unknown) {
      checkFlag();
      if (abortedGetter.call(signal)) {
        throw new DOMException(`Job '${msg.context.id}' was cancelled`, "AbortError");
      }
      self.postMessage({ type: "progress", update });
    },
  };
  const result = await mod.run(msg.params, context);
  self.postMessage({ type: "done", result: result ?? null });
}
