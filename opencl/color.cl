/* Colour kernels. Pointwise functions (Colorspace, Grade, CDL, Saturation,
 * Clamp, Invert) map one pixel px[0..16) in place; the engine pastes them
 * into one generated kernel per chain (engine/eval.c). Their float
 * parameters are packed by the nodes' pw_pack, whose comments give each
 * layout. Shuffle's kernels copy or fill one plane. Values are float32, any
 * range; helpers are prefixed color_ because fused chains share a program
 * with other families. */

/* PoCL vectorizes the fused kernel's loop over pixels only when it holds
 * no calls it cannot widen, no switch and no run-time index into px. So:
 * log2/exp2 below are plain arithmetic, parameters select rather than
 * branch (an unused step runs with identity parameters), and channels are
 * read and written through color_get/color_set. */

/* log2(x) for normal x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)),
 * log2(m) = 2/ln2 atanh(s), s = (m-1)/(m+1), series to s^9 (error < 3e-9
 * before float rounding; the result is good to ~1 ulp). */
static inline __attribute__((always_inline)) float color_log2(float x) {
  int b = as_int(x);
  float m = as_float((b & 0x007fffff) | 0x3f800000);
  int big = m > 1.41421356f;
  m = big ? m * 0.5f : m;
  float e = (float)(((b >> 23) & 0xff) - 127 + big);
  float s = (m - 1.0f) / (m + 1.0f), z = s * s;
  float q = fma(z, fma(z, fma(z, fma(z, 1.0f / 9, 1.0f / 7), 1.0f / 5), 1.0f / 3), 1.0f);
  return fma(s * q, 2.88539008177792681f, e);
}

/* 2^t: 2^n exactly by the exponent bits, 2^f for |f| <= 1/2 by its Taylor
 * series to f^7 (truncation < 5e-9); 0 below 2^-126. */
static inline __attribute__((always_inline)) float color_exp2(float t) {
  float tc = clamp(t, -126.0f, 127.0f), n = rint(tc), f = tc - n;
  float q = fma(f, 1.5252733804059840e-5f, 1.5403530393381608e-4f);
  q = fma(f, q, 1.3333558146428443e-3f);
  q = fma(f, q, 9.6181291076284772e-3f);
  q = fma(f, q, 5.5504108664821580e-2f);
  q = fma(f, q, 2.4022650695910071e-1f);
  q = fma(f, q, 6.9314718055994531e-1f);
  q = fma(f, q, 1.0f);
  return t < -126.0f ? 0.0f : q * as_float(((int)n + 127) << 23);
}

/* x^y for x > 0 (callers handle x <= 0) */
static inline __attribute__((always_inline)) float color_pow(float x, float y) {
  return color_exp2(y * color_log2(fmax(x, 1e-30f)));
}

/* px[i] and px[i] = v for a channel index known only at run time, as
 * selects over constant indices, so that px can live in registers. */
static inline __attribute__((always_inline)) float color_get(const float *px, int i) {
  float v = 0.0f;
#pragma unroll
  for (int c = 0; c < 16; c++) v = i == c ? px[c] : v;
  return v;
}

static inline __attribute__((always_inline)) void color_set(float *px, int i, float v) {
#pragma unroll
  for (int c = 0; c < 16; c++) px[c] = i == c ? v : px[c];
}

/* ---- transfer functions (Colorspace). Every curve is one of two families
 * with a linear toe, its parameters derived in double by nodes/colorspace.c
 * (tf_pack), which lists them per curve:
 *   encode, linear x to code v (16 floats e):
 *     a = mirror ? |x| : x
 *     a < brk:  v = ts a + to                                   (toe)
 *     else:     y = a < b2 ? max(a, 0) s2 + o2 : a s1 + o1,  L = log2(y)
 *               v = ls L + lo          (log family: ACEScc/cct, Cineon, log2)
 *               v = ps 2^(g L) - po    (power family: sRGB, BT.709, gamma)
 *     sign restored when mirrored; e[15] = 0: no curve.
 *   decode, the inverse (17 floats d). */

static inline __attribute__((always_inline)) float color_encode(float x, const float *e) {
  float a = e[0] != 0.0f ? fabs(x) : x;
  float y = a < e[4] ? fmax(a, 0.0f) * e[5] + e[6] : a * e[7] + e[8];
  float l = color_log2(fmax(y, 1e-30f));
  float v = e[9] != 0.0f ? fma(l, e[10], e[11]) : e[13] * color_exp2(e[12] * l) - e[14];
  v = a < e[1] ? fma(a, e[2], e[3]) : v;
  v = e[0] != 0.0f ? copysign(v, x) : v;
  return e[15] != 0.0f ? v : x;
}

/* d: 0 mirror, 1 toe below this code, 2 1/ts, 3 to, 4 log family?, 5-6 log:
 * K = v d5 + d6, 7-9 power: K = d7 log2((v + d9) d8), then y = 2^K,
 * 10 below this y: x = (y - d11) d12, else 13-14 x = (y - d13) d14,
 * 15 largest x, 16 curve? */
static inline __attribute__((always_inline)) float color_decode(float v, const float *d) {
  float a = d[0] != 0.0f ? fabs(v) : v;
  float k = d[4] != 0.0f ? fma(a, d[5], d[6]) : d[7] * color_log2(fmax((a + d[9]) * d[8], 1e-30f));
  float y = color_exp2(k);
  float x = y < d[10] ? (y - d[11]) * d[12] : (y - d[13]) * d[14];
  x = fmin(x, d[15]);
  x = a < d[1] ? (a - d[3]) * d[2] : x;
  x = d[0] != 0.0f ? copysign(x, v) : x;
  return d[16] != 0.0f ? x : v;
}

static inline __attribute__((always_inline)) void color_mat3(float *v, const float *m) {
  float a = v[0], b = v[1], c = v[2];
  v[0] = m[0] * a + m[1] * b + m[2] * c;
  v[1] = m[3] * a + m[4] * b + m[5] * c;
  v[2] = m[6] * a + m[7] * b + m[8] * c;
}

/* Colorspace. p: 0-2 channel indices; Y'CbCr in: 3 Y offset, 4 1/Y scale,
 * 5 C offset, 6 1/C scale, 7-15 Y'CbCr -> R'G'B'; 16-32 decode; 33-41
 * linear 3x3; 42-57 encode; Y'CbCr out: 58-66 R'G'B' -> Y'CbCr, 67 Y
 * scale, 68 Y offset, 69 C scale, 70 C offset. Steps not wanted carry
 * identity parameters. */
__attribute__((always_inline)) void colorspace_pw(float *px, const float *p) {
  int i0 = (int)p[0], i1 = (int)p[1], i2 = (int)p[2];
  float v[3] = {color_get(px, i0), color_get(px, i1), color_get(px, i2)};
  v[0] = (v[0] - p[3]) * p[4];
  v[1] = (v[1] - p[5]) * p[6];
  v[2] = (v[2] - p[5]) * p[6];
  color_mat3(v, p + 7);
#pragma unroll
  for (int c = 0; c < 3; c++) v[c] = color_decode(v[c], p + 16);
  color_mat3(v, p + 33);
#pragma unroll
  for (int c = 0; c < 3; c++) v[c] = color_encode(v[c], p + 42);
  color_mat3(v, p + 58);
  color_set(px, i0, fma(v[0], p[67], p[68]));
  color_set(px, i1, fma(v[1], p[69], p[70]));
  color_set(px, i2, fma(v[2], p[69], p[70]));
}

/* Grade (Nuke's formula, A and B precomputed). p: 0 n channels, 1-3 their
 * indices, 4-6 A, 7-9 B, 10-12 1/gamma, 13 black clamp, 14 white clamp. */
__attribute__((always_inline)) void grade_pw(float *px, const float *p) {
  int n = (int)p[0];
#pragma unroll
  for (int k = 0; k < 3; k++) {
    int c = k < n ? (int)p[1 + k] : -1; /* -1: no channel, color_set ignores it */
    float v = fma(p[4 + k], color_get(px, c), p[7 + k]);
    v = p[10 + k] != 1.0f && v > 0.0f ? color_pow(v, p[10 + k]) : v;
    v = p[13] != 0.0f ? fmax(v, 0.0f) : v;
    v = p[14] != 0.0f ? fmin(v, 1.0f) : v;
    color_set(px, c, v);
  }
}

/* ASC CDL v1.2 with Rec.709 luma weights. p: 0-2 R, G, B indices, 3-5
 * slope, 6-8 offset, 9-11 power, 12 saturation, 13 style (1: ASC clamps to
 * [0, 1] before the power and after saturation; 0: no clamp, and the power
 * leaves negative values unchanged, as OpenColorIO's CDL_NO_CLAMP). */
__attribute__((always_inline)) void cdl_pw(float *px, const float *p) {
  float v[3];
  int asc = p[13] != 0.0f;
#pragma unroll
  for (int k = 0; k < 3; k++) {
    float x = fma(color_get(px, (int)p[k]), p[3 + k], p[6 + k]);
    x = asc ? clamp(x, 0.0f, 1.0f) : x;
    v[k] = p[9 + k] != 1.0f && x > 0.0f ? color_pow(x, p[9 + k]) : x;
  }
  float l = 0.2126f * v[0] + 0.7152f * v[1] + 0.0722f * v[2];
#pragma unroll
  for (int k = 0; k < 3; k++) {
    float x = fma(p[12], v[k] - l, l);
    color_set(px, (int)p[k], asc ? clamp(x, 0.0f, 1.0f) : x);
  }
}

/* Saturation about luma. p: 0-2 R, G, B indices, 3 saturation, 4-6 luma
 * weights. */
__attribute__((always_inline)) void saturation_pw(float *px, const float *p) {
  int r = (int)p[0], g = (int)p[1], b = (int)p[2];
  float l = p[4] * color_get(px, r) + p[5] * color_get(px, g) + p[6] * color_get(px, b);
  /* one select per channel: three color_sets here keep PoCL from
   * vectorizing the loop over pixels */
#pragma unroll
  for (int c = 0; c < 16; c++) px[c] = c == r || c == g || c == b ? l + p[3] * (px[c] - l) : px[c];
}

/* Clamp. p: 0 n channels (at most 4), 1 min, 2 max, 3-6 their indices. */
__attribute__((always_inline)) void clamp_pw(float *px, const float *p) {
  int n = (int)p[0];
#pragma unroll
  for (int k = 0; k < 4; k++) {
    int c = k < n ? (int)p[3 + k] : -1; /* -1: no channel */
    color_set(px, c, fmin(fmax(color_get(px, c), p[1]), p[2]));
  }
}

/* Invert: 1 - x. p: 0 n channels (at most 4), 1-4 their indices. */
__attribute__((always_inline)) void invert_pw(float *px, const float *p) {
  int n = (int)p[0];
#pragma unroll
  for (int k = 0; k < 4; k++) {
    int c = k < n ? (int)p[1 + k] : -1;
    color_set(px, c, 1.0f - color_get(px, c));
  }
}

/* Shuffle: one output plane (w x h at dx0, dy0, starting at float doff of
 * dst) from the plane at soff of a source (sw x sh at sx0, sy0), 0 outside
 * the source's data window. */
__kernel void shuffle_copy(__global float *dst, int doff, int w, int h, int dx0, int dy0,
                           __global const float *src, int soff, int sw, int sh, int sx0,
                           int sy0) {
  int x = GID_X, y = GID_Y;
  if (x >= w || y >= h) return;
  int sx = x + dx0 - sx0, sy = y + dy0 - sy0;
  dst[doff + y * w + x] =
      sx >= 0 && sy >= 0 && sx < sw && sy < sh ? src[soff + sy * sw + sx] : 0.0f;
}

/* Shuffle: one output plane (n floats at off) set to a constant. */
__kernel void shuffle_fill(__global float *dst, int off, int n, float value) {
  int i = GID_X;
  if (i < n) dst[off + i] = value;
}
