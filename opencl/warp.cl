/* Warps and resampling of planar float32 images (Transform, CornerPin,
 * Reformat). Warps use inverse mapping: each output pixel maps back through
 * a 3x3 projective matrix into the input, which is sampled with a filter;
 * samples outside the input's data window are 0. The matrix m (first 9 of a
 * float16, row-major) takes output buffer indices (x, y) to input buffer
 * coordinates in which input pixel (j, i) has its centre at (j, i); the host
 * folds the +0.5 pixel-centre offsets and both data-window origins into it.
 * Resampling (Reformat) is separable, with weights computed on the host. */

/* Input coordinates of output pixel (x, y); far-away or behind-the-horizon
 * points are parked at -1e6 (every tap outside, so the result is 0). */
static inline float2 warp_map(float16 m, int x, int y, float *w) {
  float fx = (float)x, fy = (float)y;
  *w = m.s6 * fx + m.s7 * fy + m.s8;
  if (!(*w > 0.0f)) return (float2)(-1e6f, -1e6f);
  float2 q = (float2)(m.s0 * fx + m.s1 * fy + m.s2, m.s3 * fx + m.s4 * fy + m.s5) / *w;
  return clamp(q, -1e6f, 1e6f);
}

__kernel void warp_nearest(__global const float *src, int sw, int sh, __global float *dst, int dw,
                           int dh, int nch, float16 m) {
  int x = GID_X, y = GID_Y;
  if (x >= dw || y >= dh) return;
  float w;
  float2 q = warp_map(m, x, y, &w);
  int j = (int)floor(q.x + 0.5f), i = (int)floor(q.y + 0.5f);
  int in = j >= 0 && j < sw && i >= 0 && i < sh;
  size_t sp = (size_t)sw * sh, dp = (size_t)dw * dh;
  size_t si = in ? (size_t)i * sw + j : 0, di = (size_t)y * dw + x;
  for (int c = 0; c < nch; c++) dst[c * dp + di] = in ? src[c * sp + si] : 0.0f;
}

/* Bilinear: the four pixels around the point; a tap outside the input gets
 * weight 0 and a clamped (valid) address, so there are no branches. Eight
 * output pixels per work item as explicit vectors: PoCL's own vectorizer
 * gives up on this kernel (its scalar x/y pairs get SLP-packed first). */
__kernel void warp_bilinear(__global const float *src, int sw, int sh, __global float *dst,
                            int dw, int dh, int nch, float16 m) {
  int x = GID_X * 8, y = GID_Y;
  if (x >= dw || y >= dh) return;
  float8 fx = (float8)(0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f) + (float)x;
  float fy = (float)y;
  float8 w = m.s6 * fx + (m.s7 * fy + m.s8);
  int8 ok = w > 0.0f;
  float8 qx = select((float8)(-1e6f), clamp((m.s0 * fx + (m.s1 * fy + m.s2)) / w, -1e6f, 1e6f), ok);
  float8 qy = select((float8)(-1e6f), clamp((m.s3 * fx + (m.s4 * fy + m.s5)) / w, -1e6f, 1e6f), ok);
  float8 fjx = floor(qx), fiy = floor(qy), tx = qx - fjx, ty = qy - fiy;
  /* as unsigned, negative indices are huge: one compare tests both ends */
  uint8 j = as_uint8(convert_int8(fjx)), i = as_uint8(convert_int8(fiy));
  uint uw = (uint)sw, uh = (uint)sh;
  float8 wx0 = select((float8)(0.0f), 1.0f - tx, as_int8(j < uw));
  float8 wx1 = select((float8)(0.0f), tx, as_int8(j + 1 < uw));
  float8 wy0 = select((float8)(0.0f), 1.0f - ty, as_int8(i < uh));
  float8 wy1 = select((float8)(0.0f), ty, as_int8(i + 1 < uh));
  int8 ja = as_int8(min(j, uw - 1)), jb = as_int8(min(j + 1, uw - 1));
  int8 ra = as_int8(min(i, uh - 1)) * sw, rb = as_int8(min(i + 1, uh - 1)) * sw;
  int8 a00 = ra + ja, a01 = ra + jb, a10 = rb + ja, a11 = rb + jb;
  int sp = sw * sh, dp = dw * dh;
  for (int c = 0; c < nch; c++) {
    __global const float *p = src + c * sp;
#define TAP(a)                                                                                     \
  (float8)(p[a.s0], p[a.s1], p[a.s2], p[a.s3], p[a.s4], p[a.s5], p[a.s6], p[a.s7])
    float8 v = wy0 * (wx0 * TAP(a00) + wx1 * TAP(a01)) + wy1 * (wx0 * TAP(a10) + wx1 * TAP(a11));
#undef TAP
    __global float *d = dst + c * dp + y * dw + x;
    if (x + 8 <= dw) {
      vstore8(v, 0, d);
    } else {
      float r[8];
      vstore8(v, 0, r);
      for (int k = 0; k < dw - x; k++) d[k] = r[k];
    }
  }
}

#define WARP_CUBIC 0
#define WARP_LANCZOS3 1
#define WARP_MAXT 97 /* taps per axis: Lanczos-3 widened 16 times */

/* Keys' cubic convolution kernel (a = -0.5: Catmull-Rom) or Lanczos-3. */
static inline float warp_kernel(int filter, float x, float a) {
  x = fabs(x);
  if (filter == WARP_CUBIC) {
    if (x < 1.0f) return ((a + 2.0f) * x - (a + 3.0f)) * x * x + 1.0f;
    if (x < 2.0f) return ((a * x - 5.0f * a) * x + 8.0f * a) * x - 4.0f * a;
    return 0.0f;
  }
  if (x < 1e-6f) return 1.0f;
  if (x >= 3.0f) return 0.0f;
  return 3.0f * sinpi(x) * sinpi(x / 3.0f) / (M_PI_F * M_PI_F * x * x);
}

/* Weights of the taps j0 .. j0 + n - 1 around q on one axis of an input of
 * size len, widened by s; returns n. Weights are normalised over the whole
 * support, then taps outside the input are zeroed (their address clamped). */
static inline int warp_taps(int filter, float a, float q, float s, float r, int len, float *wt,
                            int *j0) {
  int lo = (int)floor(q - r * s) + 1, hi = (int)ceil(q + r * s) - 1;
  int n = min(hi - lo + 1, WARP_MAXT);
  float sum = 0.0f;
  for (int k = 0; k < n; k++) {
    wt[k] = warp_kernel(filter, (lo + k - q) / s, a);
    sum += wt[k];
  }
  float inv = sum != 0.0f ? 1.0f / sum : 0.0f;
  for (int k = 0; k < n; k++) wt[k] = lo + k >= 0 && lo + k < len ? wt[k] * inv : 0.0f;
  *j0 = lo;
  return n;
}

/* Bicubic or Lanczos-3, widened on each axis by the footprint of the output
 * pixel in the input (row norms of the inverse map's Jacobian, at least 1,
 * at most maxw) so that minification does not alias. */
__kernel void warp_filter(__global const float *src, int sw, int sh, __global float *dst, int dw,
                          int dh, int nch, float16 m, int filter, float a, float maxw) {
  int x = GID_X, y = GID_Y;
  if (x >= dw || y >= dh) return;
  float w;
  float2 q = warp_map(m, x, y, &w);
  float sx = 1.0f, sy = 1.0f;
  if (w > 0.0f) {
    sx = hypot((m.s0 - q.x * m.s6) / w, (m.s1 - q.x * m.s7) / w);
    sy = hypot((m.s3 - q.y * m.s6) / w, (m.s4 - q.y * m.s7) / w);
    /* rotations give 1 +- rounding: no widening for those */
    sx = sx < 1.001f ? 1.0f : min(sx, maxw);
    sy = sy < 1.001f ? 1.0f : min(sy, maxw);
  }
  float r = filter == WARP_CUBIC ? 2.0f : 3.0f;
  float wx[WARP_MAXT], wy[WARP_MAXT];
  int j0, i0;
  int nx = warp_taps(filter, a, q.x, sx, r, sw, wx, &j0);
  int ny = warp_taps(filter, a, q.y, sy, r, sh, wy, &i0);
  size_t sp = (size_t)sw * sh, dp = (size_t)dw * dh, di = (size_t)y * dw + x;
  for (int c = 0; c < nch; c++) {
    __global const float *p = src + c * sp;
    float acc = 0.0f;
    for (int i = 0; i < ny; i++) {
      __global const float *row = p + (size_t)clampi(i0 + i, 0, sh - 1) * sw;
      float racc = 0.0f;
      for (int k = 0; k < nx; k++) racc += wx[k] * row[clampi(j0 + k, 0, sw - 1)];
      acc += wy[i] * racc;
    }
    dst[c * dp + di] = acc;
  }
}

/* Bicubic or Lanczos-3 without widening (no minification anywhere), on an
 * input padded with WARP_PAD zero pixels on every side: points are clamped
 * to [lo, hi] (just outside the picture, where every weight on it is 0),
 * so rows are read as short vectors with no bound tests. One pixel per
 * work item, the taps of a row as one dot product. */
#define WARP_PAD 8
__kernel void warp_fixed(__global const float *src, int sw, int sh, __global float *dst, int dw,
                         int dh, int nch, float16 m, int filter, float a, float4 lohi) {
  int x = GID_X, y = GID_Y;
  if (x >= dw || y >= dh) return;
  float w;
  float2 q = warp_map(m, x, y, &w);
  float qx = clamp(q.x, lohi.x, lohi.y), qy = clamp(q.y, lohi.z, lohi.w);
  float fjx = floor(qx), fiy = floor(qy), tx = qx - fjx, ty = qy - fiy;
  int j0 = (int)fjx, i0 = (int)fiy, sp = sw * sh;
  __global float *d = dst + y * dw + x;
  if (filter == WARP_CUBIC) { /* taps j0 - 1 .. j0 + 2 */
    float4 wx = (float4)(warp_kernel(0, 1.0f + tx, a), warp_kernel(0, tx, a),
                         warp_kernel(0, 1.0f - tx, a), warp_kernel(0, 2.0f - tx, a));
    float4 wy = (float4)(warp_kernel(0, 1.0f + ty, a), warp_kernel(0, ty, a),
                         warp_kernel(0, 1.0f - ty, a), warp_kernel(0, 2.0f - ty, a));
    for (int c = 0; c < nch; c++) {
      __global const float *p = src + c * sp + (i0 - 1) * sw + j0 - 1;
      float4 r = (float4)(dot(wx, vload4(0, p)), dot(wx, vload4(0, p + sw)),
                          dot(wx, vload4(0, p + 2 * sw)), dot(wx, vload4(0, p + 3 * sw)));
      d[c * dw * dh] = dot(wy, r);
    }
    return;
  }
  /* Lanczos-3, taps j0 - 2 .. j0 + 3 at distances d = k - t (k = -2..3):
   * sin(pi d) = -(-1)^k sin(pi t) and sin(pi d / 3) by angle addition, so
   * one sinpi and one sincos per axis. */
  float wx[6], wy[6], sx = 0.0f, sy = 0.0f;
  float st = sinpi(tx), su = sinpi(ty), ct3, cu3;
  float st3 = sincos(tx * (M_PI_F / 3.0f), &ct3), su3 = sincos(ty * (M_PI_F / 3.0f), &cu3);
  const float r3 = 0.86602540378f; /* sin(pi / 3) */
  const float sin_k3[6] = {-r3, -r3, 0.0f, r3, r3, 0.0f}, cos_k3[6] = {-0.5f, 0.5f, 1.0f, 0.5f, -0.5f, -1.0f};
  for (int k = -2; k <= 3; k++) {
    float sk = sin_k3[k + 2], ck = cos_k3[k + 2], sg = k & 1 ? 1.0f : -1.0f;
    float dx = k - tx, dy = k - ty;
    float ax = sg * st * (sk * ct3 - ck * st3), ay = sg * su * (sk * cu3 - ck * su3);
    wx[k + 2] = dx * dx > 1e-12f ? 3.0f * ax / (M_PI_F * M_PI_F * dx * dx) : 1.0f;
    wy[k + 2] = dy * dy > 1e-12f ? 3.0f * ay / (M_PI_F * M_PI_F * dy * dy) : 1.0f;
    sx += wx[k + 2];
    sy += wy[k + 2];
  }
  float4 wx4 = (float4)(wx[0], wx[1], wx[2], wx[3]) / sx;
  float2 wx2 = (float2)(wx[4], wx[5]) / sx;
  for (int c = 0; c < nch; c++) {
    __global const float *p = src + c * sp + (i0 - 2) * sw + j0 - 2;
    float acc = 0.0f;
    for (int i = 0; i < 6; i++, p += sw)
      acc += wy[i] * (dot(wx4, vload4(0, p)) + dot(wx2, vload2(0, p + 4)));
    d[c * dw * dh] = acc / sy;
  }
}

/* Horizontal pass: dst(x, y) = sum_k w[x nt + k] src(start[x] + k, row0 + y),
 * as dot products of four contiguous taps (the host pads nt to a multiple
 * of 4 with zero weights where the row is wide enough). */
__kernel void resample_h(__global const float *src, int sw, int sh, int row0,
                         __global float *dst, int dw, int dh, int nch,
                         __global const int *start, __global const float *w, int nt) {
  int x = GID_X, y = GID_Y;
  if (x >= dw || y >= dh) return;
  int sp = sw * sh, dp = dw * dh;
  __global const float *wk = w + x * nt;
  int s0 = (row0 + y) * sw + start[x];
  for (int c = 0; c < nch; c++) {
    __global const float *p = src + c * sp + s0;
    float4 acc = (float4)(0.0f);
    int k = 0;
    for (; k + 4 <= nt; k += 4) acc += vload4(0, wk + k) * vload4(0, p + k);
    float r = (acc.x + acc.y) + (acc.z + acc.w);
    for (; k < nt; k++) r += wk[k] * p[k];
    dst[c * dp + y * dw + x] = r;
  }
}

/* Vertical pass: dst(x, y) = sum_k w[y nt + k] src(x, start[y] + k); src has
 * dst's width. Eight columns per work item, as one vector. */
__kernel void resample_v(__global const float *src, int sh, __global float *dst, int dw, int dh,
                         int nch, __global const int *start, __global const float *w, int nt) {
  int x = GID_X * 8, y = GID_Y;
  if (x >= dw || y >= dh) return;
  int sp = dw * sh, dp = dw * dh;
  __global const float *wk = w + y * nt;
  int s0 = start[y] * dw + x;
  for (int c = 0; c < nch; c++) {
    __global const float *p = src + c * sp + s0;
    __global float *d = dst + c * dp + y * dw + x;
    if (x + 8 <= dw) {
      float8 acc = (float8)(0.0f);
      for (int k = 0; k < nt; k++) acc += wk[k] * vload8(0, p + k * dw);
      vstore8(acc, 0, d);
    } else {
      for (int i = 0; i < dw - x; i++) {
        float acc = 0.0f;
        for (int k = 0; k < nt; k++) acc += wk[k] * p[k * dw + i];
        d[i] = acc;
      }
    }
  }
}
