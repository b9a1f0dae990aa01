// Private procedural drawing in normalised coordinates (u → right, v → down, both in [0, 1]) on an
// RGB float canvas (values in [0, 1]). Everything is resolution-independent: the same calls at any
// pixel size draw the same picture, so every cascade stage sees the same scene.

export type Rgb = readonly [number, number, number];

/** "#rrggbb" → [r, g, b] in [0, 1]. */
export function hex(s: string): Rgb {
  const n = parseInt(s.slice(1), 16);
  return [(n >> 16 & 255) / 255, (n >> 8 & 255) / 255, (n & 255) / 255];
}

/** Linear mix of two colours. */
export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** Multiplies a colour by a factor (brightness). */
export function shade(c: Rgb, f: number): Rgb {
  return [c[0] * f, c[1] * f, c[2] * f];
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

export function lattice(ix: number, iy: number, seed: number): number {
  // A small integer hash (no allocation: this runs several times per pixel).
  let h = Math.imul(ix | 0, 0x27d4eb2d) ^ Math.imul(iy | 0, 0x165667b1) ^
    Math.imul(seed | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth value noise in [0, 1) at continuous coordinates (resolution-independent). */
export function valueNoise(x: number, y: number, seed: number): number {
  const ix = Math.floor(x), iy = Math.floor(y);
  const fx = smooth(x - ix), fy = smooth(y - iy);
  const a = lattice(ix, iy, seed), b = lattice(ix + 1, iy, seed);
  const c = lattice(ix, iy + 1, seed), d = lattice(ix + 1, iy + 1, seed);
  return a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy;
}

/** Fractal noise (octaves of value noise), roughly in [0, 1). */
export function fbm(x: number, y: number, seed: number, octaves = 3): number {
  let sum = 0, amp = 0.5, norm = 0, f = 1;
  for (let o = 0; o < octaves; o++) {
    sum += amp * valueNoise(x * f, y * f, seed + o * 1013);
    norm += amp;
    amp *= 0.5;
    f *= 2.03;
  }
  return sum / norm;
}

/** An RGB float canvas drawn in normalised coordinates. */
export class Canvas {
  readonly w: number;
  readonly h: number;
  readonly data: Float32Array;
  constructor(w: number, h: number) {
    this.w = w;
    this.h = h;
    this.data = new Float32Array(w * h * 3);
  }

  /** Blends colour c with coverage a into pixel index p. */
  blend(p: number, c: Rgb, a: number): void {
    const d = this.data, i = p * 3;
    d[i] += (c[0] - d[i]) * a;
    d[i + 1] += (c[1] - d[i + 1]) * a;
    d[i + 2] += (c[2] - d[i + 2]) * a;
  }

  /** Runs fn(u, v, pixelIndex) for every pixel centre with v in [v0, v1). */
  each(v0: number, v1: number, fn: (u: number, v: number, p: number) => void): void {
    const { w, h } = this;
    const y0 = Math.max(0, Math.floor(v0 * h)), y1 = Math.min(h, Math.ceil(v1 * h));
    for (let y = y0; y < y1; y++) {
      const v = (y + 0.5) / h;
      for (let x = 0; x < w; x++) fn((x + 0.5) / w, v, y * w + x);
    }
  }

  /** Vertical gradient from `top` (at v0) to `bottom` (at v1) over rows v0..v1. */
  gradient(v0: number, v1: number, top: Rgb, bottom: Rgb): void {
    const d = this.data;
    this.each(v0, v1, (_u, v, p) => {
      const t = Math.min(1, Math.max(0, (v - v0) / (v1 - v0)));
      d[3 * p] = top[0] + (bottom[0] - top[0]) * t;
      d[3 * p + 1] = top[1] + (bottom[1] - top[1]) * t;
      d[3 * p + 2] = top[2] + (bottom[2] - top[2]) * t;
    });
  }

  /** Multiplies rows v0..v1 by 1 + amount·(noise − 0.5)·2 (texture). */
  noise(v0: number, v1: number, amount: number, freq: number, seed: number, octaves = 3): void {
    const d = this.data;
    this.each(v0, v1, (u, v, p) => {
      const f = 1 + amount * (fbm(u * freq, v * freq, seed, octaves) - 0.5) * 2;
      d[3 * p] *= f;
      d[3 * p + 1] *= f;
      d[3 * p + 2] *= f;
    });
  }

  /** Pixel range of a normalised box, clipped. */
  #box(u0: number, v0: number, u1: number, v1: number): [number, number, number, number] {
    return [
      Math.max(0, Math.floor(u0 * this.w)),
      Math.max(0, Math.floor(v0 * this.h)),
      Math.min(this.w, Math.ceil(u1 * this.w)),
      Math.min(this.h, Math.ceil(v1 * this.h)),
    ];
  }

  /** Filled axis-aligned rectangle. */
  rect(u0: number, v0: number, u1: number, v1: number, c: Rgb, alpha = 1): void {
    const [x0, y0, x1, y1] = this.#box(u0, v0, u1, v1);
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) this.blend(y * this.w + x, c, alpha);
    }
  }

  /** Filled (rotated) ellipse; `angle` in radians. Edges are soft over about one pixel. */
  ellipse(cu: number, cv: number, ru: number, rv: number, c: Rgb, alpha = 1, angle = 0): void {
    const r = Math.max(ru, rv);
    const [x0, y0, x1, y1] = this.#box(cu - r, cv - r, cu + r, cv + r);
    const cs = Math.cos(angle), sn = Math.sin(angle);
    const px = 1 / Math.min(this.w, this.h);
    const feather = px / Math.max(1e-6, Math.min(ru, rv));
    for (let y = y0; y < y1; y++) {
      const dv = (y + 0.5) / this.h - cv;
      for (let x = x0; x < x1; x++) {
        const du = (x + 0.5) / this.w - cu;
        const a = (du * cs + dv * sn) / ru, b = (-du * sn + dv * cs) / rv;
        const q = Math.sqrt(a * a + b * b);
        if (q >= 1 + feather) continue;
        const cover = q <= 1 - feather ? 1 : (1 + feather - q) / (2 * feather);
        this.blend(y * this.w + x, c, alpha * cover);
      }
    }
  }

  /** Filled polygon (even-odd rule), points as [u, v] pairs. */
  polygon(points: ReadonlyArray<readonly [number, number]>, c: Rgb, alpha = 1): void {
    let u0 = 1, v0 = 1, u1 = 0, v1 = 0;
    for (const [u, v] of points) {
      u0 = Math.min(u0, u), u1 = Math.max(u1, u), v0 = Math.min(v0, v), v1 = Math.max(v1, v);
    }
    const [x0, y0, x1, y1] = this.#box(u0, v0, u1, v1);
    const n = points.length;
    const xs: number[] = [];
    for (let y = y0; y < y1; y++) {
      const v = (y + 0.5) / this.h;
      xs.length = 0;
      for (let i = 0, j = n - 1; i < n; j = i++) {
        const [ui, vi] = points[i], [uj, vj] = points[j];
        if ((vi > v) !== (vj > v)) xs.push(ui + (v - vi) / (vj - vi) * (uj - ui));
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const xa = Math.max(x0, Math.round(xs[k] * this.w)),
          xb = Math.min(x1, Math.round(xs[k + 1] * this.w));
        for (let x = xa; x < xb; x++) this.blend(y * this.w + x, c, alpha);
      }
    }
  }

  /** A straight line of width `width` (normalised) from (ua, va) to (ub, vb). */
  line(ua: number, va: number, ub: number, vb: number, width: number, c: Rgb, alpha = 1): void {
    const du = ub - ua, dv = vb - va, len = Math.hypot(du, dv) || 1e-9;
    const nu = -dv / len * width / 2, nv = du / len * width / 2;
    this.polygon(
      [[ua + nu, va + nv], [ub + nu, vb + nv], [ub - nu, vb - nv], [ua - nu, va - nv]],
      c,
      alpha,
    );
  }

  /** Box-filter downsampling by an integer factor, into a new canvas. */
  downsample(f: number): Canvas {
    if (f === 1) return this;
    const out = new Canvas(Math.floor(this.w / f), Math.floor(this.h / f));
    const s = this.data, d = out.data, inv = 1 / (f * f);
    for (let y = 0; y < out.h; y++) {
      for (let x = 0; x < out.w; x++) {
        let r = 0, g = 0, b = 0;
        for (let j = 0; j < f; j++) {
          let i = ((y * f + j) * this.w + x * f) * 3;
          for (let k = 0; k < f; k++, i += 3) r += s[i], g += s[i + 1], b += s[i + 2];
        }
        const o = (y * out.w + x) * 3;
        d[o] = r * inv, d[o + 1] = g * inv, d[o + 2] = b * inv;
      }
    }
    return out;
  }
}
