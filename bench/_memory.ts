/**
 * Memory readings the benchmarks share (Linux `/proc`).
 *
 * @module
 */

/** Bytes of memory available to a new process (`MemAvailable`), or Infinity where unreadable. */
export function availableMemoryBytes(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(Deno.readTextFileSync("/proc/meminfo"));
    return m ? Number(m[1]) * 1024 : Infinity;
  } catch {
    return Infinity;
  }
}
