/**
 * Writes `text` to `path` atomically: into a temporary file beside it (flushed to disk), then
 * renamed over `path`, so that a reader or a crash sees the old or the new content, never half.
 *
 * @param path The destination.
 * @param text The content.
 * @returns When the rename is done.
 */
export async function writeTextFileAtomic(path: string, text: string): Promise<void> {
  const suffix = crypto.getRandomValues(new Uint32Array(1))[0].toString(16);
  const tmp = `${path}.${suffix}.tmp`;
  try {
    using file = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.syncData();
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  try {
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}
