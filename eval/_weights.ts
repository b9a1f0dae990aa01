// Private: reading the shipped weights (file path, URL, or a name under eval/weights/).
import { fileURLToPath } from "node:url";

/** Reads weights bytes: a bare file name resolves under eval/weights/ (also when imported by URL). */
export async function readWeights(
  path: string | URL,
): Promise<{ bytes: Uint8Array; source: string }> {
  let url: URL;
  if (path instanceof URL) url = path;
  else if (/^[\w.-]+\.safetensors$/.test(path)) url = new URL(`./weights/${path}`, import.meta.url);
  else if (/^(https?|file):/.test(path)) url = new URL(path);
  else return { bytes: await Deno.readFile(path), source: path };
  if (url.protocol === "file:") {
    const p = fileURLToPath(url);
    return { bytes: await Deno.readFile(p), source: p };
  }
  const res = await fetch(url);
  if (!res.ok) {
    throw new Error(`Cannot read weights '${url.href}' as the server answered ${res.status}`);
  }
  return { bytes: new Uint8Array(await res.arrayBuffer()), source: url.href };
}
