// Private compositing of an emoji raster onto a scene canvas: scale, rotation, flips, colour
// edits, bilinear sampling of premultiplied RGBA, in plain typed arrays.
import type { Canvas } from "./_canvas.ts";
import type { Raster } from "./_raster.ts";

export interface Placement {
  /** Centre in pixels. */
  cx: number;
  cy: number;
  /** Output pixels per raster pixel. */
  scale: number;
  /** Rotation in radians (clockwise on screen). */
  angle: number;
  /** Mirror left-right. */
  flipX: boolean;
  /** Mirror top-bottom (used for reflections). */
  flipY: boolean;
  /** Overall opacity. */
  opacity: number;
  /** Tint colour or null. */
  tint: readonly [number, number, number] | null;
  /** "shiny" edit. */
  shiny: boolean;
  /** "wet" edit. */
  wet?: boolean;
}

export function composite(canvas: Canvas, r: Raster, p: Placement): void {
  const { w, h, data } = canvas;
  const cs = Math.cos(p.angle), sn = Math.sin(p.angle);
  const halfW = r.w * p.scale / 2, halfH = r.h * p.scale / 2;
  const ext = Math.abs(cs) * halfW + Math.abs(sn) * halfH;
  const eyt = Math.abs(sn) * halfW + Math.abs(cs) * halfH;
  const x0 = Math.max(0, Math.floor(p.cx - ext - 1)), x1 = Math.min(w, Math.ceil(p.cx + ext + 1));
  const y0 = Math.max(0, Math.floor(p.cy - eyt - 1)), y1 = Math.min(h, Math.ceil(p.cy + eyt + 1));
  const inv = 1 / p.scale, rw = r.w, rh = r.h, src = r.rgba;
  const fx = p.flipX ? -1 : 1, fy = p.flipY ? -1 : 1;
  const tint = p.tint;
  for (let y = y0; y < y1; y++) {
    const dy = y + 0.5 - p.cy;
    for (let x = x0; x < x1; x++) {
      const dx = x + 0.5 - p.cx;
      // Inverse map: undo rotation, then scale, into raster coordinates (pixel centres at +0.5).
      const sx = fx * (cs * dx + sn * dy) * inv + rw / 2 - 0.5;
      const sy = fy * (-sn * dx + cs * dy) * inv + rh / 2 - 0.5;
      if (sx <= -1 || sy <= -1 || sx >= rw || sy >= rh) continue;
      const ix = Math.floor(sx), iy = Math.floor(sy);
      const ax = sx - ix, ay = sy - iy;
      let cr = 0, cg = 0, cb = 0, ca = 0;
      for (let k = 0; k < 4; k++) {
        const xx = ix + (k & 1), yy = iy + (k >> 1);
        if (xx < 0 || yy < 0 || xx >= rw || yy >= rh) continue;
        const wgt = ((k & 1) ? ax : 1 - ax) * ((k >> 1) ? ay : 1 - ay);
        const i = (yy * rw + xx) * 4;
        cr += src[i] * wgt, cg += src[i + 1] * wgt, cb += src[i + 2] * wgt, ca += src[i + 3] * wgt;
      }
      if (ca < 1e-4) continue;
      if (tint !== null || p.shiny || p.wet) {
        let r0 = cr / ca, g0 = cg / ca, b0 = cb / ca;
        const lum = 0.299 * r0 + 0.587 * g0 + 0.114 * b0;
        if (tint !== null && lum > 0.1) {
          // Recolour keeping the shading: tint scaled by luminance, plus highlights.
          const hi = 0.35 * lum * lum * lum;
          const k = 0.45 + 0.95 * lum;
          r0 = r0 * 0.12 + 0.88 * Math.min(1, tint[0] * k + hi);
          g0 = g0 * 0.12 + 0.88 * Math.min(1, tint[1] * k + hi);
          b0 = b0 * 0.12 + 0.88 * Math.min(1, tint[2] * k + hi);
        }
        if (p.shiny) {
          // Higher contrast and a specular highlight up-left of the object's centre.
          const u = (sx + 0.5) / rw - 0.32, v = (sy + 0.5) / rh - 0.3;
          const spec = 0.75 * Math.exp(-(u * u + v * v * 1.6) / 0.012);
          const band = 0.25 * Math.exp(-((u - v) ** 2) / 0.004);
          r0 = Math.min(1, Math.max(0, 0.5 + (r0 - 0.5) * 1.35) + spec + band);
          g0 = Math.min(1, Math.max(0, 0.5 + (g0 - 0.5) * 1.35) + spec + band);
          b0 = Math.min(1, Math.max(0, 0.5 + (b0 - 0.5) * 1.35) + spec + band);
        }
        if (p.wet) {
          // Darker, more saturated, with small bright droplets (in raster space, so they stay on
          // the object at every size).
          const m = (r0 + g0 + b0) / 3;
          r0 = Math.max(0, (m + (r0 - m) * 1.25) * 0.72);
          g0 = Math.max(0, (m + (g0 - m) * 1.25) * 0.72);
          b0 = Math.max(0, (m + (b0 - m) * 1.25) * 0.72);
          const gx = (sx + 0.5) / rw * 9, gy = (sy + 0.5) / rh * 9;
          const cx = Math.floor(gx), cy = Math.floor(gy);
          const hsh = Math.imul(cx * 73856093 ^ cy * 19349663, 0x9e3779b1) >>> 0;
          if ((hsh & 3) === 0) {
            const ox = 0.3 + ((hsh >>> 8) & 255) / 640, oy = 0.3 + ((hsh >>> 16) & 255) / 640;
            const dd = (gx - cx - ox) ** 2 + (gy - cy - oy) ** 2;
            const drop = Math.exp(-dd / 0.012);
            r0 += (1 - r0) * drop * 0.85, g0 += (1 - g0) * drop * 0.85, b0 += (1 - b0) * drop * 0.9;
          }
        }
        cr = r0 * ca, cg = g0 * ca, cb = b0 * ca;
      }
      const a = ca * p.opacity, o = (y * w + x) * 3;
      data[o] = cr * p.opacity + data[o] * (1 - a);
      data[o + 1] = cg * p.opacity + data[o + 1] * (1 - a);
      data[o + 2] = cb * p.opacity + data[o + 2] * (1 - a);
    }
  }
}
