import { join } from "node:path";
import type { DataRoot } from "./data_root.ts";
import { type JobRecord, jobStatuses } from "./job_record.ts";
import { writeTextFileAtomic } from "../common/mod.ts";

/** Options of {@linkcode JobStore.open}. */
export interface JobStoreOptions {
  /** Where warnings go (unreadable records, failed writes); default `console.warn`. */
  warn?: (message: string) => void;
}

/** Job ids: time-sortable, safe as a folder name. */
export const jobIdPattern: RegExp = /^[0-9A-Za-z][0-9A-Za-z_-]{0,63}$/;

/**
 * Job records on disk: one `<data root>/jobs/<id>/job.json` per job, written atomically
 * (temporary file + rename) and in order per job. Opening the store loads every record; a job
 * that was `queued`, `running` or `cancelling` when the last server stopped is marked
 * `interrupted` (and saved so), so a restarted server lists it truthfully.
 *
 * @example
 * ```ts
 * import { DataRoot } from "./data_root.ts";
 * import { JobStore } from "./job_store.ts";
 * const dir = await Deno.makeTempDir();
 * const root = await DataRoot.open(dir);
 * const store = await JobStore.open(root);
 * await store.save({
 *   id: "a1", kind: "demo", params: {}, status: "running", createdAt: new Date().toISOString(),
 *   attempts: 1, resumable: false, dir: "jobs/a1",
 * });
 * const again = await JobStore.open(root);
 * console.log(again.get("a1")?.status); // interrupted
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class JobStore {
  /** The data root the records live under. */
  readonly root: DataRoot;
  /** Absolute path of the `jobs` folder. */
  readonly jobsDir: string;
  private readonly records = new Map<string, JobRecord>();
  private readonly writes = new Map<string, Promise<void>>();
  private readonly warn: (message: string) => void;

  private constructor(root: DataRoot, warn: (message: string) => void) {
    this.root = root;
    this.jobsDir = join(root.path, "jobs");
    this.warn = warn;
  }

  /**
   * Loads every record under `<root>/jobs/`, marking unfinished ones `interrupted`.
   *
   * @param root The data root.
   * @param options Warning sink.
   * @returns The store.
   */
  static async open(root: DataRoot, options: JobStoreOptions = {}): Promise<JobStore> {
    const store = new JobStore(root, options.warn ?? console.warn);
    await Deno.mkdir(store.jobsDir, { recursive: true });
    const interrupted: JobRecord[] = [];
    for await (const entry of Deno.readDir(store.jobsDir)) {
      if (!entry.isDirectory || !jobIdPattern.test(entry.name)) continue;
      const file = join(store.jobsDir, entry.name, "job.json");
      let record: JobRecord;
      try {
        record = JSON.parse(await Deno.readTextFile(file));
        if (
          record?.id !== entry.name || typeof record.kind !== "string" ||
          !(jobStatuses as readonly string[]).includes(record.status)
        ) {
          throw new Error("not a job record");
        }
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) {
          store.warn(`Skipping job record ${file}: ${(err as Error).message}`);
        }
        continue;
      }
      if (["queued", "running", "cancelling"].includes(record.status)) {
        record = {
          ...record,
          status: "interrupted",
          finishedAt: new Date().toISOString(),
          error: {
            name: "Interrupted",
            message: `The server stopped while the job was ${record.status}`,
          },
        };
        interrupted.push(record);
      }
      store.records.set(record.id, record);
    }
    await Promise.all(interrupted.map((r) => store.save(r)));
    return store;
  }

  /**
   * One record.
   *
   * @param id The job id.
   * @returns A copy of the record, or `undefined`.
   */
  get(id: string): JobRecord | undefined {
    const record = this.records.get(id);
    return record === undefined ? undefined : structuredClone(record);
  }

  /**
   * Every record, newest first.
   *
   * @returns Copies of the records.
   */
  list(): JobRecord[] {
    return [...this.records.values()]
      .sort((
        a,
        b,
      ) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1))
      .map((r) => structuredClone(r));
  }

  /**
   * Stores a record in memory at once and on disk in order (a failed write is reported through
   * `warn`, never thrown, so that a full disk cannot crash the server).
   *
   * @param record The record (copied).
   * @returns When this record's write has finished.
   */
  save(record: JobRecord): Promise<void> {
    const copy = structuredClone(record);
    this.records.set(copy.id, copy);
    const dir = join(this.jobsDir, copy.id);
    const text = JSON.stringify(copy, null, 2) + "\n";
    const previous = this.writes.get(copy.id) ?? Promise.resolve();
    const next = previous
      .then(async () => {
        await Deno.mkdir(dir, { recursive: true });
        await writeTextFileAtomic(join(dir, "job.json"), text, { mode: 0o600 });
      })
      .catch((err) => this.warn(`Could not save job ${copy.id}: ${(err as Error).message}`));
    this.writes.set(copy.id, next);
    next.then(() => {
      if (this.writes.get(copy.id) === next) this.writes.delete(copy.id);
    });
    return next;
  }

  /**
   * Updates a record in memory only (frequent progress); the next {@linkcode JobStore.save}
   * writes it.
   *
   * @param record The record (copied).
   */
  setInMemory(record: JobRecord): void {
    this.records.set(record.id, structuredClone(record));
  }

  /**
   * Waits for every pending write.
   *
   * @returns When all writes have finished.
   */
  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all(this.writes.values());
  }
}
