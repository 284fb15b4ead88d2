/* Two-input operations of Merge and Dissolve (nodes/merge.c, dissolve.c),
 * on premultiplied images as in Nuke: over is A + B(1 - a). Channels are
 * matched by name on the host (amap/bmap: the input channel of each output
 * channel, -1 for a missing one, which reads 0). The result is blended with
 * B by `mix` (Nuke's mix knob): out = B + (op(A, B) - B) * mix. */

enum { MERGE_OVER, MERGE_PLUS, MERGE_MINUS, MERGE_DIFFERENCE, MERGE_MULTIPLY,
       MERGE_SCREEN, MERGE_MIN, MERGE_MAX, MERGE_MIX };

/* Nuke's formulas, including its special cases for multiply (A where both
 * are negative) and screen (max(A, B) where both exceed 1). */
static inline float merge_op(int op, float a, float b, float aa) {
  switch (op) {
  case MERGE_OVER: return a + b * (1.0f - aa);
  case MERGE_PLUS: return a + b;
  case MERGE_MINUS: return a - b;
  case MERGE_DIFFERENCE: return fabs(a - b);
  case MERGE_MULTIPLY: return a < 0.0f && b < 0.0f ? a : a * b;
  case MERGE_SCREEN: return a <= 1.0f || b <= 1.0f ? a + b - a * b : fmax(a, b);
  case MERGE_MIN: return fmin(a, b);
  case MERGE_MAX: return fmax(a, b);
  default: return a; /* MERGE_MIX: A, blended with B by mix below */
  }
}

/* dst (dw x dh planes) at (x, y) reads A at (x + ax, y + ay) of its aw x ah
 * planes and B likewise; outside an input's window (or with a NULL input,
 * aw = 0) its pixels are 0. alpha: A's alpha channel, or -1 when A has
 * none: then A is opaque inside its data window (a = 1 there, 0 outside),
 * and amap = -2 marks the output alpha that takes that implied value. */
__kernel void merge_apply(__global const float *A, int aw, int ah, int ax, int ay,
                          __global const float *B, int bw, int bh, int bx, int by,
                          __global float *dst, int dw, int dh, int nch, int16 amap,
                          int16 bmap, int alpha, int op, float mix) {
  int x = GID_X, y = GID_Y;
  if (x >= dw || y >= dh) return;
  int am[16], bm[16];
  vstore16(amap, 0, am);
  vstore16(bmap, 0, bm);
  int xa = x + ax, ya = y + ay, xb = x + bx, yb = y + by;
  int ina = xa >= 0 && ya >= 0 && xa < aw && ya < ah;
  int inb = xb >= 0 && yb >= 0 && xb < bw && yb < bh;
  size_t pa = (size_t)aw * ah, pb = (size_t)bw * bh, pd = (size_t)dw * dh;
  size_t ia = ina ? (size_t)ya * aw + xa : 0, ib = inb ? (size_t)yb * bw + xb : 0;
  size_t id = (size_t)y * dw + x;
  float aa = alpha >= 0 ? (ina ? A[alpha * pa + ia] : 0.0f) : (ina ? 1.0f : 0.0f);
  for (int c = 0; c < nch; c++) {
    float a = am[c] == -2 ? aa : am[c] >= 0 && ina ? A[am[c] * pa + ia] : 0.0f;
    float b = bm[c] >= 0 && inb ? B[bm[c] * pb + ib] : 0.0f;
    float r = merge_op(op, a, b, aa);
    if (mix != 1.0f) r = b + (r - b) * mix;
    dst[c * pd + id] = r;
  }
}
