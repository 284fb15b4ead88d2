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
static inline float16 lrelu16(float16 v, float s) { return select(v * s, v, v > (float16)0.0f); }
static inline float hsum8(float8 v) {
  return ((v.s0 + v.s1) + (v.s2 + v.s3)) + ((v.s4 + v.s5) + (v.s6 + v.s7));
}
static inline float hsum16(float16 v) { return hsum8(v.lo + v.hi); }

/* Kernels written once for V = 8 and V = 16 pixels per work-item (floatV
 * vectors): on a CPU the 16-wide variants run where the width allows
 * (W % 16 == 0; for the convolution, 32 pixels where W % 32 == 0).
 * On a CPU with AVX-512 a float16 is one register, so each broadcast weight
 * load feeds twice the multiply-adds (the load ports, not the FMA units,
 * limit the 8-wide loops); elsewhere it is two registers sharing the load. */
#define VEC(V) float##V
#define VLOAD(V) vload##V
#define VSTORE(V) vstore##V

/* 3x3 convolution with zero padding, bias and optional LeakyReLU. Each
 * work-item computes 8 output channels for V pixels of one row: 8
 * accumulators in registers, each input vector reused 8 times.
 * global: (W / V, H, N * Cout / 8). w: [Cout][Cin][3][3] at woff; bias at
 * boff (boff < 0: none). act: 0 none, 1 LeakyReLU(slope), 2 (a data
 * gradient) times LeakyReLU' of the view ay, the output whose gradient this is. */
#define CONV3(NAME, V)                                                                          \
  __kernel void NAME(__global const float *in, int in_ctot, int in_coff, int Cin,               \
                     __global const float *w, int woff, int boff, __global float *out,          \
                     int out_ctot, int out_coff, int Cout, int H, int W, int act, float slope,  \
                     __global const float *ay, int ay_ctot, int ay_coff) {                      \
    int gx = get_global_id(0), y = get_global_id(1), z = get_global_id(2);                      \
    int ncb = Cout >> 3, n = z / ncb, cb = z - n * ncb;                                          \
    if (gx * V >= W) return;                                                                     \
    int P = W + 16;                                                                              \
    size_t ps = PLANE(H, P);                                                                     \
    __global const float *ip =                                                                   \
        PL(in, n, 0, in_ctot, in_coff, H, P) + (size_t)y * P + gx * V + 7;                       \
    __global const float *wp = w + woff + (size_t)(cb * 8) * Cin * 9;                            \
    size_t ws = (size_t)Cin * 9; /* stride between output channels */                            \
    VEC(V) a0, a1, a2, a3, a4, a5, a6, a7;                                                       \
    if (boff >= 0) {                                                                             \
      __global const float *bp = w + boff + cb * 8;                                              \
      a0 = (VEC(V))bp[0]; a1 = (VEC(V))bp[1]; a2 = (VEC(V))bp[2]; a3 = (VEC(V))bp[3];            \
      a4 = (VEC(V))bp[4]; a5 = (VEC(V))bp[5]; a6 = (VEC(V))bp[6]; a7 = (VEC(V))bp[7];            \
    } else {                                                                                     \
      a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = (VEC(V))0.0f;                                      \
    }                                                                                            \
    for (int ci = 0; ci < Cin; ci++, ip += ps, wp += 9) {                                        \
      for (int ky = 0; ky < 3; ky++) {                                                           \
        __global const float *r = ip + ky * P;                                                   \
        VEC(V) l = VLOAD(V)(0, r), m = VLOAD(V)(0, r + 1), h = VLOAD(V)(0, r + 2);               \
        __global const float *q = wp + ky * 3;                                                   \
        CONV3_TAP(V, a0, 0); CONV3_TAP(V, a1, 1); CONV3_TAP(V, a2, 2); CONV3_TAP(V, a3, 3);      \
        CONV3_TAP(V, a4, 4); CONV3_TAP(V, a5, 5); CONV3_TAP(V, a6, 6); CONV3_TAP(V, a7, 7);      \
      }                                                                                          \
    }                                                                                            \
    if (act == 1) {                                                                              \
      a0 = lrelu##V(a0, slope); a1 = lrelu##V(a1, slope); a2 = lrelu##V(a2, slope);              \
      a3 = lrelu##V(a3, slope); a4 = lrelu##V(a4, slope); a5 = lrelu##V(a5, slope);              \
      a6 = lrelu##V(a6, slope); a7 = lrelu##V(a7, slope);                                        \
    } else if (act == 2) {                                                                       \
      __global const float *yp = PL(ay, n, cb * 8, ay_ctot, ay_coff, H, P) + AT(gx * V, y, P);   \
      DACT(V, a0, yp); DACT(V, a1, yp + ps); DACT(V, a2, yp + 2 * ps); DACT(V, a3, yp + 3 * ps); \
      DACT(V, a4, yp + 4 * ps); DACT(V, a5, yp + 5 * ps); DACT(V, a6, yp + 6 * ps);              \
      DACT(V, a7, yp + 7 * ps);                                                                  \
    }                                                                                            \
    __global float *op = PL(out, n, cb * 8, out_ctot, out_coff, H, P) + AT(gx * V, y, P);        \
    VSTORE(V)(a0, 0, op); op += ps; VSTORE(V)(a1, 0, op); op += ps;                              \
    VSTORE(V)(a2, 0, op); op += ps; VSTORE(V)(a3, 0, op); op += ps;                              \
    VSTORE(V)(a4, 0, op); op += ps; VSTORE(V)(a5, 0, op); op += ps;                              \
    VSTORE(V)(a6, 0, op); op += ps; VSTORE(V)(a7, 0, op);                                        \
  }
/* a *= LeakyReLU'(the layer output at yp), which has the sign of its input */
#define DACT(V, a, yp) a = select(a * slope, a, VLOAD(V)(0, yp) > (VEC(V))0.0f)
#define CONV3_TAP(V, acc, k)                                                          \
  acc = fma((VEC(V))q[(k) * ws], l,                                                   \
            fma((VEC(V))q[(k) * ws + 1], m, fma((VEC(V))q[(k) * ws + 2], h, acc)))
CONV3(nn_conv3, 8)
CONV3(nn_conv3_16, 16)

/* The same for 2V pixels of a row as two vectors (lo, hi): each broadcast
 * weight, loaded once, feeds both, so the loads per multiply-add drop from
 * 9/8 to 5/8 and the FMA units, not the load ports, set the pace (16
 * accumulators: 32 registers of AVX-512 hold them with the 6 input vectors).
 * global: (W / 2V, H, N * Cout / 8). */
#define CONV3X2(NAME, V)                                                                        \
  __kernel void NAME(__global const float *in, int in_ctot, int in_coff, int Cin,               \
                     __global const float *w, int woff, int boff, __global float *out,          \
                     int out_ctot, int out_coff, int Cout, int H, int W, int act, float slope,  \
                     __global const float *ay, int ay_ctot, int ay_coff) {                      \
    int gx = get_global_id(0), y = get_global_id(1), z = get_global_id(2);                      \
    int ncb = Cout >> 3, n = z / ncb, cb = z - n * ncb;                                          \
    if (gx * 2 * V >= W) return;                                                                 \
    int P = W + 16;                                                                              \
    size_t ps = PLANE(H, P);                                                                     \
    __global const float *ip =                                                                   \
        PL(in, n, 0, in_ctot, in_coff, H, P) + (size_t)y * P + gx * 2 * V + 7;                   \
    __global const float *wp = w + woff + (size_t)(cb * 8) * Cin * 9;                            \
    size_t ws = (size_t)Cin * 9; /* stride between output channels */                            \
    VEC(V) a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7;                       \
    if (boff >= 0) {                                                                             \
      __global const float *bp = w + boff + cb * 8;                                              \
      a0 = (VEC(V))bp[0]; a1 = (VEC(V))bp[1]; a2 = (VEC(V))bp[2]; a3 = (VEC(V))bp[3];            \
      a4 = (VEC(V))bp[4]; a5 = (VEC(V))bp[5]; a6 = (VEC(V))bp[6]; a7 = (VEC(V))bp[7];            \
    } else {                                                                                     \
      a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = (VEC(V))0.0f;                                      \
    }                                                                                            \
    b0 = a0; b1 = a1; b2 = a2; b3 = a3; b4 = a4; b5 = a5; b6 = a6; b7 = a7;                      \
    for (int ci = 0; ci < Cin; ci++, ip += ps, wp += 9) {                                        \
      for (int ky = 0; ky < 3; ky++) {                                                           \
        __global const float *r = ip + ky * P;                                                   \
        VEC(V) l = VLOAD(V)(0, r), m = VLOAD(V)(0, r + 1), h = VLOAD(V)(0, r + 2);               \
        VEC(V) l2 = VLOAD(V)(0, r + V), m2 = VLOAD(V)(0, r + V + 1), h2 = VLOAD(V)(0, r + V + 2); \
        __global const float *q = wp + ky * 3;                                                   \
        CONV3X2_TAP(V, a0, b0, 0); CONV3X2_TAP(V, a1, b1, 1); CONV3X2_TAP(V, a2, b2, 2);         \
        CONV3X2_TAP(V, a3, b3, 3); CONV3X2_TAP(V, a4, b4, 4); CONV3X2_TAP(V, a5, b5, 5);         \
        CONV3X2_TAP(V, a6, b6, 6); CONV3X2_TAP(V, a7, b7, 7);                                    \
      }                                                                                          \
    }                                                                                            \
    __global float *op = PL(out, n, cb * 8, out_ctot, out_coff, H, P) + AT(gx * 2 * V, y, P);    \
    __global const float *yp = PL(ay, n, cb * 8, ay_ctot, ay_coff, H, P) + AT(gx * 2 * V, y, P); \
    CONV3X2_ST(V, a0, b0); CONV3X2_ST(V, a1, b1); CONV3X2_ST(V, a2, b2);                         \
    CONV3X2_ST(V, a3, b3); CONV3X2_ST(V, a4, b4); CONV3X2_ST(V, a5, b5);                         \
    CONV3X2_ST(V, a6, b6); CONV3X2_ST(V, a7, b7);                                                \
  }
#define CONV3X2_TAP(V, acc, bcc, k)                                                   \
  {                                                                                   \
    VEC(V) w0 = (VEC(V))q[(k) * ws], w1 = (VEC(V))q[(k) * ws + 1],                    \
           w2 = (VEC(V))q[(k) * ws + 2];                                              \
    acc = fma(w0, l, fma(w1, m, fma(w2, h, acc)));                                    \
    bcc = fma(w0, l2, fma(w1, m2, fma(w2, h2, bcc)));                                 \
  }
#define CONV3X2_ST(V, acc, bcc)                                                       \
  if (act == 1) {                                                                     \
    acc = lrelu##V(acc, slope);                                                       \
    bcc = lrelu##V(bcc, slope);                                                       \
  } else if (act == 2) {                                                              \
    DACT(V, acc, yp);                                                                 \
    DACT(V, bcc, yp + V);                                                             \
  }                                                                                   \
  VSTORE(V)(acc, 0, op);                                                              \
  VSTORE(V)(bcc, 0, op + V);                                                          \
  op += ps;                                                                           \
  yp += ps
CONV3X2(nn_conv3_32, 16)

/* Weights for the data gradient of a 3x3 convolution: the transposed,
 * 180-degree rotated kernel, wt[ci][co][8 - t] = w[co][ci][t]. global: Cout * Cin * 9. */
__kernel void nn_flip3(__global const float *w, int woff, int Cin, int Cout, __global float *wt) {
  int i = get_global_id(0);
  if (i >= Cout * Cin * 9) return;
  int t = i % 9, ci = (i / 9) % Cin, co = i / (9 * Cin);
  wt[((size_t)ci * Cout + co) * 9 + (8 - t)] = w[woff + i];
}

/* Weight gradient of a 3x3 convolution, partial over a band: band b is
 * sample n = b / nby, rows (b % nby) * rows .. + rows (an even count);
 * part[b][co][ci][9] = the sum over the band's pixels of
 * g[co](x, y) * in[ci](x + kx - 1, y + ky - 1), followed by the bias
 * gradient's part[b][co] = the sum of g[co] (the weights' layout in the
 * parameters: nn_sum_bands writes both). A work-item does two output
 * channels (co, co + 1) of one input channel, two g rows and V columns at a
 * time: 18 accumulators; the four input rows' shifted vectors feed up to
 * four FMAs each (16 loads per 36 FMAs, where one row at a time took 11 per
 * 18). Bands are short (a few rows of every channel stay in cache while all
 * the channel pairs use them: reading whole planes per pair made the kernel
 * wait on memory). global: (Cin, Cout / 2, N * nby). */
/* Input row r (3 shifted vectors) against g row y (taps a, b, c of the row
 * above: ky = 0) and/or g row y + 1 (taps a2, b2, c2). */
#define DW_FMA(s, t, g0, g1, v) s = fma(g0, v, s); t = fma(g1, v, t)
#define DW_ROW0(V, r, a, b, c)                                                       \
  v = VLOAD(V)(0, r + x); DW_FMA(s##a, t##a, d, e, v);                               \
  v = VLOAD(V)(0, r + x + 1); DW_FMA(s##b, t##b, d, e, v);                           \
  v = VLOAD(V)(0, r + x + 2); DW_FMA(s##c, t##c, d, e, v)
#define DW_ROW3(V, r, a, b, c)                                                       \
  v = VLOAD(V)(0, r + x); DW_FMA(s##a, t##a, f, h, v);                               \
  v = VLOAD(V)(0, r + x + 1); DW_FMA(s##b, t##b, f, h, v);                           \
  v = VLOAD(V)(0, r + x + 2); DW_FMA(s##c, t##c, f, h, v)
#define DW_ROW2(V, r, a, b, c, a2, b2, c2)                                           \
  v = VLOAD(V)(0, r + x); DW_FMA(s##a, t##a, d, e, v); DW_FMA(s##a2, t##a2, f, h, v); \
  v = VLOAD(V)(0, r + x + 1); DW_FMA(s##b, t##b, d, e, v);                           \
  DW_FMA(s##b2, t##b2, f, h, v);                                                     \
  v = VLOAD(V)(0, r + x + 2); DW_FMA(s##c, t##c, d, e, v); DW_FMA(s##c2, t##c2, f, h, v)
#define CONV3_DW(NAME, V)                                                                       \
  __kernel void NAME(__global const float *g, int g_ctot, int g_coff, int Cout,                 \
                     __global const float *in, int in_ctot, int in_coff, int Cin, int nby,      \
                     int H, int W, int rows, __global float *part) {                            \
    int ci = get_global_id(0), co = 2 * get_global_id(1), band = get_global_id(2);              \
    if (ci >= Cin || co >= Cout) return;                                                         \
    int n = band / nby, P = W + 16, y0 = (band - n * nby) * rows, y1 = min(H, y0 + rows);        \
    size_t ps = PLANE(H, P);                                                                     \
    VEC(V) s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s8 = 0;               \
    VEC(V) t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5 = 0, t6 = 0, t7 = 0, t8 = 0;               \
    VEC(V) sb = 0, tb = 0; /* bias sums, by the ci = 0 work-items */                             \
    __global const float *gp = PL(g, n, co, g_ctot, g_coff, H, P);                               \
    __global const float *ip = PL(in, n, ci, in_ctot, in_coff, H, P);                            \
    for (int y = y0; y < y1; y += 2) {                                                           \
      __global const float *gr = gp + AT(0, y, P), *hr = gr + ps;                                \
      __global const float *r0 = ip + (size_t)y * P + 7;                                         \
      __global const float *r1 = r0 + P, *r2 = r1 + P, *r3 = r2 + P;                             \
      for (int x = 0; x < W; x += V) {                                                           \
        /* g rows y (d, e: channels co, co + 1) and y + 1 (f, h) */                              \
        VEC(V) d = VLOAD(V)(0, gr + x), e = VLOAD(V)(0, hr + x);                                 \
        VEC(V) f = VLOAD(V)(0, gr + P + x), h = VLOAD(V)(0, hr + P + x), v;                      \
        DW_ROW0(V, r0, 0, 1, 2);                                                                 \
        DW_ROW2(V, r1, 3, 4, 5, 0, 1, 2);                                                        \
        DW_ROW2(V, r2, 6, 7, 8, 3, 4, 5);                                                        \
        DW_ROW3(V, r3, 6, 7, 8);                                                                 \
        if (ci == 0) sb += d + f, tb += e + h;                                                   \
      }                                                                                          \
    }                                                                                            \
    size_t nw = (size_t)Cout * Cin * 9;                                                          \
    __global float *o = part + band * (nw + Cout) + ((size_t)co * Cin + ci) * 9;                 \
    if (ci == 0) part[band * (nw + Cout) + nw + co] = hsum##V(sb);                               \
    if (ci == 0) part[band * (nw + Cout) + nw + co + 1] = hsum##V(tb);                           \
    o[0] = hsum##V(s0); o[1] = hsum##V(s1); o[2] = hsum##V(s2); o[3] = hsum##V(s3);              \
    o[4] = hsum##V(s4); o[5] = hsum##V(s5); o[6] = hsum##V(s6); o[7] = hsum##V(s7);              \
    o[8] = hsum##V(s8);                                                                          \
    o += (size_t)Cin * 9;                                                                        \
    o[0] = hsum##V(t0); o[1] = hsum##V(t1); o[2] = hsum##V(t2); o[3] = hsum##V(t3);              \
    o[4] = hsum##V(t4); o[5] = hsum##V(t5); o[6] = hsum##V(t6); o[7] = hsum##V(t7);              \
    o[8] = hsum##V(t8);                                                                          \
  }
CONV3_DW(nn_conv3_dw, 8)
CONV3_DW(nn_conv3_dw_16, 16)

/* Sums band partials in order into grad[goff + i]. global: n. */
__kernel void nn_sum_bands(__global const float *part, int n, int nband, __global float *grad,
                           int goff) {
  int i = get_global_id(0);
  if (i >= n) return;
  float s = 0.0f;
  for (int b = 0; b < nband; b++) s += part[(size_t)b * n + i];
  grad[goff + i] = s;
}

/* Even and odd lanes of a float16; and two float8 interleaved. */
#define EVEN16(v) (v).s02468ace
#define ODD16(v) (v).s13579bdf
static inline float16 zip8(float8 e, float8 o) {
  return (float16)(e.s0, o.s0, e.s1, o.s1, e.s2, o.s2, e.s3, o.s3, e.s4, o.s4, e.s5, o.s5, e.s6,
                   o.s6, e.s7, o.s7);
}

/* 2x2 average pool: out (H, W) from in (2H, 2W), 8 outputs per work-item.
 * global: (W / 8, H, N * C). */
__kernel void nn_pool(__global const float *in, int in_ctot, int in_coff, __global float *out,
                      int out_ctot, int out_coff, int C, int H, int W) {
  int gx = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  if (gx * 8 >= W) return;
  int n = z / C, c = z - n * C, P = W + 16, Pi = 2 * W + 16;
  __global const float *ip = PL(in, n, c, in_ctot, in_coff, 2 * H, Pi) + AT(16 * gx, 2 * y, Pi);
  float16 a = vload16(0, ip), b = vload16(0, ip + Pi);
  float8 s = (EVEN16(a) + ODD16(a)) + (EVEN16(b) + ODD16(b));
  vstore8(0.25f * s, 0, PL(out, n, c, out_ctot, out_coff, H, P) + AT(8 * gx, y, P));
}

/* Gradient of the pool: gin (2H, 2W) += g (H, W) / 4 at each of the four
 * pixels, 8 g pixels per work-item; then, the sum being complete, gin *=
 * LeakyReLU'(y) (y: the pooled layer's output). global: (W / 8, H, N * C). */
__kernel void nn_pool_bwd(__global const float *g, int g_ctot, int g_coff, __global float *gin,
                          int gi_ctot, int gi_coff, int C, int H, int W,
                          __global const float *y, int y_ctot, int y_coff, float slope) {
  int gx = get_global_id(0), yy = get_global_id(1), z = get_global_id(2);
  if (gx * 8 >= W) return;
  int n = z / C, c = z - n * C, P = W + 16, Pi = 2 * W + 16;
  float8 d = 0.25f * vload8(0, PL(g, n, c, g_ctot, g_coff, H, P) + AT(8 * gx, yy, P));
  float16 dd = zip8(d, d);
  size_t o = PL((size_t)0, n, c, gi_ctot, gi_coff, 2 * H, Pi) + AT(16 * gx, 2 * yy, Pi);
  size_t oy = PL((size_t)0, n, c, y_ctot, y_coff, 2 * H, Pi) + AT(16 * gx, 2 * yy, Pi);
  for (int r = 0; r < 2; r++, o += Pi, oy += Pi) {
    float16 v = vload16(0, gin + o) + dd;
    vstore16(select(v * slope, v, vload16(0, y + oy) > (float16)0.0f), 0, gin + o);
  }
}

/* Bilinear 2x upsampling with half-pixel centres (align_corners = false):
 * output X samples the input at max(X / 2 - 0.25, 0), between floor and the
 * next pixel (clamped to the edge). So output 2i is 0.25 in[i - 1] + 0.75
 * in[i] (in[0] at i = 0) and 2i + 1 is 0.75 in[i] + 0.25 in[i + 1] (the
 * edge pixel counts twice at i = w - 1); rows the same, after columns. */

/* One input row of 8 pixels at i = 8 gx .. 8 gx + 7, upsampled to its even
 * (*e) and odd (*o) output columns. */
static inline void up_row(__global const float *r, int gx, int W, float8 *e, float8 *o) {
  float8 c = vload8(0, r), l = vload8(0, r - 1), h = vload8(0, r + 1);
  if (gx * 8 + 8 == W) h.s7 = c.s7;
  *e = 0.25f * l + 0.75f * c;
  if (gx == 0) e->s0 = c.s0;
  *o = 0.75f * c + 0.25f * h;
}

/* out (2H, 2W) from in (H, W): input pixels 8 gx .. 8 gx + 7 of row y make
 * output rows 2y and 2y + 1, columns 16 gx .. 16 gx + 15. global: (W / 8, H, N * C). */
__kernel void nn_up(__global const float *in, int in_ctot, int in_coff, __global float *out,
                    int out_ctot, int out_coff, int C, int H, int W) {
  int gx = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  if (gx * 8 >= W) return;
  int n = z / C, c = z - n * C, P = W + 16, Po = 2 * W + 16;
  __global const float *ip = PL(in, n, c, in_ctot, in_coff, H, P) + 8 * gx + 8;
  float8 ue, uo, me, mo, de, do_;
  up_row(ip + (size_t)(max(y - 1, 0) + 1) * P, gx, W, &ue, &uo);
  up_row(ip + (size_t)(y + 1) * P, gx, W, &me, &mo);
  up_row(ip + (size_t)(min(y + 1, H - 1) + 1) * P, gx, W, &de, &do_);
  float8 e0 = y ? 0.25f * ue + 0.75f * me : me, o0 = y ? 0.25f * uo + 0.75f * mo : mo;
  float8 e1 = 0.75f * me + 0.25f * de, o1 = 0.75f * mo + 0.25f * do_;
  __global float *op = PL(out, n, c, out_ctot, out_coff, 2 * H, Po) + AT(16 * gx, 2 * y, Po);
  vstore16(zip8(e0, o0), 0, op);
  vstore16(zip8(e1, o1), 0, op + Po);
}

/* The transposed upsampling along one row: input pixels i = 8 gx .. + 7
 * gather g columns 2i - 1 .. 2i + 2 with weights 1/4, 3/4, 3/4, 1/4; at the
 * edges the clamped sample moves the outer quarter onto the edge column. */
static inline float8 up_bwd_row(__global const float *r, int gx, int W) {
  float16 v = vload16(0, r), m = vload16(0, r - 2), p = vload16(0, r + 2);
  float8 wa = 0.25f, wb = 0.75f, wc = 0.75f, wd = 0.25f;
  if (gx == 0) wa.s0 = 0.0f, wb.s0 = 1.0f;
  if (gx * 8 + 8 == W) wc.s7 = 1.0f, wd.s7 = 0.0f;
  return ((wa * ODD16(m) + wb * EVEN16(v)) + wc * ODD16(v)) + wd * EVEN16(p);
}

/* Gradient of the upsampling: gin (H, W) = sum over the outputs that read
 * each input pixel (rows and columns 2i - 1 .. 2i + 2) of weight * g; the
 * halo supplies the zero rows and columns beyond the edges. Then gin *=
 * LeakyReLU'(yin), yin being the upsampled layer's output.
 * global: (W / 8, H, N * C). */
__kernel void nn_up_bwd(__global const float *g, int g_ctot, int g_coff, __global float *gin,
                        int gi_ctot, int gi_coff, int C, int H, int W,
                        __global const float *yin, int y_ctot, int y_coff, float slope) {
  int gx = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  if (gx * 8 >= W) return;
  int n = z / C, c = z - n * C, P = W + 16, Po = 2 * W + 16;
  __global const float *gp = PL(g, n, c, g_ctot, g_coff, 2 * H, Po) + AT(16 * gx, 2 * y, Po);
  float8 r0 = up_bwd_row(gp - Po, gx, W), r1 = up_bwd_row(gp, gx, W);
  float8 r2 = up_bwd_row(gp + Po, gx, W), r3 = up_bwd_row(gp + 2 * Po, gx, W);
  float wa = y ? 0.25f : 0.0f, wb = y ? 0.75f : 1.0f;
  float wc = y == H - 1 ? 1.0f : 0.75f, wd = y == H - 1 ? 0.0f : 0.25f;
  float8 s = ((wa * r0 + wb * r1) + wc * r2) + wd * r3;
  float8 v = vload8(0, PL(yin, n, c, y_ctot, y_coff, H, P) + AT(8 * gx, y, P));
  s = select(s * slope, s, v > (float8)0.0f);
  vstore8(s, 0, PL(gin, n, c, gi_ctot, gi_coff, H, P) + AT(8 * gx, y, P));
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
 * where gr[co] is gy at the channel co feeds, times LeakyReLU'(h[ci]) (h:
 * the head's input, the last convolution's output). global: (W / 8, H, N). */
__kernel void nn_head_bwd(__global const float *gy, __global const float *w, int woff, int Cin,
                          int out_ch, __global float *gh, int H, int W, __global const float *h,
                          float slope) {
  int gx = get_global_id(0), yy = get_global_id(1), n = get_global_id(2);
  if (gx * 8 >= W) return;
  int P = W + 16, c0 = out_ch > 2 ? 0 : 1;
  size_t ps = PLANE(H, P), at = AT(gx * 8, yy, P);
  __global const float *gp = PL(gy, n, c0, 3, 0, H, P) + at;
  float8 g0 = vload8(0, gp), g1 = vload8(0, gp + ps);
  float8 g2 = out_ch > 2 ? vload8(0, gp + 2 * ps) : (float8)0.0f;
  __global float *hp = PL(gh, n, 0, Cin, 0, H, P) + at;
  __global const float *vp = PL(h, n, 0, Cin, 0, H, P) + at;
  for (int ci = 0; ci < Cin; ci++) {
    float8 s = (float8)w[woff + ci] * g0 + (float8)w[woff + Cin + ci] * g1;
    if (out_ch > 2) s = fma((float8)w[woff + 2 * Cin + ci], g2, s);
    s = select(s * slope, s, vload8(0, vp + ci * ps) > (float8)0.0f);
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
