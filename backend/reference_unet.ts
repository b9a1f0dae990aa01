import { tf } from "./deps.ts";
import { silu } from "./silu.ts";
import { upsampleNearest } from "./upsample.ts";
import { createAdam } from "./adam.ts";
import { groupNorm } from "./group_norm.ts";

/** Options of {@linkcode createReferenceUnet}. */
export interface ReferenceUnetOptions {
  /** Channels per resolution level (default `[32, 64, 128]`: 32², 16², 8² for 32² images). */
  channels?: readonly number[];
  /** Image channels (default 3). */
  imageChannels?: number;
  /** GroupNorm groups (default 8). */
  groups?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
  /** Adam learning rate (default 1e-4). */
  learningRate?: number;
  /**
   * Which Adam: `"fused"` ({@linkcode createAdam}, default) or `"tfjs"` (`tf.train.adam`, ~10
   * kernel calls per variable and step).
   */
  optimizer?: "fused" | "tfjs";
}

/** The fixed benchmark model, see {@linkcode createReferenceUnet}. */
export interface ReferenceUnet {
  /** Trainable weights (owned by the model). */
  readonly variables: tf.Variable[];
  /** Number of scalar weights. */
  readonly parameterCount: number;
  /**
   * ε-prediction `[B, H, W, C]` for noisy images `[B, H, W, C]` at times `t ∈ [0, 1]` `[B]`
   * (inputs borrowed, output owned by the caller).
   */
  apply(x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor4D;
  /**
   * One Adam step on the ε-prediction loss of clean images `x0` (borrowed) under the cosine
   * schedule (`z_t = cos(πt/2)·x0 + sin(πt/2)·ε`), with noise and times drawn from `seed`.
   * Returns the loss (read synchronously, so the step has finished when it returns).
   */
  trainStep(x0: tf.Tensor4D, seed: number): number;
  /** Frees the weights and the optimizer state. */
  dispose(): void;
  [Symbol.dispose](): void;
}

/**
 * The reference model of the backend benchmark (DESIGN.md's table): a 32² diffusion UNet with
 * channels 32/64/128, one residual block per level and direction (GroupNorm ({@linkcode groupNorm},
 * 8 groups), SiLU, 3×3 convs,
 * time embedding added), single-head self-attention at 8² (down, middle and up), sinusoidal time
 * embedding with a two-layer MLP, stride-2 3×3 convs down and nearest-neighbour upsampling up,
 * skip connections by concatenation, Adam ({@linkcode createAdam} unless `optimizer: "tfjs"`). About 1.9 M weights and 11 GFLOP per training step at
 * batch 8. Every tensor has rank ≤ 4 (rank 5 is very slow on wasm).
 *
 * @param options See {@linkcode ReferenceUnetOptions}.
 * @returns The model (owns its weights: dispose it).
 *
 * @example
 * ```ts
 * import { tf } from "./deps.ts";
 * import { createReferenceUnet } from "./reference_unet.ts";
 * await tf.setBackend("cpu");
 * using unet = createReferenceUnet({ channels: [8, 16, 16] });
 * const x0 = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
 * console.log(Number.isFinite(unet.trainStep(x0, 1))); // true
 * x0.dispose();
 * ```
 */
export function createReferenceUnet(options: ReferenceUnetOptions = {}): ReferenceUnet {
  const {
    channels = [32, 64, 128],
    imageChannels = 3,
    groups = 8,
    seed = 0,
    learningRate = 1e-4,
    optimizer: which = "fused",
  } = options;
  if (channels.length < 1 || channels.some((c) => !Number.isInteger(c) || c % groups !== 0)) {
    throw new RangeError(
      `Cannot create the reference UNet as 'channels' must be multiples of groups=${groups}: ` +
        `current value is [${channels}]`,
    );
  }
  const { net, variables } = createWeights(channels, imageChannels, seed);
  const parameterCount = variables.reduce((n, v) => n + v.size, 0);
  const apply = createForward(net, channels, groups);

  const optimizer = which === "tfjs" ? tf.train.adam(learningRate) : null;
  const adam = which === "tfjs" ? null : createAdam({ learningRate });
  const trainStep = (x0: tf.Tensor4D, stepSeed: number): number => {
    const loss = tf.tidy(() => {
      const [b] = x0.shape;
      const t = tf.randomUniform([b], 0, 1, "float32", stepSeed) as tf.Tensor1D;
      const eps = tf.randomNormal(x0.shape, 0, 1, "float32", stepSeed + 1);
      const angle = tf.reshape(tf.mul(t, Math.PI / 2), [b, 1, 1, 1]);
      const zt = tf.add(tf.mul(tf.cos(angle), x0), tf.mul(tf.sin(angle), eps)) as tf.Tensor4D;
      const f = () => tf.mean(tf.squaredDifference(apply(zt, t), eps)) as tf.Scalar;
      return adam ? adam.minimize(f, variables) : optimizer!.minimize(f, true, variables)!;
    });
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  };
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    optimizer?.dispose();
    adam?.dispose();
    for (const v of variables) v.dispose();
  };
  return {
    variables,
    parameterCount,
    apply,
    trainStep,
    dispose,
    [Symbol.dispose]: dispose,
  };
}

/** The weights of the reference UNet, created in a fixed order (names and seeds depend on it). */
function createWeights(channels: readonly number[], imageChannels: number, seed: number) {
  const variables: tf.Variable[] = [];
  let nextSeed = seed * 1000 + 1;
  const weight = (shape: number[], fanIn: number, name: string) => {
    const v = tf.tidy(() =>
      tf.variable(
        tf.mul(tf.randomNormal(shape, 0, 1, "float32", nextSeed++), Math.sqrt(1 / fanIn)),
        true,
        `${name}_${variables.length}`,
      )
    );
    variables.push(v);
    return v;
  };
  const constant = (shape: number[], value: number, name: string) => {
    const v = tf.tidy(() =>
      tf.variable(tf.fill(shape, value), true, `${name}_${variables.length}`)
    );
    variables.push(v);
    return v;
  };
  const conv = (ci: number, co: number, k = 3, zero = false) => ({
    w: zero ? constant([k, k, ci, co], 0, "conv") : weight([k, k, ci, co], k * k * ci, "conv"),
    b: constant([co], 0, "bias"),
  });
  const dense = (ci: number, co: number) => ({
    w: weight([ci, co], ci, "dense"),
    b: constant([co], 0, "bias"),
  });
  const norm = (c: number) => ({ g: constant([c], 1, "gamma"), b: constant([c], 0, "beta") });

  const tDim = channels[0] * 4;
  const resBlock = (ci: number, co: number) => ({
    n1: norm(ci),
    c1: conv(ci, co),
    t: dense(tDim, co),
    n2: norm(co),
    c2: conv(co, co, 3, true),
    skip: ci === co ? null : conv(ci, co, 1),
  });
  const attention = (c: number) => ({ n: norm(c), qkv: dense(c, 3 * c), out: dense(c, c) });

  const levels = channels.length;
  const top = channels[levels - 1];
  const net = {
    temb1: dense(channels[0], tDim),
    temb2: dense(tDim, tDim),
    convIn: conv(imageChannels, channels[0]),
    down: channels.map((c, i) => ({
      res: resBlock(i === 0 ? channels[0] : channels[i - 1], c),
      attn: i === levels - 1 ? attention(c) : null,
      downsample: i < levels - 1 ? conv(c, c) : null,
    })),
    mid1: resBlock(top, top),
    midAttn: attention(top),
    mid2: resBlock(top, top),
    up: channels.map((c, i) => ({
      res: resBlock((i === levels - 1 ? top : channels[i + 1]) + c, c),
      attn: i === levels - 1 ? attention(c) : null,
    })),
    normOut: norm(channels[0]),
    convOut: conv(channels[0], imageChannels, 3, true),
  };
  return { net, variables };
}

/** The weights {@linkcode createWeights} makes, by role. */
type Net = ReturnType<typeof createWeights>["net"];

/** The forward pass `(x, t) ↦ ε̂` of `net` (output owned by the caller). */
function createForward(
  net: Net,
  channels: readonly number[],
  groups: number,
): (x: tf.Tensor4D, t: tf.Tensor1D) => tf.Tensor4D {
  const levels = channels.length;
  const conv2d = (x: tf.Tensor4D, p: { w: tf.Variable; b: tf.Variable }, stride = 1) =>
    tf.fused.conv2d({
      x,
      filter: p.w as tf.Tensor4D,
      strides: stride,
      pad: "same",
      bias: p.b,
    }) as tf.Tensor4D;
  const linear = (x: tf.Tensor2D, p: { w: tf.Variable; b: tf.Variable }) =>
    tf.fused.matMul({ a: x, b: p.w as tf.Tensor2D, bias: p.b }) as tf.Tensor2D;
  const normalize = (x: tf.Tensor4D, p: { g: tf.Variable; b: tf.Variable }) =>
    groupNorm(x, p.g as tf.Tensor1D, p.b as tf.Tensor1D, { groups, epsilon: 1e-5 });
  const res = (x: tf.Tensor4D, emb: tf.Tensor2D, p: Net["mid1"]) => {
    const [b] = x.shape;
    let h = conv2d(silu(normalize(x, p.n1)) as tf.Tensor4D, p.c1);
    const co = h.shape[3];
    h = tf.add(h, tf.reshape(linear(silu(emb) as tf.Tensor2D, p.t), [b, 1, 1, co]));
    h = conv2d(silu(normalize(h, p.n2)) as tf.Tensor4D, p.c2);
    return tf.add(p.skip ? conv2d(x, p.skip) : x, h) as tf.Tensor4D;
  };
  const attend = (x: tf.Tensor4D, p: Net["midAttn"]) => {
    const [b, h, w, c] = x.shape;
    const n = h * w;
    const qkv = linear(tf.reshape(normalize(x, p.n), [b * n, c]) as tf.Tensor2D, p.qkv); // [B·N, 3C]
    const q = tf.reshape(tf.slice(qkv, [0, 0], [b * n, c]), [b, n, c]);
    const k = tf.reshape(tf.slice(qkv, [0, c], [b * n, c]), [b, n, c]);
    const v = tf.reshape(tf.slice(qkv, [0, 2 * c], [b * n, c]), [b, n, c]);
    const weights = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(c))); // [B, N, N]
    const o = tf.reshape(tf.matMul(weights, v), [b * n, c]) as tf.Tensor2D;
    return tf.add(x, tf.reshape(linear(o, p.out), [b, h, w, c])) as tf.Tensor4D;
  };
  const timeEmbedding = (t: tf.Tensor1D) => {
    const half = channels[0] / 2;
    const freqs = tf.exp(tf.mul(tf.range(0, half), -Math.log(10000) / half)); // [half]
    const args = tf.mul(tf.reshape(tf.mul(t, 1000), [-1, 1]), tf.reshape(freqs, [1, half]));
    const sinusoid = tf.concat([tf.sin(args), tf.cos(args)], 1) as tf.Tensor2D;
    return linear(silu(linear(sinusoid, net.temb1)) as tf.Tensor2D, net.temb2);
  };

  const apply = (x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor4D =>
    tf.tidy(() => {
      const emb = timeEmbedding(t);
      let h = conv2d(x, net.convIn);
      const skips: tf.Tensor4D[] = [];
      net.down.forEach((level) => {
        h = res(h, emb, level.res);
        if (level.attn) h = attend(h, level.attn);
        skips.push(h);
        if (level.downsample) h = conv2d(h, level.downsample, 2);
      });
      h = res(h, emb, net.mid1);
      h = attend(h, net.midAttn);
      h = res(h, emb, net.mid2);
      for (let i = levels - 1; i >= 0; i--) {
        const level = net.up[i];
        h = res(tf.concat([h, skips[i]], 3) as tf.Tensor4D, emb, level.res);
        if (level.attn) h = attend(h, level.attn);
        if (i > 0) h = upsampleNearest(h, 2);
      }
      return conv2d(silu(normalize(h, net.normOut)) as tf.Tensor4D, net.convOut);
    });
  return apply;
}
