/* LUT stages of ApplyGrade. engine/grade.c generates one kernel per chain
 * of Grade operations (engine/grade.h): it loads R, G, B into px[0..2] of a
 * pixel, calls the functions below (and color.cl's color_log2, cdl_pw and
 * color_mat3, whose source is pasted before this file) in order, and
 * stores px back. Tables are R, G, B floats per entry; 3D tables are red
 * fastest, entry (b n + g) n + r. Lookups follow
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

/* 1D LUT per channel: px[c] = table[x][c], linear interpolation. */
static inline __attribute__((always_inline)) void lut_1d(float *px, __global const float *t, int n,
                                                         const float *q) {
#pragma unroll
  for (int c = 0; c < 3; c++) {
    int i;
    float f = lut_pos(px[c], q[c], q[3 + c], n, &i);
    float a = t[3 * i + c], b = t[3 * i + 3 + c];
    px[c] = fma(f, b - a, a);
  }
}

/* Analytic shaper, the log family of color.cl's color_encode reduced to
 * what log2 and ACEScct need: below q[2] the toe x q[3] + q[4], else
 * log2(x) q[0] + q[1] (color_log2; log2 of 1e-30 for x <= 0). Five
 * floats instead of color_encode's sixteen keep the loop over pixels
 * vectorized (about 3x faster). */
static inline __attribute__((always_inline)) void lut_shaper(float *px, const float *q) {
#pragma unroll
  for (int c = 0; c < 3; c++) {
    float x = px[c];
    float l = fma(color_log2(fmax(x, 1e-30f)), q[0], q[1]);
    px[c] = x < q[2] ? fma(x, q[3], q[4]) : l;
  }
}

/* 3D LUT, trilinear: along r, then g, then b. Scalar loads, no branches
 * and the positions computed in line: the form PoCL runs fastest here. */
static inline __attribute__((always_inline)) void lut_3d_tri(float *px,
                                                             __global const float *restrict t,
                                                             int n, const float *q) {
  float m = (float)(n - 1);
  float tr = fmin(fmax((px[0] - q[0]) * q[3], 0.0f), 1.0f) * m;
  float tg = fmin(fmax((px[1] - q[1]) * q[4], 0.0f), 1.0f) * m;
  float tb = fmin(fmax((px[2] - q[2]) * q[5], 0.0f), 1.0f) * m;
  int ir = min((int)tr, n - 2), ig = min((int)tg, n - 2), ib = min((int)tb, n - 2);
  float fr = tr - (float)ir, fg = tg - (float)ig, fb = tb - (float)ib;
  int o = 3 * ((ib * n + ig) * n + ir), sg = 3 * n, sb = 3 * n * n;
  float v[3];
#pragma unroll
  for (int c = 0; c < 3; c++) {
    __global const float *e = t + o + c;
    float c00 = e[0] + fr * (e[3] - e[0]), c10 = e[sg] + fr * (e[sg + 3] - e[sg]);
    float c01 = e[sb] + fr * (e[sb + 3] - e[sb]);
    float c11 = e[sb + sg] + fr * (e[sb + sg + 3] - e[sb + sg]);
    float c0 = c00 + fg * (c10 - c00), c1 = c01 + fg * (c11 - c01);
    v[c] = c0 + fb * (c1 - c0);
  }
  px[0] = v[0], px[1] = v[1], px[2] = v[2];
}

/* 3D LUT, tetrahedral: the cell is cut into six tetrahedra along its
 * diagonal; the one holding the point follows the order of the fractions
 * f1 >= f2 >= f3 (ties broken r, g, b): from corner 000 one step along the
 * largest fraction's axis (oa), then along all but the smallest's (ob),
 * then to 111. Written with selects, no branches. */
static inline __attribute__((always_inline)) void lut_3d_tet(float *px,
                                                             __global const float *restrict t,
                                                             int n, const float *q) {
  float m = (float)(n - 1);
  float tr = fmin(fmax((px[0] - q[0]) * q[3], 0.0f), 1.0f) * m;
  float tg = fmin(fmax((px[1] - q[1]) * q[4], 0.0f), 1.0f) * m;
  float tb = fmin(fmax((px[2] - q[2]) * q[5], 0.0f), 1.0f) * m;
  int ir = min((int)tr, n - 2), ig = min((int)tg, n - 2), ib = min((int)tb, n - 2);
  float fr = tr - (float)ir, fg = tg - (float)ig, fb = tb - (float)ib;
  int o = 3 * ((ib * n + ig) * n + ir), sg = 3 * n, sb = 3 * n * n;
  int rmax = fr >= fg && fr >= fb, gmax = !rmax && fg >= fb;
  int bmin = fb <= fg && fb <= fr, gmin = !bmin && fg <= fr;
  int oa = rmax ? 3 : gmax ? sg : sb;
  int ob = 3 + sg + sb - (bmin ? sb : gmin ? sg : 3);
  float f1 = rmax ? fr : gmax ? fg : fb;
  float f3 = bmin ? fb : gmin ? fg : fr;
  float f2 = fr + fg + fb - f1 - f3;
  float v[3];
#pragma unroll
  for (int c = 0; c < 3; c++) {
    __global const float *e = t + o + c;
    float c0 = e[0], ca = e[oa], cb = e[ob], c1 = e[3 + sg + sb];
    v[c] = c0 + f1 * (ca - c0) + f2 * (cb - ca) + f3 * (c1 - cb);
  }
  px[0] = v[0], px[1] = v[1], px[2] = v[2];
}

/* 3x3 matrix and offset. q: 9 row-major, then 3 offsets. */
static inline __attribute__((always_inline)) void lut_matrix(float *px, const float *q) {
  color_mat3(px, q);
  px[0] += q[9], px[1] += q[10], px[2] += q[11];
}
