/**
 * The safetensors format, read and written directly: an 8-byte little-endian header length N, N
 * bytes of JSON (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}`,
 * offsets relative to the end of the header), then the raw little-endian tensor data.
 *
 * @module
 */
import { fromHalfBits, toHalfBits } from "./_float16.ts";
import { writeFileAtomic } from "../deps.ts";

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
  /**
   * @param message What is wrong.
   * @param options `cause`: the underlying error (e.g. the OS error of a file that could not be read).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
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
  if (bytes.length < 8) {
    throw new SafetensorsError(
      `Cannot read ${src} as it is ${bytes.length} bytes long, shorter than the 8-byte header length`,
    );
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) {
    throw new SafetensorsError(
      `Cannot read ${src} as its header claims ${n} bytes but only ${
        bytes.length - 8
      } follow (truncated or not safetensors)`,
    );
  }
  const headerLen = Number(n);
  const base = 8 + headerLen;
  const { entries, metadata } = parseSafetensorsHeader(
    bytes.subarray(8, base),
    bytes.length - base,
    src,
  );
  const tensors = new Map<string, NamedTensor>();
  for (const [name, e] of entries) {
    tensors.set(name, {
      shape: e.shape,
      data: decodeTensorData(bytes.subarray(base + e.begin, base + e.end), e.dtype),
      dtype: e.dtype,
    });
  }
  return { tensors, metadata };
}

/** Where one tensor's data lies in a safetensors file (offsets relative to the data section). */
export interface SafetensorsEntry {
  /** Storage type. */
  dtype: SafetensorsDtype;
  /** Shape. */
  shape: number[];
  /** First byte of the data (relative to the end of the header). */
  begin: number;
  /** One past the last byte. */
  end: number;
}

/** Parses and validates a header: entries in file order and the metadata. */
function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataLen: number,
  src: string,
): { entries: Map<string, SafetensorsEntry>; metadata: Record<string, string> } {
  const fail = (why: string): never => {
    throw new SafetensorsError(`Cannot read ${src} as ${why}`);
  };
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (e) {
    return fail(`its header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    fail("its header is not a JSON object");
  }
  const metadata: Record<string, string> = {};
  const entries = new Map<string, SafetensorsEntry>();
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
    entries.set(name, { dtype, shape: shape as number[], begin, end });
  }
  return { entries, metadata };
}

/** Little-endian raw data → Float32Array (F32/F16/BF16, widened), Int32Array or Uint8Array. */
function decodeTensorData(
  raw: Uint8Array,
  dtype: SafetensorsDtype,
): Float32Array | Int32Array | Uint8Array {
  const count = raw.length / BYTES[dtype];
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (dtype === "F32") {
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
    return data;
  }
  if (dtype === "BF16") {
    // bfloat16 is the top half of a float32: widen by a 16-bit shift.
    const bits = new Uint32Array(count);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true) << 16;
    return new Float32Array(bits.buffer);
  }
  if (dtype === "F16") {
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = fromHalfBits(view.getUint16(2 * i, true));
    return data;
  }
  if (dtype === "I32") {
    const data = new Int32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getInt32(4 * i, true);
    return data;
  }
  return raw.slice();
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
  await writeFileAtomic(path, encodeSafetensors(tensors, options));
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
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound
      ? "it does not exist"
      : err instanceof Deno.errors.IsADirectory
      ? "it is a folder, not a .safetensors file"
      : err instanceof Deno.errors.PermissionDenied
      ? "this process may not read it"
      : null;
    if (why === null) throw err;
    // The OS error stays the cause, so callers can still tell a missing file from a bad one.
    throw new SafetensorsError(`Cannot read '${path}' as ${why}`, { cause: err });
  }
  return decodeSafetensors(bytes, { source: `'${path}'` });
}

/**
 * A safetensors file opened for reading single tensors (or rows of one) without loading the rest:
 * the header is read once, each tensor's bytes on demand. For models larger than memory (a T5-XXL
 * encoder, 9.5 GB in bf16, encoded one layer at a time).
 *
 * @example
 * ```ts
 * import { openSafetensors, writeSafetensors } from "./safetensors.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await writeSafetensors(path, { emb: { shape: [3, 2], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
 * using f = await openSafetensors(path);
 * console.log((await f.readRows("emb", [2, 0])).data); // Float32Array(4) [ 4, 5, 0, 1 ]
 * await Deno.remove(path);
 * ```
 */
export class SafetensorsFile {
  /** The file's path. */
  readonly path: string;
  /** Each tensor's dtype, shape and byte range. */
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  /** The `__metadata__` string map. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly #file: Deno.FsFile;
  readonly #base: number;

  /** Use {@link openSafetensors}. */
  constructor(
    path: string,
    file: Deno.FsFile,
    base: number,
    header: { entries: Map<string, SafetensorsEntry>; metadata: Record<string, string> },
  ) {
    this.path = path;
    this.#file = file;
    this.#base = base;
    this.entries = header.entries;
    this.metadata = header.metadata;
  }

  #entry(name: string): SafetensorsEntry {
    const e = this.entries.get(name);
    if (!e) throw new RangeError(`Cannot read tensor '${name}' as '${this.path}' does not hold it`);
    return e;
  }

  async #readAt(offset: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(length);
    await this.#file.seek(this.#base + offset, Deno.SeekMode.Start);
    let done = 0;
    while (done < length) {
      const n = await this.#file.read(buf.subarray(done));
      if (n === null) {
        throw new SafetensorsError(`Cannot read '${this.path}' as it ended early (truncated)`);
      }
      done += n;
    }
    return buf;
  }

  /**
   * Reads one tensor.
   *
   * @param name The tensor's name.
   * @returns The tensor (float data widened to Float32Array).
   */
  async read(name: string): Promise<NamedTensor> {
    const e = this.#entry(name);
    const raw = await this.#readAt(e.begin, e.end - e.begin);
    return { shape: [...e.shape], data: decodeTensorData(raw, e.dtype), dtype: e.dtype };
  }

  /**
   * Reads raw stored bytes of a tensor's data (e.g. to fingerprint weights without decoding them).
   *
   * @param name The tensor's name.
   * @param from First byte, relative to the tensor's data.
   * @param length Number of bytes (clipped to the tensor's end).
   * @returns The bytes as stored (little-endian, the file's dtype).
   */
  readRaw(name: string, from: number, length: number): Promise<Uint8Array> {
    const e = this.#entry(name);
    const start = Math.min(Math.max(0, from), e.end - e.begin);
    return this.#readAt(e.begin + start, Math.min(length, e.end - e.begin - start));
  }

  /**
   * Reads some rows (first-axis slices) of a tensor, e.g. the embedding rows of a prompt's ids.
   *
   * @param name The tensor's name.
   * @param rows Row indices, in the order wanted (repeats allowed).
   * @returns A tensor of shape `[rows.length, ...rest]`.
   */
  async readRows(name: string, rows: ArrayLike<number>): Promise<NamedTensor> {
    const e = this.#entry(name);
    const [n, ...rest] = e.shape;
    const rowBytes = rest.reduce((a, b) => a * b, 1) * BYTES[e.dtype];
    const out = new Uint8Array(rows.length * rowBytes);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (!Number.isInteger(r) || r < 0 || r >= n) {
        throw new RangeError(
          `Cannot read rows of '${name}' as row ${r} is outside [0, ${n}) in '${this.path}'`,
        );
      }
      out.set(await this.#readAt(e.begin + r * rowBytes, rowBytes), i * rowBytes);
    }
    return { shape: [rows.length, ...rest], data: decodeTensorData(out, e.dtype), dtype: e.dtype };
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }

  /** Closes the file (`using`). */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Opens a safetensors file for reading tensors one at a time (see {@link SafetensorsFile}).
 *
 * @param path The file.
 * @returns The open file; close it (or `using`).
 * @throws {SafetensorsError} When the header is truncated or invalid.
 */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  const file = await Deno.open(path, { read: true });
  try {
    const size = (await file.stat()).size;
    const head = new Uint8Array(8);
    let got = 0;
    while (got < 8) {
      const n = await file.read(head.subarray(got));
      if (n === null) break;
      got += n;
    }
    const src = `'${path}'`;
    if (got < 8) {
      throw new SafetensorsError(
        `Cannot read ${src} as it is ${got} bytes long, shorter than the 8-byte header length`,
      );
    }
    const n = new DataView(head.buffer).getBigUint64(0, true);
    if (n > BigInt(size - 8)) {
      throw new SafetensorsError(
        `Cannot read ${src} as its header claims ${n} bytes but only ${
          size - 8
        } follow (truncated or not safetensors)`,
      );
    }
    const headerBytes = new Uint8Array(Number(n));
    let done = 0;
    while (done < headerBytes.length) {
      const r = await file.read(headerBytes.subarray(done));
      if (r === null) throw new SafetensorsError(`Cannot read ${src} as its header is truncated`);
      done += r;
    }
    const base = 8 + headerBytes.length;
    return new SafetensorsFile(
      path,
      file,
      base,
      parseSafetensorsHeader(headerBytes, size - base, src),
    );
  } catch (e) {
    file.close();
    throw e;
  }
}
