/**
 * Private: what both job queues ({@link JobQueue} in one process, `RedisJobQueue` over Redis) do
 * alike for their callers: keep the `wait(id)` promises until a job finishes and fan job events
 * out to subscribers, catching a listener's error.
 *
 * @module
 */
import type { JobEvent } from "./job_queue.ts";
import { finishedStatuses, type JobRecord } from "./job_record.ts";

/** Waiters and subscribers of one queue. */
export class JobEvents {
  readonly #waiters = new Map<string, ((record: JobRecord) => void)[]>();
  readonly #listeners = new Set<(event: JobEvent) => void>();
  readonly #warn: (message: string) => void;

  /** @param warn Told when a listener throws. */
  constructor(warn: (message: string) => void) {
    this.#warn = warn;
  }

  /** Resolves with `record` when it has finished, else with its final record once settled. */
  wait(record: JobRecord): Promise<JobRecord> {
    if (finishedStatuses.includes(record.status)) return Promise.resolve(record);
    return new Promise((resolve) => {
      const list = this.#waiters.get(record.id) ?? [];
      list.push(resolve);
      this.#waiters.set(record.id, list);
    });
  }

  /** The ids somebody waits on. */
  waited(): string[] {
    return [...this.#waiters.keys()];
  }

  /** Wakes the waiters of `record` (each gets a copy) when it has finished. */
  settle(record: JobRecord): void {
    if (!finishedStatuses.includes(record.status)) return;
    const list = this.#waiters.get(record.id) ?? [];
    this.#waiters.delete(record.id);
    for (const resolve of list) resolve(structuredClone(record));
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: (event: JobEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Calls every listener with `event`; a listener's error is reported and swallowed. */
  emit(event: JobEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.#warn(`A job event listener failed: ${(err as Error).message}`);
      }
    }
  }
}
