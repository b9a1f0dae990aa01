import { tf } from "./deps.ts";
import type { WasmBackend } from "./_wasm.ts";

/** The 16-bit storage formats of {@linkcode HalfTensor}. */
export type HalfDType = "float16" | "bfloat16";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * float32 → IEEE-754 binary16 bits, rounded to nearest even (overflow → ±Inf, NaN kept).
 *
 * @param value The number.
 * @returns The 16 bits.
 *
 * @example
 * ```ts
 * import { toHalfBits } from "./half_tensor.ts";
 * console.log(toHalfBits(1).toString(16)); // 3c00
 * ```
 */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++; // may carry into the exponent: right
  return sign | half;
}

/**
 * IEEE-754 binary16 bits → number.
 *
 * @param h The 16 bits.
 * @returns The value.
 *
 * @example
 * ```ts
 * import { fromHalfBits } from "./half_tensor.ts";
 * console.log(fromHalfBits(0x3c00)); // 1
 * ```
 */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * float32 → bfloat16 bits (the top 16 bits), rounded to nearest even; NaN stays NaN.
 *
 * @param value The number.
 * @returns The 16 bits.
 *
 * @example
 * ```ts
 * import { toBfloat16Bits } from "./half_tensor.ts";
 * console.log(toBfloat16Bits(1).toString(16)); // 3f80
 * ```
 */
export function toBfloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return (x >>> 16) | 0x40; // NaN
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * bfloat16 bits → number.
 *
 * @param h The 16 bits.
 * @returns The value.
 *
 * @example
 * ```ts
 * import { fromBfloat16Bits } from "./half_tensor.ts";
 * console.log(fromBfloat16Bits(0x3f80)); // 1
 * ```
 */
export function fromBfloat16Bits(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

/** Options of {@linkcode HalfTensor.fromValues} and {@linkcode HalfTensor.fromBits}. */
export interface HalfTensorOptions {
  /** Storage format (default `bfloat16`: float32's range, 8 bits of mantissa). */
  dtype?: HalfDType;
}

const KERNEL = "DreamboothWidenHalf";

/**
 * A frozen float tensor stored in 16 bits per value on the active backend (packed in pairs into
 * an int32 tensor, so it costs half the float32 bytes in `tf.memory()`) and widened to float32 by
 * one kernel when an op needs it: {@linkcode HalfTensor.widen} inside the `tf.tidy` of the op's
 * caller, so the float32 copy lives only as long as that op. Kernels exist for the cpu, wasm and
 * webgpu backends (webgpu: WGSL `unpack2x16float` / a shift for bfloat16); any other backend
 * widens on the host through one synchronous read. No gradient flows into it: it is for frozen
 * weights (a text encoder during DreamBooth, a base model under LoRA).
 *
 * @example
 * ```ts
 * import { tf } from "./deps.ts";
 * import { HalfTensor } from "./half_tensor.ts";
 * await tf.setBackend("cpu");
 * using w = HalfTensor.fromValues(new Float32Array([1, -2.5, 3]), [3], { dtype: "float16" });
 * const x = tf.tidy(() => tf.mul(w.widen(), 2));
 * console.log(Array.from(x.dataSync()), w.bytes); // [ 2, -5, 6 ] 8
 * x.dispose();
 * ```
 */
export class HalfTensor {
  /** Shape of the widened tensor. */
  readonly shape: readonly number[];
  /** Storage format. */
  readonly dtype: HalfDType;
  /** Number of values. */
  readonly size: number;
  #packed: tf.Tensor | null;

  private constructor(packed: tf.Tensor, shape: readonly number[], dtype: HalfDType) {
    this.#packed = packed;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = shape.reduce((a, b) => a * b, 1);
  }

  /**
   * Rounds float32 values to 16 bits and stores them on the active backend.
   *
   * @param values The values (row-major, `shape`'s size).
   * @param shape The shape.
   * @param options See {@linkcode HalfTensorOptions}.
   * @returns The tensor, owned by the caller.
   * @throws {RangeError} When the sizes disagree or `dtype` is unknown.
   */
  static fromValues(
    values: ArrayLike<number>,
    shape: readonly number[],
    options: HalfTensorOptions = {},
  ): HalfTensor {
    const dtype = checkDtype(options.dtype);
    const size = checkSize(values.length, shape);
    const bits = new Uint16Array(size + (size & 1));
    const to = dtype === "float16" ? toHalfBits : toBfloat16Bits;
    for (let i = 0; i < size; i++) bits[i] = to(values[i]);
    return new HalfTensor(pack(bits), shape, dtype);
  }

  /**
   * Stores 16-bit patterns as they are (e.g. the bytes of a bf16/f16 safetensors tensor).
   *
   * @param bits One 16-bit pattern per value.
   * @param shape The shape.
   * @param options See {@linkcode HalfTensorOptions}.
   * @returns The tensor, owned by the caller.
   * @throws {RangeError} When the sizes disagree or `dtype` is unknown.
   */
  static fromBits(
    bits: Uint16Array,
    shape: readonly number[],
    options: HalfTensorOptions = {},
  ): HalfTensor {
    const dtype = checkDtype(options.dtype);
    const size = checkSize(bits.length, shape);
    const padded = new Uint16Array(size + (size & 1));
    padded.set(bits);
    return new HalfTensor(pack(padded), shape, dtype);
  }

  /** Bytes held on the backend (2 per value, rounded up to whole int32 words). */
  get bytes(): number {
    return this.#live().size * 4;
  }

  /**
   * The float32 tensor (exact: every 16-bit value is a float32), owned by the caller; call it inside
   * the `tf.tidy` of the op that needs it.
   *
   * @returns `[...shape]`, float32.
   * @throws {Error} When the tensor was disposed.
   */
  widen(): tf.Tensor {
    const packed = this.#live();
    const attrs = { bf16: this.dtype === "bfloat16" ? 1 : 0, size: this.size };
    const backend = tf.getBackend();
    ensureKernels();
    if (tf.getKernel(KERNEL, backend) !== undefined) {
      const flat = tf.engine().runKernel(KERNEL, { x: packed }, attrs) as tf.Tensor;
      return tf.tidy(() => tf.reshape(flat, [...this.shape]));
    }
    // No kernel for this backend: widen on the host (one synchronous read).
    const out = new Float32Array(this.size);
    widenInto(new Uint16Array((packed.dataSync() as Int32Array).buffer), out, attrs.bf16 === 1);
    return tf.tensor(out, [...this.shape], "float32");
  }

  /** Frees the packed values. */
  dispose(): void {
    this.#packed?.dispose();
    this.#packed = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #live(): tf.Tensor {
    if (this.#packed === null || this.#packed.isDisposed) {
      throw new Error("Cannot use a HalfTensor after dispose()");
    }
    return this.#packed;
  }
}

function checkDtype(dtype: unknown = "bfloat16"): HalfDType {
  if (dtype !== "float16" && dtype !== "bfloat16") {
    throw new RangeError(
      `Cannot make a HalfTensor as 'dtype' must be float16 or bfloat16: current value is ${
        JSON.stringify(dtype)
      }`,
    );
  }
  return dtype;
}

function checkSize(length: number, shape: readonly number[]): number {
  const size = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || size !== length) {
    throw new RangeError(
      `Cannot make a HalfTensor as 'shape' [${shape}] must hold the ${length} values given`,
    );
  }
  return size;
}

/** 16-bit patterns (even count) → int32 tensor of the pairs (little-endian: element 2k low). */
function pack(bits: Uint16Array): tf.Tensor {
  return tf.tensor1d(new Int32Array(bits.buffer, bits.byteOffset, bits.length / 2), "int32");
}

/** out[i] = the float of the 16-bit pattern bits[i]. */
function widenInto(bits: Uint16Array, out: Float32Array, bf16: boolean): void {
  const n = out.length;
  if (bf16) {
    const o = new Uint32Array(out.buffer, out.byteOffset, n);
    for (let i = 0; i < n; i++) o[i] = bits[i] << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = fromHalfBits(bits[i]);
  }
}

type WidenAttrs = { bf16: number; size: number };

let registered = false;

/** Registers the widening kernel for cpu, wasm and (when loaded) webgpu, once each. */
function ensureKernels(): void {
  const has = (b: string) => tf.getKernel(KERNEL, b) !== undefined;
  if (!registered) {
    registered = true;
    tf.registerKernel({
      kernelName: KERNEL,
      backendName: "cpu",
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { bf16, size } = attrs as unknown as WidenAttrs;
        const cpu = backend as unknown as {
          data: { get(id: unknown): { values: Int32Array } };
          makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
        };
        const words = cpu.data.get((inputs.x as tf.TensorInfo).dataId).values;
        const out = new Float32Array(size);
        widenInto(
          new Uint16Array(words.buffer, words.byteOffset, words.length * 2),
          out,
          bf16 === 1,
        );
        return cpu.makeTensorInfo([size], "float32", out);
      },
    });
    tf.registerKernel({
      kernelName: KERNEL,
      backendName: "wasm",
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { bf16, size } = attrs as unknown as WidenAttrs;
        const wasm = backend as unknown as WasmBackend;
        const x = inputs.x as tf.TensorInfo;
        const info = wasm.makeOutput([size], "float32");
        // Views after the allocation (it may grow the heap and replace its buffer).
        const heap = wasm.wasm.HEAPU8.buffer;
        const words = x.shape[0];
        const bits = new Uint16Array(heap, wasm.dataIdMap.get(x.dataId)!.memoryOffset, words * 2);
        const out = new Float32Array(heap, wasm.dataIdMap.get(info.dataId)!.memoryOffset, size);
        widenInto(bits, out, bf16 === 1);
        return info;
      },
    });
  }
  // The native engine's backend is the cpu backend's class: the cpu kernel serves it as is.
  if (!has("native") && tf.findBackendFactory("native") != null) {
    tf.registerKernel({ ...tf.getKernel(KERNEL, "cpu")!, backendName: "native" });
  }
  if (!has("webgpu") && tf.findBackendFactory("webgpu") != null) {
    tf.registerKernel({
      kernelName: KERNEL,
      backendName: "webgpu",
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { bf16, size } = attrs as unknown as WidenAttrs;
        const gpu = backend as unknown as {
          runWebGPUProgram(
            program: unknown,
            inputs: tf.TensorInfo[],
            dtype: tf.DataType,
            uniforms?: { type: string; data: number[] }[],
          ): tf.TensorInfo;
        };
        const program = new WidenHalfProgram(size, bf16 === 1);
        const stride = program.dispatch[0] * program.workgroupSize[0];
        return gpu.runWebGPUProgram(program, [inputs.x as tf.TensorInfo], "float32", [
          { type: "int32", data: [stride] },
        ]);
      },
    });
  }
}

/** WGSL program: out[i] = float of the i-th 16-bit half of the packed int32 words (grid-stride). */
class WidenHalfProgram {
  variableNames = ["A"];
  size = true;
  uniforms = "stride : i32,";
  workgroupSize: [number, number, number] = [256, 1, 1];
  outputShape: number[];
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  shaderKey: string;
  #bf16: boolean;

  constructor(size: number, bf16: boolean) {
    this.outputShape = [size];
    this.dispatch = [Math.max(1, Math.min(Math.ceil(size / 256), 65535)), 1, 1];
    this.#bf16 = bf16;
    this.shaderKey = `dreambooth_widen_half_${bf16 ? "bf16" : "f16"}`;
  }

  getUserCode(): string {
    const widen = this.#bf16 ? "bitcast<f32>(bits << 16u)" : "unpack2x16float(bits).x";
    return `
      fn main(index : i32) {
        for (var i = index; i < uniforms.size; i = i + uniforms.stride) {
          let word = bitcast<u32>(A[i / 2]);
          let bits = select(word & 0xffffu, word >> 16u, (i & 1) == 1);
          setOutputAtIndex(i, ${widen});
        }
      }
    `;
  }
}
