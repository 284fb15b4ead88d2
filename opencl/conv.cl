/* Convolutions (Blur, Sharpen, Convolve): separable passes and a direct 2-D
 * kernel over zero-padded planar float32 copies, so the inner loops never
 * test borders. Each work-item computes 16 horizontally adjacent outputs as
 * one float16: PoCL does not vectorise across work-items when the body holds
 * a loop, explicit vectors do. Weights are applied as written (correlation,
 * like OpenCV's filter2D and Nuke's Matrix); sums run in float. */

#define CONV_V 16

/* Writes the first n (1..16) lanes of v to d. */
static inline void conv_store(__global float *d, float16 v, int n) {
  if (n >= CONV_V) {
    vstore16(v, 0, d);
    return;
  }
  float t[CONV_V];
  vstore16(v, 0, t);
  for (int i = 0; i < n; i++) d[i] = t[i];
}

/* Zero-padded copy: dst(x, y) = src(x + dx, y + dy) inside src (sw x sh),
 * else 0, for planes of dw x dh (channel = dimension 2). */
__kernel void conv_pad(__global const float *src, int sw, int sh, __global float *dst, int dw,
                       int dh, int dx, int dy) {
  int x = GID_X * CONV_V, y = GID_Y, c = get_global_id(2);
  if (x >= dw || y >= dh) return;
  int sx = x + dx, sy = y + dy;
  float16 v = 0.0f;
  if (sy >= 0 && sy < sh) {
    __global const float *s = src + ((size_t)c * sh + sy) * sw;
    if (sx >= 0 && sx + CONV_V <= sw) {
      v = vload16(0, s + sx);
    } else {
      float t[CONV_V];
      for (int i = 0; i < CONV_V; i++) t[i] = sx + i >= 0 && sx + i < sw ? s[sx + i] : 0.0f;
      v = vload16(0, t);
    }
  }
  conv_store(dst + ((size_t)c * dh + y) * dw + x, v, dw - x);
}

/* Horizontal pass: dst(x, row) = sum_t k[t] * src(x + t, row) for rows of all
 * planes stacked (nrows = nch * h). src rows are sw floats, dst rows dw
 * (dw and sw - ntaps + 1 are multiples of 16, so whole vectors are written). */
__kernel void conv_h(__global const float *src, int sw, __global float *dst, int dw, int nrows,
                     __constant const float *k, int ntaps) {
  int x = GID_X * CONV_V, row = GID_Y;
  if (x >= dw || row >= nrows) return;
  __global const float *s = src + (size_t)row * sw + x;
  float16 acc = 0.0f;
  for (int t = 0; t < ntaps; t++) acc += k[t] * vload16(0, s + t);
  vstore16(acc, 0, dst + (size_t)row * dw + x);
}

/* The vertical and 2-D passes compute CONV_T rows of 16 pixels per
 * work-item, so each source row loaded serves up to CONV_T outputs. */
#define CONV_T 8
#define CONV_ACC(t, w) acc##t += (w) * v
#define CONV_EACH(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)
#define CONV_DECL(t) float16 acc##t = 0.0f;

/* Vertical pass of a separable filter, and the mix of Sharpen.
 * src: planes of sh rows of sw floats (the horizontal result, unpadded in y:
 * rows outside 0..sh-1 are zero, so the row range is clamped, the same for
 * all 16 lanes). Output row y reads src rows y + t - 2r, t = 0..2r
 * (ntaps = 2r + 1): the output is grown by r on each side.
 * With a != 0, out = a * orig + b * filtered, orig being the padded input
 * (rows of ow floats, sh rows, its pixel (x + ox, y - r) under output (x, y)). */
__kernel void conv_v(__global const float *src, int sw, int sh, __global float *dst, int dw,
                     int dh, int nch, __constant const float *k, int ntaps,
                     __global const float *orig, int ow, int ox, float a, float b) {
  int x = GID_X * CONV_V, y0 = GID_Y * CONV_T, c = get_global_id(2);
  if (x >= dw || y0 >= dh || c >= nch) return;
  int r2 = ntaps - 1;
  __global const float *s = src + (size_t)c * sh * sw + x;
  CONV_EACH(CONV_DECL)
  /* source row q feeds output y0 + t with tap q - y0 + r2 - t */
  for (int q = max(0, y0 - r2); q < min(sh, y0 + CONV_T); q++) {
    float16 v = vload16(0, s + (size_t)q * sw);
    int t0 = q - y0 + r2;
#define CONV_V1(t) if (t0 - t >= 0 && t0 - t < ntaps) CONV_ACC(t, k[t0 - t]);
    CONV_EACH(CONV_V1)
  }
#define CONV_VOUT(t)                                                                  \
  if (y0 + t < dh) {                                                                  \
    int yo = y0 + t - r2 / 2;                                                         \
    float16 o = 0.0f;                                                                 \
    if (a != 0.0f && yo >= 0 && yo < sh)                                              \
      o = vload16(0, orig + ((size_t)c * sh + yo) * ow + x + ox);                     \
    conv_store(dst + ((size_t)c * dh + y0 + t) * dw + x, a != 0.0f ? a * o + b * acc##t : acc##t, \
               dw - x);                                                               \
  }
  CONV_EACH(CONV_VOUT)
}

/* Direct 2-D filter: dst(x, y) = sum_{j,i} k[j * kw + i] * src(x + i, y + j)
 * over a source padded on all sides (planes of sh rows of sw floats, sh >=
 * dh rounded up to CONV_T, plus kh - 1). */
__kernel void conv_2d(__global const float *src, int sw, int sh, __global float *dst, int dw,
                      int dh, int nch, __constant const float *k, int kw, int kh) {
  int x = GID_X * CONV_V, y0 = GID_Y * CONV_T, c = get_global_id(2);
  if (x >= dw || y0 >= dh || c >= nch) return;
  __global const float *s = src + ((size_t)c * sh + y0) * sw + x;
  CONV_EACH(CONV_DECL)
  /* source row y0 + q feeds output y0 + t with kernel row q - t */
  for (int q = 0; q < kh + CONV_T - 1; q++, s += sw)
    for (int i = 0; i < kw; i++) {
      float16 v = vload16(0, s + i);
#define CONV_2(t) if (q - t >= 0 && q - t < kh) CONV_ACC(t, k[(q - t) * kw + i]);
      CONV_EACH(CONV_2)
    }
#define CONV_2OUT(t) \
  if (y0 + t < dh) conv_store(dst + ((size_t)c * dh + y0 + t) * dw + x, acc##t, dw - x);
  CONV_EACH(CONV_2OUT)
}
