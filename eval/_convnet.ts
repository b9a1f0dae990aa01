// Private: the small conv nets of eval/ (a plain strided 3×3 conv trunk with global average
// pooling, and dense heads), their weights as safetensors, and a JS Adam with savable state.
import { decodeSafetensors, encodeSafetensors, type NamedTensor, tf } from "./deps.ts";

/** One 3×3 conv layer of a trunk (ReLU after it). */
export interface ConvLayer {
  channels: number;
  stride: 1 | 2;
}

/** Architecture of a net: trunk, then dense heads on the pooled features. */
export interface ConvNetConfig {
  /** Input side (images are resized to it). */
  inputSize: number;
  /** The 3×3 conv layers (ReLU each), then global average pooling. */
  layers: ConvLayer[];
  /** Dense heads on the pooled features: name → output width. */
  heads: Record<string, number>;
  /** Batch normalisation after each conv (default false); inference uses calibrated statistics. */
  norm?: boolean;
}

/** How {@link ConvNet.features} normalises: with the batch's statistics (training) or the stored ones. */
export interface FeatureOptions {
  /** Use the batch's own mean/variance (training, calibration). Default false. */
  batchStats?: boolean;
  /** When given, receives each layer's batch mean and variance (kept tensors, caller disposes). */
  record?: tf.Tensor[];
}

/** Weights of a conv net as tfjs variables (owned: dispose()). */
export class ConvNet {
  config: ConvNetConfig;
  readonly params: Map<string, tf.Variable>;

  constructor(config: ConvNetConfig, params: Map<string, tf.Variable>) {
    this.config = config;
    this.params = params;
  }

  /** He-initialised weights from a seed. */
  static init(config: ConvNetConfig, seed: number): ConvNet {
    const params = new Map<string, tf.Variable>();
    let cin = 3, s = seed;
    config.layers.forEach((l, i) => {
      const std = Math.sqrt(2 / (9 * cin));
      params.set(
        `conv${i}.w`,
        variableOf(tf.randomNormal([3, 3, cin, l.channels], 0, std, "float32", s++)),
      );
      params.set(`conv${i}.b`, variableOf(tf.zeros([l.channels])));
      if (config.norm) {
        params.set(`conv${i}.g`, variableOf(tf.ones([l.channels])));
        params.set(`conv${i}.mean`, variableOf(tf.zeros([l.channels]), false));
        params.set(`conv${i}.var`, variableOf(tf.ones([l.channels]), false));
      }
      cin = l.channels;
    });
    for (const [name, n] of Object.entries(config.heads)) {
      // A head named "instances" (the embedder's training-only cosine classifier) reads the
      // "embed" head's output instead of the pooled features.
      const k = name === "instances" ? config.heads.embed : cin;
      const std = Math.sqrt(1 / k);
      params.set(`${name}.w`, variableOf(tf.randomNormal([k, n], 0, std, "float32", s++)));
      params.set(`${name}.b`, variableOf(tf.zeros([n])));
    }
    return new ConvNet(config, params);
  }

  /** Pooled trunk features `[B, C]` of images `[B, S, S, 3]` in [-1, 1]. */
  features(x: tf.Tensor4D, options: FeatureOptions = {}): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor4D = x;
      this.config.layers.forEach((l, i) => {
        if (this.config.norm) {
          const y = tf.conv2d(h, this.params.get(`conv${i}.w`)! as tf.Tensor4D, l.stride, "same");
          let mean: tf.Tensor, variance: tf.Tensor;
          if (options.batchStats) {
            ({ mean, variance } = tf.moments(y, [0, 1, 2]));
            if (options.record) options.record.push(tf.keep(mean), tf.keep(variance));
          } else {
            mean = this.params.get(`conv${i}.mean`)!;
            variance = this.params.get(`conv${i}.var`)!;
          }
          h = tf.relu(
            tf.batchNorm(
              y,
              mean,
              variance,
              this.params.get(`conv${i}.b`)!,
              this.params.get(`conv${i}.g`)!,
              1e-5,
            ),
          ) as tf.Tensor4D;
          return;
        }
        h = tf.fused.conv2d({
          x: h,
          filter: this.params.get(`conv${i}.w`)! as tf.Tensor4D,
          bias: this.params.get(`conv${i}.b`)!,
          strides: l.stride,
          pad: "same",
          activation: "relu",
        });
      });
      return tf.mean(h, [1, 2]) as tf.Tensor2D;
    });
  }

  /** Sets the stored normalisation statistics from the batch statistics of `x` (a large batch). */
  calibrate(x: tf.Tensor4D): void {
    if (!this.config.norm) return;
    const record: tf.Tensor[] = [];
    tf.dispose(this.features(x, { batchStats: true, record }));
    this.config.layers.forEach((_, i) => {
      this.params.get(`conv${i}.mean`)!.assign(record[2 * i]);
      this.params.get(`conv${i}.var`)!.assign(record[2 * i + 1]);
    });
    tf.dispose(record);
  }

  /** Head `name` on features `[B, C]`: `[B, n]` (logits). */
  head(name: string, features: tf.Tensor2D): tf.Tensor2D {
    const w = this.params.get(`${name}.w`), b = this.params.get(`${name}.b`);
    if (w === undefined || b === undefined) {
      throw new RangeError(`Cannot run head '${name}' as the net has no such head`);
    }
    return tf.tidy(() => tf.add(tf.matMul(features, w as tf.Tensor2D), b) as tf.Tensor2D);
  }

  /** The weights as named tensors (for safetensors). */
  toNamedTensors(): Map<string, NamedTensor> {
    const out = new Map<string, NamedTensor>();
    for (const [name, v] of this.params) {
      out.set(name, { shape: v.shape.slice(), data: v.dataSync() as Float32Array });
    }
    return out;
  }

  /** Encodes weights + config + metadata as safetensors bytes. */
  encode(metadata: Record<string, string>, floatDtype: "F32" | "F16" = "F16"): Uint8Array {
    return encodeSafetensors(this.toNamedTensors(), {
      metadata: { ...metadata, config: JSON.stringify(this.config) },
      floatDtype,
    });
  }

  /** Builds a net from safetensors bytes written by {@link ConvNet.encode}. */
  static decode(
    bytes: Uint8Array,
    source: string,
  ): { net: ConvNet; metadata: Record<string, string> } {
    const { tensors, metadata } = decodeSafetensors(bytes, { source });
    if (metadata.config === undefined) {
      throw new RangeError(`Cannot load ${source} as its metadata has no 'config'`);
    }
    const config = JSON.parse(metadata.config) as ConvNetConfig;
    const params = new Map<string, tf.Variable>();
    for (const [name, t] of tensors) {
      const trainable = !name.endsWith(".mean") && !name.endsWith(".var");
      params.set(
        name,
        variableOf(tf.tensor(t.data as Float32Array, t.shape), trainable, `${name}_${nextId++}`),
      );
    }
    return { net: new ConvNet(config, params), metadata };
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}

let nextId = 0;

/** A variable holding `value`'s data; `value` is disposed (the variable keeps its own reference). */
export function variableOf(value: tf.Tensor, trainable = true, name?: string): tf.Variable {
  const v = tf.variable(value, trainable, name);
  value.dispose();
  return v;
}

/** Number of weights. */
export function paramCount(net: ConvNet): number {
  let n = 0;
  for (const v of net.params.values()) n += v.size;
  return n;
}

/** Adam with moments in Float32Arrays (savable), learning rate per step. */
export class JsAdam {
  m = new Map<string, Float32Array>();
  v = new Map<string, Float32Array>();
  t = 0;
  constructor(readonly beta1 = 0.9, readonly beta2 = 0.999, readonly eps = 1e-8) {}

  step(
    params: Map<string, tf.Variable>,
    grads: Record<string, tf.Tensor>,
    lr: number,
    weightDecay = 0,
  ): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t, c2 = 1 - this.beta2 ** this.t;
    for (const [name, p] of params) {
      const g = grads[name];
      if (g === undefined) continue;
      const gd = g.dataSync() as Float32Array;
      const w = (p.dataSync() as Float32Array).slice();
      let m = this.m.get(name), v = this.v.get(name);
      if (m === undefined || v === undefined) {
        m = new Float32Array(w.length);
        v = new Float32Array(w.length);
        this.m.set(name, m);
        this.v.set(name, v);
      }
      const decay = name.endsWith(".w") ? weightDecay * lr : 0;
      for (let i = 0; i < w.length; i++) {
        const gi = gd[i];
        m[i] = this.beta1 * m[i] + (1 - this.beta1) * gi;
        v[i] = this.beta2 * v[i] + (1 - this.beta2) * gi * gi;
        w[i] -= lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + this.eps) + decay * w[i];
      }
      const nt = tf.tensor(w, p.shape);
      p.assign(nt);
      nt.dispose();
    }
  }

  toNamedTensors(): Map<string, NamedTensor> {
    const out = new Map<string, NamedTensor>();
    for (const [k, a] of this.m) out.set(`adam.m.${k}`, { shape: [a.length], data: a });
    for (const [k, a] of this.v) out.set(`adam.v.${k}`, { shape: [a.length], data: a });
    out.set("adam.t", { shape: [1], data: new Int32Array([this.t]) });
    return out;
  }

  load(tensors: Map<string, NamedTensor>): void {
    for (const [k, t] of tensors) {
      if (k.startsWith("adam.m.")) this.m.set(k.slice(7), t.data as Float32Array);
      else if (k.startsWith("adam.v.")) this.v.set(k.slice(7), t.data as Float32Array);
      else if (k === "adam.t") this.t = (t.data as Int32Array)[0];
    }
  }
}

/**
 * uint8 pixels of scenes `idx` (from a [N, S, S, 3] array) → float [-1, 1] batch; optionally each
 * mirrored left-right with probability ½ (`flip`), translated by up to ±`shift` px in x and y
 * (edges replicated), and blurred to half resolution with probability `blurFraction`.
 */
export function gatherBatch(
  pixels: Uint8Array,
  size: number,
  idx: number[],
  options: { blurFraction?: number; flip?: boolean; shift?: number; rand?: () => number } = {},
): Float32Array {
  const { blurFraction = 0, flip = false, shift = 0, rand = Math.random } = options;
  const n = size * size * 3;
  const out = new Float32Array(idx.length * n);
  const clamp = (v: number) => v < 0 ? 0 : v >= size ? size - 1 : v;
  idx.forEach((j, b) => {
    const src = j * n, dst = b * n;
    const mirror = flip && rand() < 0.5;
    const dx = shift > 0 ? Math.floor(rand() * (2 * shift + 1)) - shift : 0;
    const dy = shift > 0 ? Math.floor(rand() * (2 * shift + 1)) - shift : 0;
    if (mirror || dx !== 0 || dy !== 0) {
      // Mirrored left-right and/or translated with edge replication (augmentation).
      for (let y = 0; y < size; y++) {
        const sy = clamp(y + dy);
        for (let x = 0; x < size; x++) {
          const sx = clamp((mirror ? size - 1 - x : x) + dx);
          const o = dst + (y * size + x) * 3, i = src + (sy * size + sx) * 3;
          out[o] = pixels[i] / 127.5 - 1;
          out[o + 1] = pixels[i + 1] / 127.5 - 1;
          out[o + 2] = pixels[i + 2] / 127.5 - 1;
        }
      }
    } else {
      for (let i = 0; i < n; i++) out[dst + i] = pixels[src + i] / 127.5 - 1;
    }
    if (rand() < blurFraction) blur2x(out, dst, size);
  });
  return out;
}

// Down to half size by 2×2 means and back up by nearest (what a 32 px base stage upsampled looks like).
function blur2x(a: Float32Array, off: number, size: number): void {
  for (let y = 0; y < size; y += 2) {
    for (let x = 0; x < size; x += 2) {
      for (let c = 0; c < 3; c++) {
        const i00 = off + (y * size + x) * 3 + c, i01 = i00 + 3;
        const i10 = i00 + size * 3, i11 = i10 + 3;
        const m = (a[i00] + a[i01] + a[i10] + a[i11]) / 4;
        a[i00] =
          a[i01] =
          a[i10] =
          a[i11] =
            m;
      }
    }
  }
}
