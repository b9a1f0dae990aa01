/**
 * A small reader for the protobuf wire format (proto2), enough to decode a SentencePiece
 * `ModelProto`. Every read is bounds-checked: a truncated or corrupt buffer throws a
 * {@linkcode ProtobufError} that says what broke and at which byte.
 *
 * Why not `protobufjs`: the model schema is four small messages, and reading them needs only
 * varints, 32-bit floats and length-delimited fields. A hand-written reader of ~150 lines has no
 * dependency (so `tokenizer/` can be imported by URL with `--no-config`), needs no generated code
 * or `.proto` file at run time, and loads the 800 kB T5 model in a few milliseconds.
 *
 * @module
 */

/** Wire types of the protobuf encoding. */
export const WIRE_VARINT = 0;
/** 64-bit fixed-width field. */
export const WIRE_FIXED64 = 1;
/** Length-delimited field (strings, bytes, embedded messages, packed arrays). */
export const WIRE_LEN = 2;
/** Deprecated group start. */
export const WIRE_START_GROUP = 3;
/** Deprecated group end. */
export const WIRE_END_GROUP = 4;
/** 32-bit fixed-width field. */
export const WIRE_FIXED32 = 5;

/** A wire-format problem: truncated data, a bad tag, or an impossible length. */
export class ProtobufError extends Error {
  /**
   * @param message what is wrong, with the byte offset
   */
  constructor(message: string) {
    super(message);
    this.name = "ProtobufError";
  }
}

/** Reads fields one by one from `[start, end)` of a buffer. */
export class ProtoReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  /** Low and high 32 bits of the last varint read by {@linkcode readVarint64}. */
  lo = 0;
  /** High 32 bits of the last varint. */
  hi = 0;
  readonly #view: DataView;
  readonly #what: string;

  /**
   * @param buf the whole buffer
   * @param start first byte of the message
   * @param end one past the last byte of the message
   * @param what the message name, for error messages
   */
  constructor(buf: Uint8Array, start = 0, end = buf.length, what = "message") {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#what = what;
  }

  /** @returns true while fields remain */
  more(): boolean {
    return this.pos < this.end;
  }

  #fail(problem: string, at = this.pos): never {
    throw new ProtobufError(`${problem} at byte ${at} (in ${this.#what})`);
  }

  /** Reads a varint of up to 10 bytes into {@linkcode lo}/{@linkcode hi}. */
  readVarint64(): void {
    const start = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.#fail("truncated varint", start);
      const b = this.buf[this.pos++];
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if ((b & 0x80) === 0) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    this.#fail("varint longer than 10 bytes", start);
  }

  /** @returns the next varint as an unsigned number (exact below 2^53) */
  readUint(): number {
    this.readVarint64();
    return this.hi * 4294967296 + this.lo;
  }

  /** @returns the next varint as a signed 32-bit integer (protobuf int32/enum) */
  readInt32(): number {
    this.readVarint64();
    return this.lo | 0;
  }

  /** @returns the next varint as a boolean */
  readBool(): boolean {
    this.readVarint64();
    return (this.lo | this.hi) !== 0;
  }

  /** @returns the next field's tag as `[fieldNumber, wireType]` packed as `field * 8 + wire` */
  readTag(): number {
    const at = this.pos;
    this.readVarint64();
    if (this.hi !== 0) this.#fail("field number out of range", at);
    const tag = this.lo;
    const wire = tag & 7;
    if (tag >>> 3 === 0) this.#fail("field number 0 is invalid", at);
    if (wire === 6 || wire === 7) this.#fail(`invalid wire type ${wire}`, at);
    return tag;
  }

  /** @returns a little-endian float32 */
  readFloat(): number {
    if (this.pos + 4 > this.end) this.#fail("truncated 32-bit field");
    const v = this.#view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** @returns `[start, end)` of the next length-delimited field, and moves past it */
  readLen(): [number, number] {
    const at = this.pos;
    const n = this.readUint();
    if (n > this.end - this.pos) {
      this.#fail(`length-delimited field of ${n} bytes runs past the end (${this.end})`, at);
    }
    const start = this.pos;
    this.pos += n;
    return [start, this.pos];
  }

  /** @returns the next length-delimited field as a UTF-8 string */
  readString(): string {
    const [s, e] = this.readLen();
    return utf8Decoder.decode(this.buf.subarray(s, e));
  }

  /**
   * Skips the value of a field of the given wire type.
   *
   * @param tag the tag just read
   */
  skip(tag: number): void {
    const wire = tag & 7;
    switch (wire) {
      case WIRE_VARINT:
        this.readVarint64();
        return;
      case WIRE_FIXED64:
        if (this.pos + 8 > this.end) this.#fail("truncated 64-bit field");
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.readLen();
        return;
      case WIRE_FIXED32:
        if (this.pos + 4 > this.end) this.#fail("truncated 32-bit field");
        this.pos += 4;
        return;
      case WIRE_START_GROUP: {
        const field = tag >>> 3;
        for (;;) {
          if (!this.more()) this.#fail(`unterminated group (field ${field})`);
          const t = this.readTag();
          if ((t & 7) === WIRE_END_GROUP) {
            if (t >>> 3 !== field) this.#fail("mismatched group end");
            return;
          }
          this.skip(t);
        }
      }
      default:
        this.#fail(`unexpected end-group tag (field ${tag >>> 3})`);
    }
  }

  /**
   * Checks that a known field has the wire type its schema says.
   *
   * @param tag the tag just read
   * @param wire the expected wire type
   * @param name the field name, for the error message
   */
  expect(tag: number, wire: number, name: string): void {
    if ((tag & 7) !== wire) {
      this.#fail(`field '${name}' has wire type ${tag & 7}, expected ${wire}`);
    }
  }
}

const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });
