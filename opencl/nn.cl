/* Network kernels (engine/nn/nn.c). Tensors are NCHW float32 with a zero
 * halo: a plane of an H x W tensor is (H + 2) rows of P = W + 16 floats, the
 * pixel (x, y) at row y + 1, column x + 8, everything else 0. The halo makes
 * 3x3 reads need no bounds checks, and W is a multiple of 8 so that a
 * work-item handles 8 pixels of a row as one float8.
 *
 * A tensor operand is a view (buffer, ctot, coff): channel c of sample n is
 * plane n * ctot + coff + c of the buffer. Concatenation is free: the two
 * producers write into two channel ranges of one buffer.
 *
 * Every reduction runs in a fixed order: results do not depend on timing. */

#define PLANE(H, P) ((size_t)((H) + 2) * (size_t)(P))
/* Start (halo row 0, column 0) of the plane of sample n, channel c. */
#define PL(base, n, c, ctot, coff, H, P) \
  ((base) + (size_t)((n) * (ctot) + (coff) + (c)) * PLANE(H, P))
/* Offset of interior pixel (x, y) inside a plane. */
#define AT(x, y, P) ((size_t)((y) + 1) * (size_t)(P) + (size_t)(x) + 8)

static inline float8 lrelu8(float8 v, float s) { return select(v * s, v, v > (float8)0.0f); }

/* 3x3 convolution with zero padding, bias and optional LeakyReLU. Each
 * work-item computes 8 output channels for 8 pixels of one row: 64
 * accumulators in registers, each input vector reused 8 times.
 * global: (W / 8, H, N * Cout / 8). w: [Cout][Cin][3][3] at woff; bias at
 * boff (boff < 0: none). act: 0 none, 1 LeakyReLU(slope). */
__kernel void nn_conv3(__global const float *in, int in_ctot, int in_coff, int Cin,
                       __global const float *w, int woff, int boff, __global float *out,
                       int out_ctot, int out_coff, int Cout, int H, int W, int act, float slope) {
  int gx = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  int ncb = Cout >> 3, n = z / ncb, cb = z - n * ncb;
  if (gx * 8 >= W) return;
  int P = W + 16;
  size_t ps = PLANE(H, P);
  __global const float *ip = PL(in, n, 0, in_ctot, in_coff, H, P) + (size_t)y * P + gx * 8 + 7;
  __global const float *wp = w + woff + (size_t)(cb * 8) * Cin * 9;
  size_t ws = (size_t)Cin * 9; /* stride between output channels */
  float8 a0, a1, a2, a3, a4, a5, a6, a7;
  if (boff >= 0) {
    __global const float *bp = w + boff + cb * 8;
    a0 = (float8)bp[0]; a1 = (float8)bp[1]; a2 = (float8)bp[2]; a3 = (float8)bp[3];
    a4 = (float8)bp[4]; a5 = (float8)bp[5]; a6 = (float8)bp[6]; a7 = (float8)bp[7];
  } else {
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = (float8)0.0f;
  }
  for (int ci = 0; ci < Cin; ci++, ip += ps, wp += 9) {
    for (int ky = 0; ky < 3; ky++) {
      __global const float *r = ip + ky * P;
      float8 l = vload8(0, r), m = vload8(0, r + 1), h = vload8(0, r + 2);
      __global const float *q = wp + ky * 3;
#define TAP(acc, k) acc = fma((float8)q[(k) * ws], l, fma((float8)q[(k) * ws + 1], m, fma((float8)q[(k) * ws + 2], h, acc)))
      TAP(a0, 0); TAP(a1, 1); TAP(a2, 2); TAP(a3, 3);
      TAP(a4, 4); TAP(a5, 5); TAP(a6, 6); TAP(a7, 7);
#undef TAP
    }
  }
  if (act) {
    a0 = lrelu8(a0, slope); a1 = lrelu8(a1, slope); a2 = lrelu8(a2, slope); a3 = lrelu8(a3, slope);
    a4 = lrelu8(a4, slope); a5 = lrelu8(a5, slope); a6 = lrelu8(a6, slope); a7 = lrelu8(a7, slope);
  }
  __global float *op = PL(out, n, cb * 8, out_ctot, out_coff, H, P) + AT(gx * 8, y, P);
  vstore8(a0, 0, op); op += ps; vstore8(a1, 0, op); op += ps;
  vstore8(a2, 0, op); op += ps; vstore8(a3, 0, op); op += ps;
  vstore8(a4, 0, op); op += ps; vstore8(a5, 0, op); op += ps;
  vstore8(a6, 0, op); op += ps; vstore8(a7, 0, op);
}

/* Weights for the data gradient of a 3x3 convolution: the transposed,
 * 180-degree rotated kernel, wt[ci][co][8 - t] = w[co][ci][t]. global: Cout * Cin * 9. */
__kernel void nn_flip3(__global const float *w, int woff, int Cin, int Cout, __global float *wt) {
  int i = get_global_id(0);
  if (i >= Cout * Cin * 9) return;
  int t = i % 9, ci = (i / 9) % Cin, co = i / (9 * Cin);
  wt[((size_t)ci * Cout + co) * 9 + (8 - t)] = w[woff + i];
}

/* Weight gradient of a 3x3 convolution, partial over a band of rows:
 * part[band][co][ci][9] = sum over samples, the band's rows and all columns
 * of g[co](x, y) * in[ci](x + kx - 1, y + ky - 1). global: (Cin, Cout, nband). */
__kernel void nn_conv3_dw(__global const float *g, int g_ctot, int g_coff, int Cout,
                          __global const float *in, int in_ctot, int in_coff, int Cin, int N,
                          int H, int W, int rows, __global float *part) {
  int ci = get_global_id(0), co = get_global_id(1), band = get_global_id(2);
  if (ci >= Cin || co >= Cout) return;
  int P = W + 16, y0 = band * rows, y1 = min(H, y0 + rows);
  float8 s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s8 = 0;
  for (int n = 0; n < N; n++) {
    __global const float *gp = PL(g, n, co, g_ctot, g_coff, H, P);
    __global const float *ip = PL(in, n, ci, in_ctot, in_coff, H, P);
    for (int y = y0; y < y1; y++) {
      __global const float *gr = gp + AT(0, y, P);
      __global const float *r0 = ip + (size_t)y * P + 7;
      __global const float *r1 = r0 + P, *r2 = r1 + P;
      for (int x = 0; x < W; x += 8) {
        float8 d = vload8(0, gr + x);
        s0 = fma(d, vload8(0, r0 + x), s0); s1 = fma(d, vload8(0, r0 + x + 1), s1);
        s2 = fma(d, vload8(0, r0 + x + 2), s2); s3 = fma(d, vload8(0, r1 + x), s3);
        s4 = fma(d, vload8(0, r1 + x + 1), s4); s5 = fma(d, vload8(0, r1 + x + 2), s5);
        s6 = fma(d, vload8(0, r2 + x), s6); s7 = fma(d, vload8(0, r2 + x + 1), s7);
        s8 = fma(d, vload8(0, r2 + x + 2), s8);
      }
    }
  }
#define HSUM(v) ((v.s0 + v.s1) + (v.s2 + v.s3)) + ((v.s4 + v.s5) + (v.s6 + v.s7))
  __global float *o = part + (((size_t)band * Cout + co) * Cin + ci) * 9;
  o[0] = HSUM(s0); o[1] = HSUM(s1); o[2] = HSUM(s2); o[3] = HSUM(s3); o[4] = HSUM(s4);
  o[5] = HSUM(s5); o[6] = HSUM(s6); o[7] = HSUM(s7); o[8] = HSUM(s8);
#undef HSUM
}

/* Sums band partials in order into grad[goff + i]. global: n. */
__kernel void nn_sum_bands(__global const float *part, int n, int nband, __global float *grad,
                           int goff) {
  int i = get_global_id(0);
  if (i >= n) return;
  float s = 0.0f;
  for (int b = 0; b < nband; b++) s += part[(size_t)b * n + i];
  grad[goff + i] = s;
}

/* Bias gradient: grad[goff + co] = sum of g[co] over samples and pixels. global: Cout. */
__kernel void nn_bias_grad(__global const float *g, int g_ctot, int g_coff, int Cout, int N,
                           int H, int W, __global float *grad, int goff) {
  int co = get_global_id(0);
  if (co >= Cout) return;
  int P = W + 16;
  float8 s = 0;
  for (int n = 0; n < N; n++) {
    __global const float *gp = PL(g, n, co, g_ctot, g_coff, H, P);
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x += 8) s += vload8(0, gp + AT(x, y, P));
  }
  grad[goff + co] = ((s.s0 + s.s1) + (s.s2 + s.s3)) + ((s.s4 + s.s5) + (s.s6 + s.s7));
}

/* g *= LeakyReLU'(y), from the layer's output y (same sign as its input).
 * global: (W / 8, H, N * C). */
__kernel void nn_act_bwd(__global float *g, int g_ctot, int g_coff, __global const float *y,
                         int y_ctot, int y_coff, int C, int H, int W, float slope) {
  int gx = get_global_id(0), yy = get_global_id(1), z = get_global_id(2);
  if (gx * 8 >= W) return;
  int n = z / C, c = z - n * C, P = W + 16;
  __global float *gp = PL(g, n, c, g_ctot, g_coff, H, P) + AT(gx * 8, yy, P);
  float8 v = vload8(0, PL(y, n, c, y_ctot, y_coff, H, P) + AT(gx * 8, yy, P));
  float8 d = vload8(0, gp);
  vstore8(select(d * slope, d, v > (float8)0.0f), 0, gp);
}

/* 2x2 average pool: out (H, W) from in (2H, 2W). global: (W, H, N * C). */
__kernel void nn_pool(__global const float *in, int in_ctot, int in_coff, __global float *out,
                      int out_ctot, int out_coff, int C, int H, int W) {
  int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  if (x >= W) return;
  int n = z / C, c = z - n * C, P = W + 16, Pi = 2 * W + 16;
  __global const float *ip = PL(in, n, c, in_ctot, in_coff, 2 * H, Pi);
  float s = (ip[AT(2 * x, 2 * y, Pi)] + ip[AT(2 * x + 1, 2 * y, Pi)]) +
            (ip[AT(2 * x, 2 * y + 1, Pi)] + ip[AT(2 * x + 1, 2 * y + 1, Pi)]);
  PL(out, n, c, out_ctot, out_coff, H, P)[AT(x, y, P)] = 0.25f * s;
}

/* Gradient of the pool: gin (2H, 2W) += g (H, W) / 4 at each of the four
 * pixels. global: (2W, 2H, N * C). */
__kernel void nn_pool_bwd(__global const float *g, int g_ctot, int g_coff, __global float *gin,
                          int gi_ctot, int gi_coff, int C, int H, int W) {
  int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  if (x >= 2 * W) return;
  int n = z / C, c = z - n * C, P = W + 16, Pi = 2 * W + 16;
  float d = PL(g, n, c, g_ctot, g_coff, H, P)[AT(x >> 1, y >> 1, P)];
  PL(gin, n, c, gi_ctot, gi_coff, 2 * H, Pi)[AT(x, y, Pi)] += 0.25f * d;
}

/* Bilinear 2x upsampling with half-pixel centres (align_corners = false):
 * output X samples the input at max(X / 2 - 0.25, 0), between x0 = floor
 * and x1 = min(x0 + 1, w - 1) with weight l on x1. */
static inline void up_src(int X, int w, int *x0, int *x1, float *l) {
  float s = fmax(X * 0.5f - 0.25f, 0.0f);
  int i = (int)s;
  *x0 = i;
  *x1 = min(i + 1, w - 1);
  *l = s - (float)i;
}

/* Weight of input i in output X (the forward's coefficients, gathered). */
static inline float up_weight(int X, int i, int w) {
  int a, b;
  float l;
  up_src(X, w, &a, &b, &l);
  return (a == i ? 1.0f - l : 0.0f) + (b == i ? l : 0.0f);
}

/* out (2H, 2W) from in (H, W). global: (2W, 2H, N * C). */
__kernel void nn_up(__global const float *in, int in_ctot, int in_coff, __global float *out,
                    int out_ctot, int out_coff, int C, int H, int W) {
  int X = get_global_id(0), Y = get_global_id(1), z = get_global_id(2);
  if (X >= 2 * W) return;
  int n = z / C, c = z - n * C, P = W + 16, Po = 2 * W + 16;
  int x0, x1, y0, y1;
  float lx, ly;
  up_src(X, W, &x0, &x1, &lx);
  up_src(Y, H, &y0, &y1, &ly);
  __global const float *ip = PL(in, n, c, in_ctot, in_coff, H, P);
  float t = (1.0f - lx) * ip[AT(x0, y0, P)] + lx * ip[AT(x1, y0, P)];
  float b = (1.0f - lx) * ip[AT(x0, y1, P)] + lx * ip[AT(x1, y1, P)];
  PL(out, n, c, out_ctot, out_coff, 2 * H, Po)[AT(X, Y, Po)] = (1.0f - ly) * t + ly * b;
}

/* Gradient of the upsampling: gin (H, W) = sum over the outputs that read
 * each input pixel (X in 2i-1 .. 2i+2) of weight * g. global: (W, H, N * C). */
__kernel void nn_up_bwd(__global const float *g, int g_ctot, int g_coff, __global float *gin,
                        int gi_ctot, int gi_coff, int C, int H, int W) {
  int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  if (x >= W) return;
  int n = z / C, c = z - n * C, P = W + 16, Po = 2 * W + 16;
  __global const float *gp = PL(g, n, c, g_ctot, g_coff, 2 * H, Po);
  float s = 0.0f;
  for (int Y = max(2 * y - 1, 0); Y <= min(2 * y + 2, 2 * H - 1); Y++) {
    float wy = up_weight(Y, y, H);
    if (wy == 0.0f) continue;
    float r = 0.0f;
    for (int X = max(2 * x - 1, 0); X <= min(2 * x + 2, 2 * W - 1); X++)
      r += up_weight(X, x, W) * gp[AT(X, Y, Po)];
    s += wy * r;
  }
  PL(gin, n, c, gi_ctot, gi_coff, H, P)[AT(x, y, P)] = s;
}

/* The 1x1 head and the residual: r = w h + b (out_ch channels), then
 * y = x + r (rgb) or y = (x0, x1 + r0, x2 + r1) (chroma: Y is a copy).
 * global: (W / 8, H, N). */
__kernel void nn_head(__global const float *h, int Cin, __global const float *w, int woff,
                      int boff, int out_ch, __global const float *x, __global float *y, int H,
                      int W) {
  int gx = get_global_id(0), yy = get_global_id(1), n = get_global_id(2);
  if (gx * 8 >= W) return;
  int P = W + 16;
  size_t ps = PLANE(H, P), at = AT(gx * 8, yy, P);
  __global const float *hp = PL(h, n, 0, Cin, 0, H, P) + at;
  float8 r0 = (float8)w[boff], r1 = (float8)w[boff + 1];
  float8 r2 = out_ch > 2 ? (float8)w[boff + 2] : (float8)0.0f;
  for (int ci = 0; ci < Cin; ci++) {
    float8 v = vload8(0, hp + ci * ps);
    r0 = fma((float8)w[woff + ci], v, r0);
    r1 = fma((float8)w[woff + Cin + ci], v, r1);
    if (out_ch > 2) r2 = fma((float8)w[woff + 2 * Cin + ci], v, r2);
  }
  __global const float *xp = PL(x, n, 0, 3, 0, H, P) + at;
  __global float *yp = PL(y, n, 0, 3, 0, H, P) + at;
  float8 x0 = vload8(0, xp), x1 = vload8(0, xp + ps), x2 = vload8(0, xp + 2 * ps);
  if (out_ch > 2) {
    vstore8(x0 + r0, 0, yp);
    vstore8(x1 + r1, 0, yp + ps);
    vstore8(x2 + r2, 0, yp + 2 * ps);
  } else {
    vstore8(x0, 0, yp);
    vstore8(x1 + r0, 0, yp + ps);
    vstore8(x2 + r1, 0, yp + 2 * ps);
  }
}

/* Data gradient of the head: gh[ci] = sum over co of w[co][ci] * gr[co],
 * where gr[co] is gy at the channel co feeds. global: (W / 8, H, N). */
__kernel void nn_head_bwd(__global const float *gy, __global const float *w, int woff, int Cin,
                          int out_ch, __global float *gh, int H, int W) {
  int gx = get_global_id(0), yy = get_global_id(1), n = get_global_id(2);
  if (gx * 8 >= W) return;
  int P = W + 16, c0 = out_ch > 2 ? 0 : 1;
  size_t ps = PLANE(H, P), at = AT(gx * 8, yy, P);
  __global const float *gp = PL(gy, n, c0, 3, 0, H, P) + at;
  float8 g0 = vload8(0, gp), g1 = vload8(0, gp + ps);
  float8 g2 = out_ch > 2 ? vload8(0, gp + 2 * ps) : (float8)0.0f;
  __global float *hp = PL(gh, n, 0, Cin, 0, H, P) + at;
  for (int ci = 0; ci < Cin; ci++) {
    float8 s = (float8)w[woff + ci] * g0 + (float8)w[woff + Cin + ci] * g1;
    if (out_ch > 2) s = fma((float8)w[woff + 2 * Cin + ci], g2, s);
    vstore8(s, 0, hp + ci * ps);
  }
}

/* Weight and bias gradients of the head, partial per band of rows:
 * part[band][co][Cin + 1] (the last is the bias). global: (Cin + 1, out_ch, nband). */
__kernel void nn_head_dw(__global const float *gy, __global const float *h, int Cin, int out_ch,
                         int N, int H, int W, int rows, __global float *part) {
  int ci = get_global_id(0), co = get_global_id(1), band = get_global_id(2);
  if (ci > Cin || co >= out_ch) return;
  int P = W + 16, y0 = band * rows, y1 = min(H, y0 + rows), c = out_ch > 2 ? co : co + 1;
  float8 s = 0;
  for (int n = 0; n < N; n++) {
    __global const float *gp = PL(gy, n, c, 3, 0, H, P);
    __global const float *hp = PL(h, n, ci < Cin ? ci : 0, Cin, 0, H, P);
    for (int y = y0; y < y1; y++)
      for (int x = 0; x < W; x += 8) {
        float8 d = vload8(0, gp + AT(x, y, P));
        s = ci < Cin ? fma(d, vload8(0, hp + AT(x, y, P)), s) : s + d;
      }
  }
  part[((size_t)band * out_ch + co) * (Cin + 1) + ci] =
      ((s.s0 + s.s1) + (s.s2 + s.s3)) + ((s.s4 + s.s5) + (s.s6 + s.s7));
}

/* Scatters head partials (summed over bands in order) into the gradient:
 * weights [co][ci] at woff, bias [co] at boff. global: out_ch * (Cin + 1). */
__kernel void nn_head_sum(__global const float *part, int Cin, int out_ch, int nband,
                          __global float *grad, int woff, int boff) {
  int i = get_global_id(0);
  if (i >= out_ch * (Cin + 1)) return;
  float s = 0.0f;
  for (int b = 0; b < nband; b++) s += part[(size_t)b * out_ch * (Cin + 1) + i];
  int co = i / (Cin + 1), ci = i - co * (Cin + 1);
  if (ci < Cin) grad[woff + co * Cin + ci] = s;
  else grad[boff + co] = s;
}

/* Loss and its gradient, per row: e = y - t over the trained channels
 * (c0 .. 2), loss L1 |e|, L2 e^2, Charbonnier sqrt(e^2 + eps^2); g = dloss/dy
 * scaled by inv (1 / the number of terms); part[(n * 3 + c) * H + y] = the
 * row's sum. global: (H, 3, N). */
__kernel void nn_loss(__global const float *y, __global const float *t, __global float *g,
                      int c0, int type, float eps, float inv, int H, int W,
                      __global float *part) {
  int yy = get_global_id(0), c = get_global_id(1), n = get_global_id(2);
  if (yy >= H) return;
  int P = W + 16;
  size_t o = (size_t)(n * 3 + c) * PLANE(H, P) + AT(0, yy, P);
  float8 s = 0;
  for (int x = 0; x < W; x += 8) {
    float8 e = vload8(0, y + o + x) - vload8(0, t + o + x), l, d;
    if (type == 0) {
      l = fabs(e);
      d = sign(e);
    } else if (type == 1) {
      l = e * e;
      d = 2.0f * e;
    } else {
      float8 r = sqrt(e * e + eps * eps);
      l = r;
      d = e / r;
    }
    if (c < c0) l = d = 0;
    s += l;
    vstore8(d * inv, 0, g + o + x);
  }
  part[(n * 3 + c) * H + yy] = ((s.s0 + s.s1) + (s.s2 + s.s3)) + ((s.s4 + s.s5) + (s.s6 + s.s7));
}

/* Adam with bias correction, as PyTorch computes it:
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps). global: n. */
__kernel void nn_adam(__global float *p, __global const float *g, __global float *m,
                      __global float *v, int n, float lr, float b1, float b2, float eps, float bc1,
                      float sbc2) {
  int i = get_global_id(0);
  if (i >= n) return;
  float gi = g[i];
  float mi = b1 * m[i] + (1.0f - b1) * gi;
  float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
  m[i] = mi;
  v[i] = vi;
  p[i] -= (lr / bc1) * mi / (sqrt(vi) / sbc2 + eps);
}

/* Packs a patch of a planar image into tensor sample n: tensor pixel (x, y)
 * of a T x T tile (H = W = T when orient != 0) reads the image at
 * (x0 + u * s + i, y0 + v * s + j) averaged over i, j < s, where (u, v) is
 * (x, y) flipped and rotated by orient (bit 0: mirror x, bit 1: mirror y,
 * bit 2: transpose); image coordinates are clamped into the data window
 * (edge extension). ycc: convert R, G, B to Y'CbCr (Rec.709, full range).
 * Image planes: channel ch starts at ch * iw * ih; (dx, dy) is the data
 * window's origin. global: (W, H). */
__kernel void nn_pack(__global const float *img, int iw, int ih, int dx, int dy, int c0, int c1,
                      int c2, __global float *out, int n, int H, int W, int x0, int y0, int s,
                      int orient, int ycc) {
  int x = get_global_id(0), y = get_global_id(1);
  if (x >= W || y >= H) return;
  int u = x, v = y;
  if (orient & 4) {
    u = y;
    v = x;
  }
  if (orient & 1) u = W - 1 - u;
  if (orient & 2) v = H - 1 - v;
  float a = 0, b = 0, c = 0;
  if (iw > 0 && ih > 0) {
    for (int j = 0; j < s; j++)
      for (int i = 0; i < s; i++) {
        int px = clamp(x0 + u * s + i - dx, 0, iw - 1), py = clamp(y0 + v * s + j - dy, 0, ih - 1);
        size_t o = (size_t)py * iw + px, pl = (size_t)iw * ih;
        a += img[c0 * pl + o];
        b += img[c1 * pl + o];
        c += img[c2 * pl + o];
      }
    float k = 1.0f / (float)(s * s);
    a *= k;
    b *= k;
    c *= k;
  }
  if (ycc) {
    float Y = 0.2126f * a + 0.7152f * b + 0.0722f * c;
    float cb = (c - Y) / 1.8556f, cr = (a - Y) / 1.5748f;
    a = Y;
    b = cb;
    c = cr;
  }
  int P = W + 16;
  size_t ps = PLANE(H, P);
  __global float *op = out + (size_t)n * 3 * ps + AT(x, y, P);
  op[0] = a;
  op[ps] = b;
  op[2 * ps] = c;
}

/* Writes tile pixels (tx + x, ty + y), x < w, y < h, of output sample n to
 * image channels c0..c2 at (ox + tx + x, oy + ty + y) where inside the
 * image's data window. rgb: convert Y'CbCr back to R, G, B. global: (w, h). */
__kernel void nn_unpack(__global const float *t, int n, int H, int W, int tx, int ty, int w,
                        int h, __global float *img, int iw, int ih, int dx, int dy, int c0,
                        int c1, int c2, int ox, int oy, int rgb) {
  int x = get_global_id(0), y = get_global_id(1);
  if (x >= w || y >= h) return;
  int ix = ox + tx + x - dx, iy = oy + ty + y - dy;
  if (ix < 0 || iy < 0 || ix >= iw || iy >= ih) return;
  int P = W + 16;
  size_t ps = PLANE(H, P);
  __global const float *tp = t + (size_t)n * 3 * ps + AT(tx + x, ty + y, P);
  float a = tp[0], b = tp[ps], c = tp[2 * ps];
  if (rgb) {
    float r = a + 1.5748f * c, bl = a + 1.8556f * b;
    float g = (a - 0.2126f * r - 0.0722f * bl) / 0.7152f;
    a = r;
    b = g;
    c = bl;
  }
  size_t o = (size_t)iy * iw + ix, pl = (size_t)iw * ih;
  img[c0 * pl + o] = a;
  img[c1 * pl + o] = b;
  img[c2 * pl + o] = c;
}
