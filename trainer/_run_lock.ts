/**
 * Private: the run folder's lock (`run.lock`). Acquisition is one atomic step of the operating
 * system: an exclusive advisory lock (`flock`) on the open file, which the kernel releases when
 * the holder exits or is killed. There is no staleness to judge: a `run.lock` left by a killed
 * run is simply not locked, and the next run takes it. The file also holds the holder's pid, for
 * messages (written after the lock is taken; readers never rely on it).
 *
 * Releasing removes the file while still holding the lock, then closes it; a starter that opened
 * the old file in between and then locks it finds that the path no longer names the file it
 * locked (another inode, or none), closes it and starts over, so two holders never coexist.
 *
 * @module
 */
import { join } from "node:path";

/** A held lock; release it with {@link RunLock.release} (or `await using`). */
export interface RunLock {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock file and releases the lock. Idempotent. */
  release(): Promise<void>;
  /** Same as {@link RunLock.release}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Takes `<runDir>/run.lock` or fails at once when a live process holds it.
 *
 * @param runDir The run folder (must exist).
 * @returns The held lock.
 * @throws {RangeError} When another process (or another worker of this one) holds the lock.
 */
export async function acquireRunLock(runDir: string): Promise<RunLock> {
  const path = join(runDir, "run.lock");
  for (let attempt = 0; attempt < 100; attempt++) {
    const file = await Deno.open(path, { read: true, write: true, create: true });
    let locked = false;
    try {
      locked = await file.tryLock(true);
    } catch (e) {
      file.close();
      throw e;
    }
    if (!locked) {
      const text = await Deno.readTextFile(path).catch(() => "");
      file.close();
      const pid = Number(text.trim());
      const who = Number.isInteger(pid) && pid > 0 ? `process ${pid}` : "another process";
      throw new RangeError(
        `Cannot run in '${runDir}' as ${who} is training there (run.lock); wait for it or stop it`,
      );
    }
    // The path must still name the file we locked (a releasing holder removes it first).
    const mine = await file.stat();
    const now = await Deno.stat(path).catch(() => null);
    if (now === null || (mine.ino !== null && (now.ino !== mine.ino || now.dev !== mine.dev))) {
      file.close(); // releases the lock on the orphaned file
      continue;
    }
    await file.truncate(0);
    await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await Deno.remove(path).catch(() => {});
      file.close();
    };
    return { path, release, [Symbol.asyncDispose]: release };
  }
  throw new RangeError(`Cannot take the lock of '${runDir}' (run.lock): it kept changing`);
}
