/* Private: the C kernels of the native CPU engine (backend/native_engine.ts). Compiled once by the
 * system `cc` into a cache (backend/_native_lib.ts records the flags), opened with Deno.dlopen.
 * Every pointer is the start of a tfjs cpu-backend TypedArray (the tensors live in JavaScript
 * ArrayBuffers, outside any wasm heap) passed as an FFI "buffer": nothing is copied.
 * GEMMs go to OpenBLAS's cblas_sgemm (opened here by the path JavaScript found, see blas.ts);
 * everything else is a plain loop, split across threads with OpenMP where the work is large. */
#include <dlfcn.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef void (*sgemm_t)(int, int, int, int, int, int, float, const float *, int, const float *,
                        int, float, float *, int);
static sgemm_t SG = 0;
enum { RowMajor = 101, NoTrans = 111, Trans = 112 };
/* Below this many elements a loop stays on one thread (waking the pool costs more). */
#define PAR_MIN 32768

int nk_version(void) { return 3; }

/* Opens cblas_sgemm from `path` (NUL-terminated). 0 on success. */
int nk_init(const char *path) {
  void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (!h) return -1;
  SG = (sgemm_t)dlsym(h, "cblas_sgemm");
  return SG ? 0 : -2;
}

void nk_set_threads(int n) { omp_set_num_threads(n > 0 ? n : 1); }
int nk_get_threads(void) { return omp_get_max_threads(); }

/* ---------------------------------------------------------------- elementwise */
static inline float bin(int op, float a, float b) {
  switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return a > b ? a : (a == a ? b : a); /* Maximum: NaN propagates like tfjs */
    case 5: return a < b ? a : (a == a ? b : a);
    case 6: { float d = a - b; return d * d; }
    case 7: return powf(a, b);
    default: return 0;
  }
}

#define INNER(OPEXPR)                                                      \
  if (sa == 1 && sb == 1) for (int64_t i = 0; i < n; i++) { float x = pa[i], y = pb[i]; o[i] = OPEXPR; } \
  else if (sa == 1 && sb == 0) { float y = pb[0]; for (int64_t i = 0; i < n; i++) { float x = pa[i]; o[i] = OPEXPR; } } \
  else if (sa == 0 && sb == 1) { float x = pa[0]; for (int64_t i = 0; i < n; i++) { float y = pb[i]; o[i] = OPEXPR; } } \
  else for (int64_t i = 0; i < n; i++) { float x = pa[i * sa], y = pb[i * sb]; o[i] = OPEXPR; }

static void bin_run(int op, const float *pa, int64_t sa, const float *pb, int64_t sb, float *o,
                    int64_t n) {
  switch (op) {
    case 0: INNER(x + y) break;
    case 1: INNER(x - y) break;
    case 2: INNER(x * y) break;
    case 3: INNER(x / y) break;
    case 6: INNER((x - y) * (x - y)) break;
    default: for (int64_t i = 0; i < n; i++) o[i] = bin(op, pa[i * sa], pb[i * sb]);
  }
}

/* out = a op b with broadcasting. info: [rank, dims[rank], strideA[rank], strideB[rank]] (in
 * elements, 0 where broadcast), rank >= 1; the output is contiguous. */
void nk_binary(int op, const float *a, const float *b, float *out, const int64_t *info) {
  int rank = (int)info[0];
  const int64_t *dims = info + 1, *stA = info + 1 + rank, *stB = info + 1 + 2 * rank;
  int64_t inner = dims[rank - 1], outer = 1;
  for (int d = 0; d < rank - 1; d++) outer *= dims[d];
  int64_t total = outer * inner;
#pragma omp parallel for schedule(static) if (total > PAR_MIN)
  for (int64_t r = 0; r < outer; r++) {
    int64_t rem = r, oa = 0, ob = 0;
    for (int d = rank - 2; d >= 0; d--) {
      int64_t k = rem % dims[d];
      rem /= dims[d];
      oa += k * stA[d];
      ob += k * stB[d];
    }
    bin_run(op, a + oa, stA[rank - 1], b + ob, stB[rank - 1], out + r * inner, inner);
  }
}

/* exp with Cephes' polynomial (relative error ~1e-7), written so that loops of it vectorise
 * (libm's expf does not without -ffast-math). NaN stays NaN, large x gives +inf. */
static inline float fexp(float x) {
  float c = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
  float n = floorf(c * 1.44269504088896341f + 0.5f);
  float r = c - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.0f;
  union { int32_t i; float f; } scale;
  scale.i = ((int32_t)n + 127) << 23;
  float y = p * scale.f;
  y = x > 88.72f ? INFINITY : y;
  return x != x ? x : y;
}

#define UN(EXPR)                                                     \
  _Pragma("omp parallel for schedule(static) if (n > PAR_MIN)")     \
  for (int64_t i = 0; i < n; i++) { float v = x[i]; out[i] = (EXPR); } \
  break;

/* out = f(x), n elements (x may alias out); `alpha` for the parameterised ones. */
void nk_unary(int op, const float *x, float *out, int64_t n, float alpha) {
  switch (op) {
    case 0: UN(fexp(v))
    case 1: UN(logf(v))
    case 2: UN(sqrtf(v))
    case 3: UN(1.0f / sqrtf(v))
    case 4: UN(-v)
    case 5: UN(v * v)
    case 6: UN(1.0f / (1.0f + fexp(-v)))
    case 7: UN(tanhf(v))
    case 8: UN(v > 0 ? v : (v == v ? 0.0f : v)) /* Relu, NaN kept */
    case 9: UN(fabsf(v))
    case 10: UN(sinf(v))
    case 11: UN(cosf(v))
    case 12: UN(1.0f / v)
    case 13: UN(v > 0 ? 1.0f : (v == v ? alpha : v)) /* Step */
    case 14: UN(v * alpha)
    case 15: UN(erff(v))
    case 16: UN(v >= 0 ? v : v * alpha) /* LeakyRelu */
    case 17: UN(v / (1.0f + fexp(-v))) /* SiLU */
    case 18: UN(v > 0 ? v : fexp(v) - 1.0f) /* Elu */
    case 19: UN(log1pf(v))
    case 20: UN(expm1f(v))
    case 21: UN((float)((v > 0) - (v < 0))) /* Sign */
    case 22: UN(floorf(v))
    case 23: UN(v + alpha)
    default: UN(v)
  }
}

/* SiLU's gradient: dx = dy · s · (1 + x · (1 − s)), s = sigmoid(x). */
void nk_silu_grad(const float *x, const float *dy, float *dx, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    float v = x[i], s = 1.0f / (1.0f + fexp(-v));
    dx[i] = dy[i] * s * (1.0f + v * (1.0f - s));
  }
}

/* out[o, j, :] = x[o, idx[j], :] for x [outer, rows, inner] (GatherV2, batchDims 0). */
void nk_gather(const float *x, const int32_t *idx, float *out, int64_t outer, int64_t rows,
               int64_t nIdx, int64_t inner) {
  int64_t total = outer * nIdx;
#pragma omp parallel for schedule(static) if (total * inner > PAR_MIN)
  for (int64_t r = 0; r < total; r++) {
    int64_t o = r / nIdx, j = r % nIdx;
    memcpy(out + r * inner, x + (o * rows + idx[j]) * inner, (size_t)inner * sizeof(float));
  }
}

/* out [segments, inner] = Σ_{i: ids[i] = s} x[i, :] (UnsortedSegmentSum; ids outside [0, segments)
 * are dropped), parallel over column ranges so that no two threads add into one value. */
void nk_segment_sum(const float *x, const int32_t *ids, float *out, int64_t n, int64_t segments,
                    int64_t inner) {
  memset(out, 0, (size_t)segments * inner * sizeof(float));
  int nt = omp_get_max_threads();
  if (n * inner <= PAR_MIN || inner < 64) nt = 1;
  int64_t chunk = (inner + nt - 1) / nt;
#pragma omp parallel for schedule(static) num_threads(nt)
  for (int t = 0; t < nt; t++) {
    int64_t j0 = t * chunk, j1 = j0 + chunk < inner ? j0 + chunk : inner;
    for (int64_t i = 0; i < n; i++) {
      int32_t s = ids[i];
      if (s < 0 || s >= segments) continue;
      const float *p = x + i * inner;
      float *o = out + (int64_t)s * inner;
      for (int64_t j = j0; j < j1; j++) o[j] += p[j];
    }
  }
}

/* ---------------------------------------------------------------- reductions */
/* out[r] = reduce(x[r*inner .. r*inner+inner)); op 0 sum, 1 mean, 2 max, 3 min, 4 prod. */
void nk_reduce_rows(int op, const float *x, float *out, int64_t outer, int64_t inner) {
#pragma omp parallel for schedule(static) if (outer * inner > PAR_MIN)
  for (int64_t r = 0; r < outer; r++) {
    const float *p = x + r * inner;
    if (op <= 1) {
      /* Pairwise-ish: 8 partial sums keep float32 error small and vectorise. */
      float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int64_t i = 0;
      for (; i + 8 <= inner; i += 8)
        for (int k = 0; k < 8; k++) s[k] += p[i + k];
      float t = 0;
      for (; i < inner; i++) t += p[i];
      t += ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
      out[r] = op == 1 ? t / (float)inner : t;
    } else if (op == 4) {
      float t = 1;
      for (int64_t i = 0; i < inner; i++) t *= p[i];
      out[r] = t;
    } else {
      float t = inner > 0 ? p[0] : (op == 2 ? -INFINITY : INFINITY);
      for (int64_t i = 1; i < inner; i++) {
        float v = p[i];
        if (op == 2 ? (v > t || v != v) : (v < t || v != v)) t = v;
      }
      out[r] = t;
    }
  }
}

/* out[j] = reduce_i x[i*inner + j] (leading axes reduced); op 0 sum, 1 mean, 2 max, 3 min. */
void nk_reduce_cols(int op, const float *x, float *out, int64_t outer, int64_t inner) {
  int nt = omp_get_max_threads();
  if (outer * inner <= PAR_MIN) nt = 1;
  int64_t chunk = (inner + nt - 1) / nt;
#pragma omp parallel for schedule(static) num_threads(nt)
  for (int t = 0; t < nt; t++) {
    int64_t j0 = t * chunk, j1 = j0 + chunk < inner ? j0 + chunk : inner;
    if (j0 >= j1) continue;
    if (op <= 1) {
      for (int64_t j = j0; j < j1; j++) out[j] = 0;
      for (int64_t i = 0; i < outer; i++) {
        const float *p = x + i * inner;
        for (int64_t j = j0; j < j1; j++) out[j] += p[j];
      }
      if (op == 1)
        for (int64_t j = j0; j < j1; j++) out[j] /= (float)outer;
    } else {
      for (int64_t j = j0; j < j1; j++) out[j] = outer > 0 ? x[j] : (op == 2 ? -INFINITY : INFINITY);
      for (int64_t i = 1; i < outer; i++) {
        const float *p = x + i * inner;
        for (int64_t j = j0; j < j1; j++) {
          float v = p[j], c = out[j];
          if (op == 2 ? (v > c || v != v) : (v < c || v != v)) out[j] = v;
        }
      }
    }
  }
}

/* out[o*after + j] = reduce_i x[(o*inner + i)*after + j] for o < before: [before, reduced, after],
 * each slice reduced as nk_reduce_cols does (same order, same values), in one call: a loop of
 * nk_reduce_cols calls cost one FFI call per slice (524,288 for a 2×2 average pool at 512²). */
void nk_reduce_mid(int op, const float *x, float *out, int64_t before, int64_t inner, int64_t after) {
#pragma omp parallel for schedule(static) if (before * inner * after > PAR_MIN)
  for (int64_t o = 0; o < before; o++) {
    const float *xs = x + o * inner * after;
    float *os = out + o * after;
    if (op <= 1) {
      for (int64_t j = 0; j < after; j++) os[j] = 0;
      for (int64_t i = 0; i < inner; i++) {
        const float *p = xs + i * after;
        for (int64_t j = 0; j < after; j++) os[j] += p[j];
      }
      if (op == 1)
        for (int64_t j = 0; j < after; j++) os[j] /= (float)inner;
    } else {
      for (int64_t j = 0; j < after; j++) os[j] = inner > 0 ? xs[j] : (op == 2 ? -INFINITY : INFINITY);
      for (int64_t i = 1; i < inner; i++) {
        const float *p = xs + i * after;
        for (int64_t j = 0; j < after; j++) {
          float v = p[j], c = os[j];
          if (op == 2 ? (v > c || v != v) : (v < c || v != v)) os[j] = v;
        }
      }
    }
  }
}

/* Softmax over the last axis of [rows, cols]. */
void nk_softmax(const float *x, float *out, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    const float *p = x + r * cols;
    float *o = out + r * cols;
    float m = -INFINITY;
    for (int64_t i = 0; i < cols; i++) m = p[i] > m ? p[i] : m;
    float s = 0;
    for (int64_t i = 0; i < cols; i++) o[i] = fexp(p[i] - m);
    for (int64_t i = 0; i < cols; i++) s += o[i];
    float inv = 1.0f / s;
    for (int64_t i = 0; i < cols; i++) o[i] *= inv;
  }
}

/* ---------------------------------------------------------------- layout */
/* General strided copy: out (contiguous, dims) = x read with strides (elements) from offset.
 * info: [rank, dims[rank], strides[rank]]. Transpose, slice and broadcast (stride 0) are all this. */
void nk_strided_copy(const float *x, int64_t offset, float *out, const int64_t *info) {
  int rank = (int)info[0];
  const int64_t *dims = info + 1, *st = info + 1 + rank;
  int64_t inner = dims[rank - 1], outer = 1, si = st[rank - 1];
  for (int d = 0; d < rank - 1; d++) outer *= dims[d];
#pragma omp parallel for schedule(static) if (outer * inner > PAR_MIN)
  for (int64_t r = 0; r < outer; r++) {
    int64_t rem = r, off = offset;
    for (int d = rank - 2; d >= 0; d--) {
      int64_t k = rem % dims[d];
      rem /= dims[d];
      off += k * st[d];
    }
    const float *p = x + off;
    float *o = out + r * inner;
    if (si == 1) memcpy(o, p, (size_t)inner * sizeof(float));
    else if (si == 0) for (int64_t i = 0; i < inner; i++) o[i] = p[0];
    else for (int64_t i = 0; i < inner; i++) o[i] = p[i * si];
  }
}

/* The inverse: x (contiguous, dims) written into out with strides from offset (pad's interior).
 * info: [rank, dims[rank], dstStrides[rank]]. */
void nk_strided_scatter(const float *x, float *out, int64_t offset, const int64_t *info) {
  int rank = (int)info[0];
  const int64_t *dims = info + 1, *st = info + 1 + rank;
  int64_t inner = dims[rank - 1], outer = 1, si = st[rank - 1];
  for (int d = 0; d < rank - 1; d++) outer *= dims[d];
#pragma omp parallel for schedule(static) if (outer * inner > PAR_MIN)
  for (int64_t r = 0; r < outer; r++) {
    int64_t rem = r, off = offset;
    for (int d = rank - 2; d >= 0; d--) {
      int64_t k = rem % dims[d];
      rem /= dims[d];
      off += k * st[d];
    }
    const float *p = x + r * inner;
    float *o = out + off;
    if (si == 1) memcpy(o, p, (size_t)inner * sizeof(float));
    else for (int64_t i = 0; i < inner; i++) o[i * si] = p[i];
  }
}

/* Copies `rows` runs of `run` floats: dst[r*dstPitch + dstOff ..] = src[r*srcPitch + srcOff ..]
 * (concat, split, pad). */
void nk_copy_rows(const float *src, int64_t srcOff, int64_t srcPitch, float *dst, int64_t dstOff,
                  int64_t dstPitch, int64_t rows, int64_t run) {
#pragma omp parallel for schedule(static) if (rows * run > PAR_MIN)
  for (int64_t r = 0; r < rows; r++)
    memcpy(dst + dstOff + r * dstPitch, src + srcOff + r * srcPitch, (size_t)run * sizeof(float));
}

void nk_fill(float *dst, int64_t n, float v) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) dst[i] = v;
}

/* ---------------------------------------------------------------- convolution (NHWC) */
/* g: n h w ci co kh kw sh sw dh dw oh ow top left */
enum { G_N, G_H, G_W, G_CI, G_CO, G_KH, G_KW, G_SH, G_SW, G_DH, G_DW, G_OH, G_OW, G_TOP, G_LEFT };
#define CHUNK_BYTES (48 << 20)

/* cols[(b-b0)*OH*OW + p][(i*kw + j)*ci + c] for images [b0, b1). */
static void im2col(const float *x, float *cols, const int32_t *g, int b0, int b1) {
  int h = g[G_H], w = g[G_W], ci = g[G_CI], kh = g[G_KH], kw = g[G_KW], oh = g[G_OH], ow = g[G_OW];
  int64_t kk = (int64_t)kh * kw * ci;
  int64_t rows = (int64_t)(b1 - b0) * oh;
#pragma omp parallel for schedule(static) if (rows * ow * kk > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    int b = b0 + (int)(r / oh), oy = (int)(r % oh);
    for (int ox = 0; ox < ow; ox++) {
      float *dst = cols + (r * ow + ox) * kk;
      for (int i = 0; i < kh; i++) {
        int y = oy * g[G_SH] - g[G_TOP] + i * g[G_DH];
        for (int j = 0; j < kw; j++) {
          int xx = ox * g[G_SW] - g[G_LEFT] + j * g[G_DW];
          float *d = dst + (i * kw + j) * ci;
          if (y < 0 || y >= h || xx < 0 || xx >= w) memset(d, 0, ci * sizeof(float));
          else memcpy(d, x + (((int64_t)b * h + y) * w + xx) * ci, ci * sizeof(float));
        }
      }
    }
  }
}

/* Scratch buffers for the convolutions (im2col columns, padded grids), kept between calls and
 * grown on demand: a fresh multi-MiB malloc above glibc's mmap threshold is mapped and unmapped on
 * every call, so each call paid a page fault per 4 KiB (128² SR convolutions ran up to 8× slower
 * through im2col than through taps for that alone). Per calling thread (a Deno worker calls on its
 * own thread; OpenMP's threads only work inside a call). Slot 0 and 1 are used together. */
static _Thread_local float *scratch_buf[2];
static _Thread_local size_t scratch_cap[2];
static float *scratch(int slot, size_t n) {
  if (n > scratch_cap[slot]) {
    free(scratch_buf[slot]);
    scratch_buf[slot] = malloc((n > 0 ? n : 1) * sizeof(float));
    scratch_cap[slot] = scratch_buf[slot] ? n : 0;
  }
  return scratch_buf[slot];
}

/* Frees the calling thread's scratch buffers (they are grown again on the next convolution). */
void nk_scratch_release(void) {
  for (int i = 0; i < 2; i++) {
    free(scratch_buf[i]);
    scratch_buf[i] = NULL;
    scratch_cap[i] = 0;
  }
}

static int chunk_images(const int32_t *g) {
  int64_t per = (int64_t)g[G_OH] * g[G_OW] * g[G_KH] * g[G_KW] * g[G_CI] * 4;
  int64_t c = per > 0 ? CHUNK_BYTES / per : g[G_N];
  if (c < 1) c = 1;
  if (c > g[G_N]) c = g[G_N];
  return (int)c;
}

static int is_direct(const int32_t *g) {
  return g[G_KH] == 1 && g[G_KW] == 1 && g[G_SH] == 1 && g[G_SW] == 1 && g[G_TOP] == 0 &&
         g[G_LEFT] == 0 && g[G_OH] == g[G_H] && g[G_OW] == g[G_W];
}

/* Stride 1, dilation 1: one GEMM per filter tap on a zero-padded "grid" instead of im2col (the
 * scheme of backend/_conv_kernels.ts, here in C). The input is padded once onto rows of Ci floats
 * with row pitch Wp = W + L and image pitch Hp = H + T rows (T = max(top, bottom), L = max(left,
 * right)): a read past a row's right edge lands in the next row's leading zeros, past an image's
 * bottom in the next image's top zeros, so only Hp·Wp pixels per image are computed. Outputs live
 * on "full-width" grid rows p = (b·Hp + oy)·Wp + ox (M rows cover them all) and tap (i, j) reads
 * input rows p + (i + T − top)·Wp + j + L − left. */
typedef struct { int64_t t, l, hp, wp, m, grid; } Tap;

static int tap_ok(const int32_t *g) {
  return g[G_SH] == 1 && g[G_SW] == 1 && g[G_DH] == 1 && g[G_DW] == 1 && g[G_TOP] >= 0 &&
         g[G_LEFT] >= 0;
}

static Tap tap_geometry(const int32_t *g) {
  Tap q;
  int64_t bottom = (int64_t)g[G_OH] + g[G_KH] - 1 - g[G_H] - g[G_TOP];
  int64_t right = (int64_t)g[G_OW] + g[G_KW] - 1 - g[G_W] - g[G_LEFT];
  if (bottom < 0) bottom = 0;
  if (right < 0) right = 0;
  q.t = g[G_TOP] > bottom ? g[G_TOP] : bottom;
  q.l = g[G_LEFT] > right ? g[G_LEFT] : right;
  q.hp = g[G_H] + q.t;
  q.wp = g[G_W] + q.l;
  q.m = ((int64_t)g[G_N] - 1) * q.hp * q.wp + ((int64_t)g[G_OH] - 1) * q.wp + g[G_OW];
  int64_t last = (((int64_t)g[G_N] - 1) * q.hp + g[G_OH] - 1 + g[G_KH] - 1 - g[G_TOP] + q.t) * q.wp +
                 g[G_OW] - 1 + g[G_KW] - 1 - g[G_LEFT] + q.l + 1;
  q.grid = (int64_t)g[G_N] * q.hp * q.wp;
  if (last > q.grid) q.grid = last;
  return q;
}

static inline int64_t tap_shift(const int32_t *g, const Tap *q, int i, int j) {
  return (i + q->t - g[G_TOP]) * q->wp + j + q->l - g[G_LEFT];
}

/* x [N, H, W, C] onto a zeroed grid. */
static void tap_pad(const float *x, float *xp, const int32_t *g, const Tap *q, int64_t c) {
  int64_t rows = (int64_t)g[G_N] * g[G_H], run = (int64_t)g[G_W] * c;
  memset(xp, 0, (size_t)q->grid * c * sizeof(float));
#pragma omp parallel for schedule(static) if (rows * run > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    int64_t b = r / g[G_H], y = r % g[G_H];
    memcpy(xp + ((b * q->hp + y + q->t) * q->wp + q->l) * c, x + r * run, (size_t)run * sizeof(float));
  }
}

/* The grid's interior back to [N, H, W, C]. */
static void tap_crop(const float *xp, float *x, const int32_t *g, const Tap *q, int64_t c) {
  int64_t rows = (int64_t)g[G_N] * g[G_H], run = (int64_t)g[G_W] * c;
#pragma omp parallel for schedule(static) if (rows * run > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    int64_t b = r / g[G_H], y = r % g[G_H];
    memcpy(x + r * run, xp + ((b * q->hp + y + q->t) * q->wp + q->l) * c, (size_t)run * sizeof(float));
  }
}

/* Output rows [N, OH, OW, C] <-> full-width rows (m rows of C). to_grid zero-fills the rest. */
static void tap_rows(float *full, float *out, const int32_t *g, const Tap *q, int64_t c, int to_grid) {
  int64_t rows = (int64_t)g[G_N] * g[G_OH], run = (int64_t)g[G_OW] * c;
  if (to_grid) memset(full, 0, (size_t)q->m * c * sizeof(float));
#pragma omp parallel for schedule(static) if (rows * run > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    int64_t b = r / g[G_OH], y = r % g[G_OH];
    float *f = full + (b * q->hp + y) * q->wp * c;
    if (to_grid) memcpy(f, out + r * run, (size_t)run * sizeof(float));
    else memcpy(out + r * run, f, (size_t)run * sizeof(float));
  }
}

static int conv_fwd_tap(const float *x, const float *f, const float *bias, int has_bias, float *out,
                        const int32_t *g) {
  Tap q = tap_geometry(g);
  int64_t ci = g[G_CI], co = g[G_CO];
  float *xp = scratch(0, (size_t)q.grid * ci), *y = scratch(1, (size_t)q.m * co);
  if (!xp || !y) return -1;
  tap_pad(x, xp, g, &q, ci);
  if (has_bias) {
#pragma omp parallel for schedule(static) if (q.m * co > PAR_MIN)
    for (int64_t r = 0; r < q.m; r++) memcpy(y + r * co, bias, (size_t)co * sizeof(float));
  }
  int first = !has_bias;
  for (int i = 0; i < g[G_KH]; i++)
    for (int j = 0; j < g[G_KW]; j++, first = 0)
      SG(RowMajor, NoTrans, NoTrans, (int)q.m, (int)co, (int)ci, 1, xp + tap_shift(g, &q, i, j) * ci,
         (int)ci, f + ((int64_t)i * g[G_KW] + j) * ci * co, (int)co, first ? 0 : 1, y, (int)co);
  tap_rows(y, out, g, &q, co, 0);
  return 0;
}

static int conv_bwd_input_tap(const float *dy, const float *f, float *dx, const int32_t *g) {
  Tap q = tap_geometry(g);
  int64_t ci = g[G_CI], co = g[G_CO];
  float *dxp = scratch(0, (size_t)q.grid * ci), *dyf = scratch(1, (size_t)q.m * co);
  if (!dxp || !dyf) return -1;
  memset(dxp, 0, (size_t)q.grid * ci * sizeof(float));
  tap_rows(dyf, (float *)dy, g, &q, co, 1);
  for (int i = 0; i < g[G_KH]; i++)
    for (int j = 0; j < g[G_KW]; j++)
      SG(RowMajor, NoTrans, Trans, (int)q.m, (int)ci, (int)co, 1, dyf, (int)co,
         f + ((int64_t)i * g[G_KW] + j) * ci * co, (int)co, 1, dxp + tap_shift(g, &q, i, j) * ci, (int)ci);
  tap_crop(dxp, dx, g, &q, ci);
  return 0;
}

static int conv_bwd_filter_tap(const float *x, const float *dy, float *df, const int32_t *g) {
  Tap q = tap_geometry(g);
  int64_t ci = g[G_CI], co = g[G_CO];
  float *xp = scratch(0, (size_t)q.grid * ci), *dyf = scratch(1, (size_t)q.m * co);
  if (!xp || !dyf) return -1;
  tap_pad(x, xp, g, &q, ci);
  tap_rows(dyf, (float *)dy, g, &q, co, 1);
  for (int i = 0; i < g[G_KH]; i++)
    for (int j = 0; j < g[G_KW]; j++)
      SG(RowMajor, Trans, NoTrans, (int)ci, (int)co, (int)q.m, 1, xp + tap_shift(g, &q, i, j) * ci,
         (int)ci, dyf, (int)co, 0, df + ((int64_t)i * g[G_KW] + j) * ci * co, (int)co);
  return 0;
}

/* Scheme: 0 auto (taps for stride 1 when both channel counts are ≥ 16, or when the output has at
 * least 64² pixels: at 32² a GEMM per tap with K or N of 3 wastes most of the kernel, but at 128²
 * im2col's 9× column buffer costs more, e.g. SR 1's 16 → 3 output conv 27/65/22 ms im2col vs
 * 5/3/8 ms taps forward/backward-input/backward-filter at batch 4; im2col otherwise), 1 always
 * im2col, 2 taps wherever the stride allows (tests run the shape table under 1 and 2 as well). */
static int conv_scheme = 0;
void nk_conv_scheme(int s) { conv_scheme = s; }
static int use_taps(const int32_t *g) {
  if (conv_scheme == 1 || !tap_ok(g)) return 0;
  return conv_scheme == 2 || (g[G_CI] >= 16 && g[G_CO] >= 16) ||
         (int64_t)g[G_OH] * g[G_OW] >= 64 * 64;
}

/* out [N, OH, OW, Co] = conv(x, f [KH, KW, Ci, Co]); when bias != NULL (length Co) it is added. */
int nk_conv_fwd(const float *x, const float *f, const float *bias, int has_bias, float *out,
                const int32_t *g) {
  int n = g[G_N], co = g[G_CO];
  int64_t kk = (int64_t)g[G_KH] * g[G_KW] * g[G_CI], pimg = (int64_t)g[G_OH] * g[G_OW];
  float beta = 0;
  if (has_bias) {
    int64_t rows = n * pimg;
#pragma omp parallel for schedule(static) if (rows * co > PAR_MIN)
    for (int64_t r = 0; r < rows; r++) memcpy(out + r * co, bias, co * sizeof(float));
    beta = 1;
  }
  if (n * pimg == 0 || co == 0) return 0;
  if (kk == 0) { if (!has_bias) memset(out, 0, (size_t)n * pimg * co * sizeof(float)); return 0; }
  if (is_direct(g)) {
    SG(RowMajor, NoTrans, NoTrans, (int)(n * pimg), co, (int)kk, 1, x, (int)kk, f, co, beta, out, co);
    return 0;
  }
  if (use_taps(g)) return conv_fwd_tap(x, f, bias, has_bias, out, g);
  int chunk = chunk_images(g);
  float *cols = scratch(0, (size_t)chunk * pimg * kk);
  if (!cols) return -1;
  for (int b0 = 0; b0 < n; b0 += chunk) {
    int b1 = b0 + chunk < n ? b0 + chunk : n;
    im2col(x, cols, g, b0, b1);
    SG(RowMajor, NoTrans, NoTrans, (int)((b1 - b0) * pimg), co, (int)kk, 1, cols, (int)kk, f, co,
       beta, out + b0 * pimg * co, co);
  }
  return 0;
}

/* dx [N, H, W, Ci] from dy [N, OH, OW, Co] and f [KH, KW, Ci, Co]: dcols = dy·fᵀ, then col2im as a
 * gather (each dx pixel sums the taps that read it), parallel over dx rows. */
int nk_conv_bwd_input(const float *dy, const float *f, float *dx, const int32_t *g) {
  int n = g[G_N], h = g[G_H], w = g[G_W], ci = g[G_CI], co = g[G_CO], kh = g[G_KH], kw = g[G_KW];
  int sh = g[G_SH], sw = g[G_SW], dh = g[G_DH], dw = g[G_DW], oh = g[G_OH], ow = g[G_OW];
  int64_t kk = (int64_t)kh * kw * ci, pimg = (int64_t)oh * ow;
  if ((int64_t)n * h * w * ci == 0) return 0;
  if (pimg == 0 || co == 0) { memset(dx, 0, (size_t)n * h * w * ci * sizeof(float)); return 0; }
  if (is_direct(g)) {
    SG(RowMajor, NoTrans, Trans, (int)(n * pimg), ci, co, 1, dy, co, f, co, 0, dx, ci);
    return 0;
  }
  if (use_taps(g)) return conv_bwd_input_tap(dy, f, dx, g);
  int chunk = chunk_images(g);
  float *cols = scratch(0, (size_t)chunk * pimg * kk);
  if (!cols) return -1;
  for (int b0 = 0; b0 < n; b0 += chunk) {
    int b1 = b0 + chunk < n ? b0 + chunk : n;
    SG(RowMajor, NoTrans, Trans, (int)((b1 - b0) * pimg), (int)kk, co, 1, dy + b0 * pimg * co, co,
       f, co, 0, cols, (int)kk);
    int64_t rows = (int64_t)(b1 - b0) * h;
#pragma omp parallel for schedule(static) if (rows * w * ci > PAR_MIN / 8)
    for (int64_t r = 0; r < rows; r++) {
      int bl = (int)(r / h), y = (int)(r % h);
      float *drow = dx + ((int64_t)(b0 + bl) * h + y) * w * ci;
      memset(drow, 0, (size_t)w * ci * sizeof(float));
      for (int i = 0; i < kh; i++) {
        int ty = y + g[G_TOP] - i * dh;
        if (ty < 0 || ty % sh) continue;
        int oy = ty / sh;
        if (oy >= oh) continue;
        for (int xx = 0; xx < w; xx++) {
          float *d = drow + (int64_t)xx * ci;
          for (int j = 0; j < kw; j++) {
            int tx = xx + g[G_LEFT] - j * dw;
            if (tx < 0 || tx % sw) continue;
            int ox = tx / sw;
            if (ox >= ow) continue;
            const float *s = cols + (((int64_t)bl * oh + oy) * ow + ox) * kk + (i * kw + j) * ci;
            for (int c = 0; c < ci; c++) d[c] += s[c];
          }
        }
      }
    }
  }
  return 0;
}

/* df [KH, KW, Ci, Co] = Σ colsᵀ·dy over chunks of images. */
int nk_conv_bwd_filter(const float *x, const float *dy, float *df, const int32_t *g) {
  int n = g[G_N], co = g[G_CO];
  int64_t kk = (int64_t)g[G_KH] * g[G_KW] * g[G_CI], pimg = (int64_t)g[G_OH] * g[G_OW];
  if (kk * co == 0) return 0;
  if (n * pimg == 0) { memset(df, 0, (size_t)kk * co * sizeof(float)); return 0; }
  if (is_direct(g)) {
    SG(RowMajor, Trans, NoTrans, (int)kk, co, (int)(n * pimg), 1, x, (int)kk, dy, co, 0, df, co);
    return 0;
  }
  if (use_taps(g)) return conv_bwd_filter_tap(x, dy, df, g);
  int chunk = chunk_images(g);
  float *cols = scratch(0, (size_t)chunk * pimg * kk);
  if (!cols) return -1;
  for (int b0 = 0; b0 < n; b0 += chunk) {
    int b1 = b0 + chunk < n ? b0 + chunk : n;
    im2col(x, cols, g, b0, b1);
    SG(RowMajor, Trans, NoTrans, (int)kk, co, (int)((b1 - b0) * pimg), 1, cols, (int)kk,
       dy + b0 * pimg * co, co, b0 == 0 ? 0 : 1, df, co);
  }
  return 0;
}

/* ---------------------------------------------------------------- fused */
/* GroupNorm forward on [B, HW, C] with G groups: y = (x-μ)·rstd·γ + β; stats [B, G, 2] = (μ, rstd). */
void nk_group_norm_fwd(const float *x, const float *gamma, const float *beta, float *y,
                       float *stats, int64_t b, int64_t hw, int64_t c, int64_t groups, float eps) {
  int64_t cg = c / groups;
#pragma omp parallel for schedule(static) collapse(2) if (b * hw * c > PAR_MIN)
  for (int64_t bi = 0; bi < b; bi++)
    for (int64_t gi = 0; gi < groups; gi++) {
      const float *p = x + bi * hw * c + gi * cg;
      double s = 0, s2 = 0;
      for (int64_t i = 0; i < hw; i++) {
        const float *q = p + i * c;
        float a = 0, a2 = 0;
        for (int64_t k = 0; k < cg; k++) { a += q[k]; a2 += q[k] * q[k]; }
        s += a;
        s2 += a2;
      }
      double cnt = (double)hw * cg, m = s / cnt, v = s2 / cnt - m * m;
      if (v < 0) v = 0;
      float mf = (float)m, rs = (float)(1.0 / sqrt(v + eps));
      stats[(bi * groups + gi) * 2] = mf;
      stats[(bi * groups + gi) * 2 + 1] = rs;
      float *o = y + bi * hw * c + gi * cg;
      const float *gm = gamma + gi * cg, *bt = beta + gi * cg;
      float sc[cg], sf[cg];
      for (int64_t k = 0; k < cg; k++) { sc[k] = rs * gm[k]; sf[k] = bt[k] - mf * rs * gm[k]; }
      for (int64_t i = 0; i < hw; i++) {
        const float *q = p + i * c;
        float *oo = o + i * c;
        for (int64_t k = 0; k < cg; k++) oo[k] = q[k] * sc[k] + sf[k];
      }
    }
}

/* GroupNorm backward from the forward's stats: dx, and dgamma/dbeta [C] (summed over B·HW).
 * With x̂ = (x − μ)·r: dx = r·(dy·γ − mean_g(dy·γ) − x̂·mean_g(dy·γ·x̂)). */
void nk_group_norm_bwd(const float *x, const float *gamma, const float *dy, const float *stats,
                       float *dx, float *dgamma, float *dbeta, int64_t b, int64_t hw, int64_t c,
                       int64_t groups) {
  int64_t cg = c / groups;
  int nt = omp_get_max_threads();
  if (b * hw * c <= PAR_MIN) nt = 1;
  double *part = calloc((size_t)nt * 2 * c, sizeof(double));
#pragma omp parallel num_threads(nt)
  {
    int t = omp_get_thread_num();
    double *pg = part + (int64_t)t * 2 * c, *pb = pg + c;
#pragma omp for schedule(static) collapse(2)
    for (int64_t bi = 0; bi < b; bi++)
      for (int64_t gi = 0; gi < groups; gi++) {
        float mf = stats[(bi * groups + gi) * 2], rs = stats[(bi * groups + gi) * 2 + 1];
        const float *xp = x + bi * hw * c + gi * cg, *dp = dy + bi * hw * c + gi * cg;
        const float *gm = gamma + gi * cg;
        double sdy[cg], sdyx[cg];
        for (int64_t k = 0; k < cg; k++) sdy[k] = sdyx[k] = 0;
        for (int64_t i = 0; i < hw; i++) {
          const float *xq = xp + i * c, *dq = dp + i * c;
          for (int64_t k = 0; k < cg; k++) { sdy[k] += dq[k]; sdyx[k] += dq[k] * xq[k]; }
        }
        double m1 = 0, m2 = 0;
        for (int64_t k = 0; k < cg; k++) {
          double sxh = rs * (sdyx[k] - mf * sdy[k]); /* Σ dy·x̂ */
          pb[gi * cg + k] += sdy[k];
          pg[gi * cg + k] += sxh;
          m1 += gm[k] * sdy[k];
          m2 += gm[k] * sxh;
        }
        double cnt = (double)hw * cg;
        m1 /= cnt;
        m2 /= cnt;
        float pc[cg], qc[cg], rc[cg];
        for (int64_t k = 0; k < cg; k++) {
          pc[k] = rs * gm[k];
          qc[k] = (float)(-rs * rs * m2);
          rc[k] = (float)(-rs * m1 + rs * rs * m2 * mf);
        }
        float *dxp = dx + bi * hw * c + gi * cg;
        for (int64_t i = 0; i < hw; i++) {
          const float *xq = xp + i * c, *dq = dp + i * c;
          float *o = dxp + i * c;
          for (int64_t k = 0; k < cg; k++) o[k] = pc[k] * dq[k] + qc[k] * xq[k] + rc[k];
        }
      }
  }
  for (int64_t k = 0; k < c; k++) {
    double a = 0, bb = 0;
    for (int t = 0; t < nt; t++) { a += part[(int64_t)t * 2 * c + k]; bb += part[(int64_t)t * 2 * c + c + k]; }
    dgamma[k] = (float)a;
    dbeta[k] = (float)bb;
  }
  free(part);
}

/* One Adam step (as backend/adam.ts's `update`): m, v in place, new weights into wOut:
 * m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; w' = w − stepOverC1 · m / (√(v·invC2) + ε). */
void nk_adam(const float *w, const float *g, float *m, float *v, float *wOut, int64_t n, float b1,
             float b2, float stepOverC1, float invC2, float eps) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    float gi = g[i];
    float mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    wOut[i] = w[i] - stepOverC1 * mi / (sqrtf(vi * invC2) + eps);
  }
}
