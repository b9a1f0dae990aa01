/**
 * The safetensors format, read and written directly: an 8-byte little-endian header length N, N
 * bytes of JSON (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}`,
 * offsets relative to the end of the header), then the raw little-endian tensor data.
 *
 * @module
 */
import { fromBfloat16Bits, fromHalfBits, toHalfBits } from "./_float16.ts";

/** Storage types this module reads (F32, F16, BF16, I32, U8) and writes (F32, F16, I32, U8). */
export type SafetensorsDtype = "F32" | "F16" | "BF16" | "I32" | "U8";

/** One tensor in memory: float data is always Float32Array once read. */
export interface NamedTensor {
  /** Tensor shape. */
  shape: number[];
  /** Values in row-major order. */
  data: Float32Array | Int32Array | Uint8Array;
  /** The storage type (on write: F32 by default for float data; on read: what the file held). */
  dtype?: SafetensorsDtype;
}

/** The decoded content of a safetensors file. */
export interface SafetensorsContent {
  /** Tensors by name. */
  tensors: Map<string, NamedTensor>;
  /** The `__metadata__` string map (empty when absent). */
  metadata: Record<string, string>;
}

/** Thrown when bytes are not a valid safetensors file (callers catch it to report a bad file). */
export class SafetensorsError extends Error {
  /** @param message What is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "SafetensorsError";
  }
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, U8: 1 };

/**
 * Encodes tensors and metadata as safetensors bytes. Tensors are written in name order; each
 * tensor's `dtype` (or `options.floatDtype` for float data) chooses its storage.
 *
 * @param tensors Tensors by name (a Map or a plain object).
 * @param options `metadata` (string map, default {}), `floatDtype` ("F32" or "F16", default "F32": the storage of float tensors without their own dtype).
 * @returns The file's bytes.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
 * console.log(decodeSafetensors(bytes).tensors.get("w")?.data); // Float32Array(2) [ 1, 2 ]
 * ```
 */
export function encodeSafetensors(
  tensors: Map<string, NamedTensor> | Record<string, NamedTensor>,
  options: { metadata?: Record<string, string>; floatDtype?: "F32" | "F16" } = {},
): Uint8Array {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (options.metadata && Object.keys(options.metadata).length > 0) {
    for (const [k, v] of Object.entries(options.metadata)) {
      if (typeof v !== "string") {
        throw new TypeError(
          `Cannot encode safetensors as metadata '${k}' must be a string: current type is ${typeof v}`,
        );
      }
    }
    header.__metadata__ = options.metadata;
  }
  let offset = 0;
  const plans: { dtype: SafetensorsDtype; t: NamedTensor; begin: number; end: number }[] = [];
  for (const [name, t] of entries) {
    if (name === "__metadata__") {
      throw new RangeError(`Cannot encode safetensors as '__metadata__' is not a tensor name`);
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new RangeError(
        `Cannot encode safetensors as tensor '${name}' has shape [${t.shape}] (${count} values) but ${t.data.length} values`,
      );
    }
    const dtype: SafetensorsDtype = t.dtype && t.dtype !== "BF16"
      ? t.dtype
      : t.data instanceof Int32Array
      ? "I32"
      : t.data instanceof Uint8Array
      ? "U8"
      : options.floatDtype ?? "F32";
    const end = offset + count * BYTES[dtype];
    plans.push({ dtype, t, begin: offset, end });
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += " "; // align the data to 8 bytes
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  const base = 8 + headerBytes.length;
  for (const { dtype, t, begin } of plans) {
    const at = base + begin;
    const d = t.data;
    if (dtype === "F32") {
      for (let i = 0; i < d.length; i++) view.setFloat32(at + 4 * i, d[i], true);
    } else if (dtype === "F16") {
      for (let i = 0; i < d.length; i++) view.setUint16(at + 2 * i, toHalfBits(d[i]), true);
    } else if (dtype === "I32") {
      for (let i = 0; i < d.length; i++) view.setInt32(at + 4 * i, d[i], true);
    } else for (let i = 0; i < d.length; i++) out[at + i] = d[i];
  }
  return out;
}

/**
 * Decodes safetensors bytes. Float data (F32, F16, BF16) comes back as Float32Array.
 *
 * @param bytes The file's bytes.
 * @param options `source` (a name for error messages, default "the safetensors data").
 * @returns The tensors and the metadata.
 * @throws {SafetensorsError} When the bytes are truncated or the header is not valid.
 *
 * @example
 * ```ts
 * import { decodeSafetensors } from "./safetensors.ts";
 * try { decodeSafetensors(new Uint8Array(3)); } catch (e) { console.log((e as Error).name); } // SafetensorsError
 * ```
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  options: { source?: string } = {},
): SafetensorsContent {
  const src = options.source ?? "the safetensors data";
  const fail = (why: string): never => {
    throw new SafetensorsError(`Cannot read ${src} as ${why}`);
  };
  if (bytes.length < 8) {
    fail(`it is ${bytes.length} bytes long, shorter than the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) {
    fail(
      `its header claims ${n} bytes but only ${
        bytes.length - 8
      } follow (truncated or not safetensors)`,
    );
  }
  const headerLen = Number(n);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)),
    );
  } catch (e) {
    return fail(`its header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    fail("its header is not a JSON object");
  }
  const base = 8 + headerLen;
  const dataLen = bytes.length - base;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, NamedTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (entry === null || typeof entry !== "object") fail("'__metadata__' is not an object");
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`metadata '${k}' is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = e?.dtype as SafetensorsDtype;
    if (!(dtype in BYTES)) {
      fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(e?.dtype)}`);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offs = e.data_offsets;
    if (
      !Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0)
    ) fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
    const [begin, end] = offs as number[];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES[dtype]) {
      fail(
        `tensor '${name}' has data_offsets [${begin}, ${end}] that do not fit its shape [${shape}] and dtype ${dtype}`,
      );
    }
    if (end > dataLen) {
      fail(
        `tensor '${name}' ends at byte ${end} of the data but the data has ${dataLen} bytes (truncated)`,
      );
    }
    const at = base + begin;
    let data: Float32Array | Int32Array | Uint8Array;
    if (dtype === "F32") {
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(at + 4 * i, true);
    } else if (dtype === "F16" || dtype === "BF16") {
      data = new Float32Array(count);
      const conv = dtype === "F16" ? fromHalfBits : fromBfloat16Bits;
      for (let i = 0; i < count; i++) data[i] = conv(view.getUint16(at + 2 * i, true));
    } else if (dtype === "I32") {
      data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(at + 4 * i, true);
    } else data = bytes.slice(at, at + count);
    tensors.set(name, { shape: shape as number[], data, dtype });
  }
  return { tensors, metadata };
}

/**
 * Writes a safetensors file atomically: to a temporary file beside it, then renamed over it.
 *
 * @param path The destination path.
 * @param tensors Tensors by name.
 * @param options As for {@link encodeSafetensors}.
 * @returns A promise that resolves when the file is in place.
 *
 * @example
 * ```ts
 * import { readSafetensors, writeSafetensors } from "./safetensors.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await writeSafetensors(path, { w: { shape: [1], data: new Float32Array([3]) } }, { metadata: { a: "b" } });
 * console.log((await readSafetensors(path)).metadata.a); // "b"
 * await Deno.remove(path);
 * ```
 */
export async function writeSafetensors(
  path: string,
  tensors: Map<string, NamedTensor> | Record<string, NamedTensor>,
  options: { metadata?: Record<string, string>; floatDtype?: "F32" | "F16" } = {},
): Promise<void> {
  const bytes = encodeSafetensors(tensors, options);
  const tmp = `${path}.${Deno.pid}.${Date.now()}.tmp`;
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Reads a safetensors file.
 *
 * @param path The file.
 * @returns The tensors and metadata.
 * @throws {SafetensorsError} When the file is truncated or corrupt (the message names the file).
 *
 * @example
 * ```ts
 * import { readSafetensors, writeSafetensors } from "./safetensors.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await writeSafetensors(path, { w: { shape: [1], data: new Float32Array([3]) } });
 * console.log((await readSafetensors(path)).tensors.get("w")?.shape); // [ 1 ]
 * await Deno.remove(path);
 * ```
 */
export async function readSafetensors(path: string): Promise<SafetensorsContent> {
  return decodeSafetensors(await Deno.readFile(path), { source: `'${path}'` });
}
