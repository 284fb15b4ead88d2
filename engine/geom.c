/* Geometry for the warp nodes (geom.h): 3x3 matrices, the Transform matrix,
 * homographies by DLT (Hartley, "In defence of the eight-point algorithm",
 * 1997, for the point normalisation), bounds of warped data windows,
 * filter kernels (Keys 1981 cubic convolution; Lanczos-3) and separable
 * resampling weights. All in double precision on the host. */
#include "geom.h"
#include "error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

reel_mat3_t reel_mat3_identity(void) { return (reel_mat3_t){{1, 0, 0, 0, 1, 0, 0, 0, 1}}; }

reel_mat3_t reel_mat3_translate(double tx, double ty) {
  return (reel_mat3_t){{1, 0, tx, 0, 1, ty, 0, 0, 1}};
}

reel_mat3_t reel_mat3_mul(reel_mat3_t a, reel_mat3_t b) {
  reel_mat3_t r;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      r.m[i * 3 + j] =
          a.m[i * 3] * b.m[j] + a.m[i * 3 + 1] * b.m[3 + j] + a.m[i * 3 + 2] * b.m[6 + j];
  return r;
}

int reel_mat3_invert(reel_mat3_t a, reel_mat3_t *out) {
  const double *m = a.m;
  double c[9] = {m[4] * m[8] - m[5] * m[7], m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
                 m[5] * m[6] - m[3] * m[8], m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
                 m[3] * m[7] - m[4] * m[6], m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3]};
  double det = m[0] * c[0] + m[1] * c[3] + m[2] * c[6];
  double scale = 0;
  for (int i = 0; i < 9; i++) scale = fmax(scale, fabs(m[i]));
  if (!isfinite(det) || fabs(det) <= 1e-12 * scale * scale * scale) return -1;
  /* Any multiple of the inverse is the same projective map: make the last
   * entry 1 when it is not ~0, so affine maps stay visibly affine. */
  double k = fabs(c[8]) > 1e-12 * fabs(det) ? c[8] : det;
  for (int i = 0; i < 9; i++) out->m[i] = c[i] / k;
  return 0;
}

double reel_mat3_apply(const reel_mat3_t *a, double x, double y, double *ox, double *oy) {
  const double *m = a->m;
  double w = m[6] * x + m[7] * y + m[8];
  if (w > 0) {
    *ox = (m[0] * x + m[1] * y + m[2]) / w;
    *oy = (m[3] * x + m[4] * y + m[5]) / w;
  }
  return w;
}

int reel_mat3_int_translation(const reel_mat3_t *a, int *tx, int *ty) {
  const double *m = a->m, e = 1e-9;
  if (fabs(m[8]) < e) return 0;
  double n[9];
  for (int i = 0; i < 9; i++) n[i] = m[i] / m[8];
  if (fabs(n[0] - 1) > e || fabs(n[1]) > e || fabs(n[3]) > e || fabs(n[4] - 1) > e ||
      fabs(n[6]) > e || fabs(n[7]) > e)
    return 0;
  double rx = round(n[2]), ry = round(n[5]);
  if (fabs(n[2] - rx) > e || fabs(n[5] - ry) > e || fabs(rx) > 1e9 || fabs(ry) > 1e9) return 0;
  *tx = (int)rx;
  *ty = (int)ry;
  return 1;
}

reel_mat3_t reel_geom_affine(const double translate[2], double rotate_deg, const double scale[2],
                             const double skew[2], const double center[2]) {
  /* Exact quarter turns, so a 90-degree rotation maps pixels onto pixels. */
  double r = fmod(rotate_deg, 360.0), c, s;
  if (r == 0)
    c = 1, s = 0;
  else if (fabs(r) == 180)
    c = -1, s = 0;
  else if (r == 90 || r == -270)
    c = 0, s = 1;
  else if (r == -90 || r == 270)
    c = 0, s = -1;
  else
    c = cos(r * M_PI / 180), s = sin(r * M_PI / 180);
  /* Counter-clockwise on screen with y down: (1, 0) turns towards (0, -1). */
  reel_mat3_t R = {{c, s, 0, -s, c, 0, 0, 0, 1}};
  reel_mat3_t K = {{1, skew[0], 0, skew[1], 1, 0, 0, 0, 1}};
  reel_mat3_t S = {{scale[0], 0, 0, 0, scale[1], 0, 0, 0, 1}};
  reel_mat3_t m = reel_mat3_translate(translate[0] + center[0], translate[1] + center[1]);
  m = reel_mat3_mul(m, R);
  m = reel_mat3_mul(m, K);
  m = reel_mat3_mul(m, S);
  return reel_mat3_mul(m, reel_mat3_translate(-center[0], -center[1]));
}

/* Hartley normalisation: centroid to the origin, mean distance sqrt(2). */
static int normaliser(const double p[8], reel_mat3_t *t) {
  double cx = 0, cy = 0, d = 0;
  for (int i = 0; i < 4; i++) cx += p[2 * i] / 4, cy += p[2 * i + 1] / 4;
  for (int i = 0; i < 4; i++) d += hypot(p[2 * i] - cx, p[2 * i + 1] - cy) / 4;
  if (!(d > 0) || !isfinite(d)) return -1;
  double s = sqrt(2.0) / d;
  *t = (reel_mat3_t){{s, 0, -s * cx, 0, s, -s * cy, 0, 0, 1}};
  return 0;
}

/* Normalised points (mean distance sqrt 2): three of them on one line give
 * a triangle of area ~0. */
static int collinear(const double q[8]) {
  for (int a = 0; a < 4; a++)
    for (int b = a + 1; b < 4; b++)
      for (int c = b + 1; c < 4; c++) {
        double ux = q[2 * b] - q[2 * a], uy = q[2 * b + 1] - q[2 * a + 1];
        double vx = q[2 * c] - q[2 * a], vy = q[2 * c + 1] - q[2 * a + 1];
        if (fabs(ux * vy - uy * vx) < 1e-9) return 1;
      }
  return 0;
}

/* Solves A x = b (n x n, row-major, destroyed) by Gaussian elimination with
 * partial pivoting. 0, or -1 when a pivot is ~0. */
static int solve(double *A, double *b, int n) {
  for (int k = 0; k < n; k++) {
    int p = k;
    for (int i = k + 1; i < n; i++)
      if (fabs(A[i * n + k]) > fabs(A[p * n + k])) p = i;
    if (fabs(A[p * n + k]) < 1e-12) return -1;
    if (p != k) {
      for (int j = 0; j < n; j++) {
        double t = A[k * n + j];
        A[k * n + j] = A[p * n + j];
        A[p * n + j] = t;
      }
      double t = b[k];
      b[k] = b[p];
      b[p] = t;
    }
    for (int i = k + 1; i < n; i++) {
      double f = A[i * n + k] / A[k * n + k];
      for (int j = k; j < n; j++) A[i * n + j] -= f * A[k * n + j];
      b[i] -= f * b[k];
    }
  }
  for (int k = n - 1; k >= 0; k--) {
    double s = b[k];
    for (int j = k + 1; j < n; j++) s -= A[k * n + j] * b[j];
    b[k] = s / A[k * n + k];
  }
  return 0;
}

int reel_geom_homography(const double src[8], const double dst[8], reel_mat3_t *out) {
  reel_mat3_t ts, td, tdi;
  if (normaliser(src, &ts) || normaliser(dst, &td) || reel_mat3_invert(td, &tdi)) return -1;
  double s[8], d[8], A[64], b[8];
  for (int i = 0; i < 4; i++) {
    reel_mat3_apply(&ts, src[2 * i], src[2 * i + 1], &s[2 * i], &s[2 * i + 1]);
    reel_mat3_apply(&td, dst[2 * i], dst[2 * i + 1], &d[2 * i], &d[2 * i + 1]);
  }
  if (collinear(s) || collinear(d)) return -1;
  /* x' (h7 x + h8 y + 1) = h1 x + h2 y + h3, likewise y' with h4..h6. */
  for (int i = 0; i < 4; i++) {
    double x = s[2 * i], y = s[2 * i + 1], X = d[2 * i], Y = d[2 * i + 1];
    double r0[8] = {x, y, 1, 0, 0, 0, -x * X, -y * X};
    double r1[8] = {0, 0, 0, x, y, 1, -x * Y, -y * Y};
    memcpy(&A[(2 * i) * 8], r0, sizeof r0);
    memcpy(&A[(2 * i + 1) * 8], r1, sizeof r1);
    b[2 * i] = X;
    b[2 * i + 1] = Y;
  }
  if (solve(A, b, 8)) return -1;
  reel_mat3_t hn = {{b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], 1}};
  reel_mat3_t h = reel_mat3_mul(tdi, reel_mat3_mul(hn, ts));
  if (fabs(h.m[8]) < 1e-15) return -1;
  for (int i = 0; i < 9; i++) out->m[i] = h.m[i] / h.m[8];
  return 0;
}

void reel_geom_footprint(const reel_mat3_t *inv, double x, double y, double *sx, double *sy) {
  const double *m = inv->m;
  double w = m[6] * x + m[7] * y + m[8];
  double qx = (m[0] * x + m[1] * y + m[2]) / w, qy = (m[3] * x + m[4] * y + m[5]) / w;
  *sx = hypot((m[0] - qx * m[6]) / w, (m[1] - qx * m[7]) / w);
  *sy = hypot((m[3] - qy * m[6]) / w, (m[4] - qy * m[7]) / w);
}

/* Removes rounding noise before floor/ceil (a 90-degree turn of [0, 768)
 * should not give 768.0000000001). */
static double snap(double v) {
  double r = round(v);
  return fabs(v - r) < 1e-6 ? r : v;
}

reel_box_t reel_geom_bound(reel_box_t d) {
  int mx = reel_box_w(d) / 2, my = reel_box_h(d) / 2;
  return (reel_box_t){d.x0 - mx, d.y0 - my, d.x1 + mx, d.y1 + my};
}

reel_box_t reel_geom_bbox(const reel_mat3_t *fwd, reel_box_t box, double pad, reel_box_t bound) {
  if (reel_box_empty(box)) return (reel_box_t){0, 0, 0, 0};
  double cx[4] = {box.x0 - pad, box.x1 + pad, box.x1 + pad, box.x0 - pad};
  double cy[4] = {box.y0 - pad, box.y0 - pad, box.y1 + pad, box.y1 + pad};
  double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
  for (int i = 0; i < 4; i++) {
    double X, Y;
    if (!(reel_mat3_apply(fwd, cx[i], cy[i], &X, &Y) > 0)) return bound;
    x0 = fmin(x0, X), y0 = fmin(y0, Y), x1 = fmax(x1, X), y1 = fmax(y1, Y);
  }
  /* Output pixels whose centres lie strictly inside [x0, x1] x [y0, y1]. */
  x0 = fmax(snap(x0 - 0.5), bound.x0 - 1.0), y0 = fmax(snap(y0 - 0.5), bound.y0 - 1.0);
  x1 = fmin(snap(x1 - 0.5), bound.x1 + 1.0), y1 = fmin(snap(y1 - 0.5), bound.y1 + 1.0);
  reel_box_t r = {(int)floor(x0) + 1, (int)floor(y0) + 1, (int)ceil(x1), (int)ceil(y1)};
  return reel_box_intersect(r, bound);
}

double reel_filter_radius(reel_filter_t f) {
  switch (f) {
  case REEL_FILTER_NEAREST:
  case REEL_FILTER_BOX: return 0.5;
  case REEL_FILTER_BILINEAR: return 1;
  case REEL_FILTER_BICUBIC: return 2;
  case REEL_FILTER_LANCZOS3: return 3;
  }
  return 0;
}

double reel_filter_reach(reel_filter_t f, double s) {
  return f == REEL_FILTER_BOX ? s / 2 : reel_filter_radius(f) * s - 0.5;
}

double reel_filter_eval(reel_filter_t f, double x, double a) {
  x = fabs(x);
  switch (f) {
  case REEL_FILTER_NEAREST:
  case REEL_FILTER_BOX: return x < 0.5 ? 1 : 0;
  case REEL_FILTER_BILINEAR: return x < 1 ? 1 - x : 0;
  case REEL_FILTER_BICUBIC:
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0;
  case REEL_FILTER_LANCZOS3:
    if (x < 1e-12) return 1;
    if (x >= 3) return 0;
    return 3 * sin(M_PI * x) * sin(M_PI * x / 3) / (M_PI * M_PI * x * x);
  }
  return 0;
}

void reel_taps_clear(reel_taps_t *t) {
  free(t->start);
  free(t->w);
  memset(t, 0, sizeof *t);
}

/* Support of output pixel o: absolute input pixels [*j0, *j1) and their
 * weights in w (unnormalised; j1 - j0 <= cap). */
static void support(reel_filter_t f, double a, double scale, double shift, int o, double *w,
                    int cap, int *j0, int *j1) {
  double u = (o + 0.5 - shift) / scale, fs = scale < 1 ? 1 / scale : 1;
  if (f == REEL_FILTER_NEAREST) {
    *j0 = (int)floor(u);
    *j1 = *j0 + 1;
    w[0] = 1;
    return;
  }
  if (f == REEL_FILTER_BOX) { /* exact overlap of [u - fs/2, u + fs/2] with [j, j+1) */
    double lo = u - fs / 2, hi = u + fs / 2;
    *j0 = (int)floor(lo);
    *j1 = (int)ceil(hi);
    if (*j1 - *j0 > cap) *j1 = *j0 + cap;
    for (int j = *j0; j < *j1; j++) w[j - *j0] = fmax(0, fmin(hi, j + 1.0) - fmax(lo, (double)j));
    return;
  }
  double r = reel_filter_radius(f) * fs;
  *j0 = (int)floor(u - 0.5 - r) + 1;
  *j1 = (int)ceil(u - 0.5 + r);
  if (*j1 - *j0 > cap) *j1 = *j0 + cap;
  for (int j = *j0; j < *j1; j++) w[j - *j0] = reel_filter_eval(f, (j + 0.5 - u) / fs, a);
}

int reel_geom_taps(reel_filter_t f, double a, double scale, double shift, int i0, int n, int o0,
                   int no, int align, reel_taps_t *out) {
  memset(out, 0, sizeof *out);
  double fs = scale < 1 ? 1 / scale : 1;
  int cap = (int)ceil(2 * reel_filter_radius(f) * fs) + 2;
  double *w = malloc(sizeof(double) * (size_t)cap);
  int nt = 0, rc = -1;
  if (!w) goto oom;
  for (int o = o0; o < o0 + no; o++) { /* the widest support decides ntaps */
    int j0, j1;
    support(f, a, scale, shift, o, w, cap, &j0, &j1);
    if (j1 - j0 > nt) nt = j1 - j0;
  }
  if (align > 1 && nt % align) nt += align - nt % align;
  if (nt > n) nt = n;
  out->ntaps = nt;
  out->no = no;
  out->start = calloc((size_t)(no ? no : 1), sizeof(int));
  out->w = calloc((size_t)(no ? no : 1) * (size_t)(nt ? nt : 1), sizeof(float));
  if (!out->start || !out->w) goto oom;
  for (int o = 0; o < no && nt > 0; o++) {
    int j0, j1;
    support(f, a, scale, shift, o0 + o, w, cap, &j0, &j1);
    double sum = 0;
    for (int j = j0; j < j1; j++) sum += w[j - j0];
    /* A window of nt input pixels inside [0, n) that holds every tap that
     * exists; taps outside the input (zeros) are dropped. */
    int s = j0 - i0;
    if (s > n - nt) s = n - nt;
    if (s < 0) s = 0;
    out->start[o] = s;
    for (int k = 0; k < nt; k++) {
      int j = i0 + s + k;
      if (j >= j0 && j < j1 && sum != 0) out->w[(size_t)o * nt + k] = (float)(w[j - j0] / sum);
    }
  }
  rc = 0;
  goto out;
oom:
  reel_error(REEL_EIO, "out of memory for resampling weights");
  reel_taps_clear(out);
out:
  free(w);
  return rc;
}

#define NAME(n, w, h) n,
const char *const reel_format_names[] = {"custom", REEL_FORMAT_LIST(NAME) NULL};
#undef NAME

int reel_format_size(int i, int *w, int *h) {
#define SIZE(n, fw, fh) {fw, fh},
  static const int sizes[][2] = {{0, 0}, REEL_FORMAT_LIST(SIZE)};
#undef SIZE
  if (i <= 0 || i >= (int)(sizeof sizes / sizeof sizes[0])) return -1;
  *w = sizes[i][0];
  *h = sizes[i][1];
  return 0;
}
