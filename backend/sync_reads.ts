import { tf } from "./deps.ts";

/** What {@linkcode watchReads} returns: counts of the active backend's reads since it started. */
export interface ReadWatch {
  /** The backend watched. */
  readonly backend: string;
  /** Synchronous reads (`readSync`: `dataSync`, `arraySync`, kernels that read on the host). */
  readonly syncReads: number;
  /** Asynchronous reads (`read`: `await tensor.data()`, `array()`). */
  readonly asyncReads: number;
  /** Sets both counts to 0. */
  reset(): void;
  /** Stops counting (restores the backend's own methods). */
  dispose(): void;
  [Symbol.dispose](): void;
}

/**
 * Counts the device→host reads of the active tfjs backend: every `readSync` (what `dataSync`,
 * `arraySync` and host-side kernels call) and every `read` (`await tensor.data()`), by wrapping
 * those two methods of the backend instance (once; they stay wrapped, counting only while a watch
 * is live). Tests use it to prove that a step on a GPU backend has no host round trip. Watches
 * may overlap; each counts on its own.
 *
 * @returns The watch; dispose it to stop counting.
 *
 * @example
 * ```ts
 * import { tf } from "./deps.ts";
 * import { watchReads } from "./sync_reads.ts";
 * await tf.setBackend("cpu");
 * using reads = watchReads();
 * const x = tf.tensor1d([1, 2]);
 * x.dataSync();
 * await x.data();
 * console.log(reads.syncReads, reads.asyncReads); // 1 1
 * x.dispose();
 * ```
 */
export function watchReads(): ReadWatch {
  const name = tf.getBackend();
  const counters = hook(tf.backend() as unknown as Hookable);
  const counter = { sync: 0, async: 0 };
  counters.add(counter);
  const dispose = () => void counters.delete(counter);
  return {
    backend: name,
    get syncReads() {
      return counter.sync;
    },
    get asyncReads() {
      return counter.async;
    },
    reset() {
      counter.sync = 0;
      counter.async = 0;
    },
    dispose,
    [Symbol.dispose]: dispose,
  };
}

type Counter = { sync: number; async: number };
type Hookable = {
  readSync(dataId: unknown): unknown;
  read(dataId: unknown): Promise<unknown>;
};
const hooked = new WeakMap<Hookable, Set<Counter>>();

/** Wraps `readSync`/`read` of a backend instance once; returns the set of live counters. */
function hook(backend: Hookable): Set<Counter> {
  let counters = hooked.get(backend);
  if (counters !== undefined) return counters;
  const live = counters = new Set<Counter>();
  hooked.set(backend, live);
  const readSync = backend.readSync;
  const read = backend.read;
  backend.readSync = function (dataId: unknown) {
    for (const c of live) c.sync++;
    return readSync.call(this, dataId);
  };
  backend.read = function (dataId: unknown) {
    for (const c of live) c.async++;
    return read.call(this, dataId);
  };
  return live;
}
