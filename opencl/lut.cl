/* LUT stages of ApplyGrade. nodes/applygrade.c generates one kernel per
 * chain of Grade operations (engine/grade.h): it loads R, G, B into px[0..2]
 * of a pixel, calls the functions below (and color.cl's color_encode,
 * cdl_pw and color_mat3, whose source is pasted before this file) in
 * order, and stores px back. Tables are float4 per entry (R, G, B, 0); 3D
 * tables are red fastest, index (b n + g) n + r. Lookups follow
 * OpenColorIO's CPU path: x -> (x - lo) / (hi - lo), clamped to [0, 1]
 * (NaN to 0), times n - 1, then linear, trilinear or tetrahedral
 * interpolation between entries. Domain parameters q: lo[3], 1/(hi-lo)[3]. */

/* Position of x in a table of n entries: cell index i in [0, n-2] and
 * fraction f in [0, 1]. */
static inline __attribute__((always_inline)) float lut_pos(float x, float lo, float inv, int n,
                                                           int *i) {
  float t = fmin(fmax((x - lo) * inv, 0.0f), 1.0f) * (float)(n - 1);
  int k = min((int)t, n - 2);
  *i = k;
  return t - (float)k;
}

static inline __attribute__((always_inline)) float lut_comp(float4 e, int c) {
  return c == 0 ? e.x : c == 1 ? e.y : e.z;
}

/* 1D LUT per channel: px[c] = table[x][c], linear interpolation. */
static inline __attribute__((always_inline)) void lut_1d(float *px, __global const float4 *t, int n,
                                                         const float *q) {
#pragma unroll
  for (int c = 0; c < 3; c++) {
    int i;
    float f = lut_pos(px[c], q[c], q[3 + c], n, &i);
    float a = lut_comp(t[i], c), b = lut_comp(t[i + 1], c);
    px[c] = fma(f, b - a, a);
  }
}

/* Analytic shaper: color_encode (opencl/color.cl) on each channel; q: its
 * 16 floats. */
static inline __attribute__((always_inline)) void lut_shaper(float *px, const float *q) {
#pragma unroll
  for (int c = 0; c < 3; c++) px[c] = color_encode(px[c], q);
}

/* 3D LUT, trilinear: along r, then g, then b. */
static inline __attribute__((always_inline)) void lut_3d_tri(float *px, __global const float4 *t,
                                                             int n, const float *q) {
  int ir, ig, ib;
  float fr = lut_pos(px[0], q[0], q[3], n, &ir);
  float fg = lut_pos(px[1], q[1], q[4], n, &ig);
  float fb = lut_pos(px[2], q[2], q[5], n, &ib);
  int o = (ib * n + ig) * n + ir, sg = n, sb = n * n;
  float4 c00 = mix(t[o], t[o + 1], fr);
  float4 c10 = mix(t[o + sg], t[o + sg + 1], fr);
  float4 c01 = mix(t[o + sb], t[o + sb + 1], fr);
  float4 c11 = mix(t[o + sb + sg], t[o + sb + sg + 1], fr);
  float4 v = mix(mix(c00, c10, fg), mix(c01, c11, fg), fb);
  px[0] = v.x, px[1] = v.y, px[2] = v.z;
}

/* 3D LUT, tetrahedral: the cell is cut into six tetrahedra along its
 * diagonal; the one holding the point is chosen by the order of the
 * fractions, and its four corners are weighted by their differences. */
static inline __attribute__((always_inline)) void lut_3d_tet(float *px, __global const float4 *t,
                                                             int n, const float *q) {
  int ir, ig, ib;
  float fr = lut_pos(px[0], q[0], q[3], n, &ir);
  float fg = lut_pos(px[1], q[1], q[4], n, &ig);
  float fb = lut_pos(px[2], q[2], q[5], n, &ib);
  int o = (ib * n + ig) * n + ir, sg = n, sb = n * n;
  /* corners after the first and second step along the path from 000 to
   * 111, and the sorted fractions f1 >= f2 >= f3 */
  int oa, ob;
  float f1, f2, f3;
  if (fr >= fg) {
    if (fg >= fb) oa = 1, ob = 1 + sg, f1 = fr, f2 = fg, f3 = fb;
    else if (fr >= fb) oa = 1, ob = 1 + sb, f1 = fr, f2 = fb, f3 = fg;
    else oa = sb, ob = sb + 1, f1 = fb, f2 = fr, f3 = fg;
  } else {
    if (fr >= fb) oa = sg, ob = sg + 1, f1 = fg, f2 = fr, f3 = fb;
    else if (fg >= fb) oa = sg, ob = sg + sb, f1 = fg, f2 = fb, f3 = fr;
    else oa = sb, ob = sb + sg, f1 = fb, f2 = fg, f3 = fr;
  }
  float4 c0 = t[o], ca = t[o + oa], cb = t[o + ob], c1 = t[o + sb + sg + 1];
  float4 v = c0 + f1 * (ca - c0) + f2 * (cb - ca) + f3 * (c1 - cb);
  px[0] = v.x, px[1] = v.y, px[2] = v.z;
}

/* 3x3 matrix and offset. q: 9 row-major, then 3 offsets. */
static inline __attribute__((always_inline)) void lut_matrix(float *px, const float *q) {
  color_mat3(px, q);
  px[0] += q[9], px[1] += q[10], px[2] += q[11];
}
