/* Unit tests for the warp nodes (Transform, CornerPin, Reformat, Pad) and
 * engine/geom.c. Pixels are checked against CPU reference samplers written
 * here from the documented conventions (pixel centres at +0.5, inverse
 * mapping, 0 outside the data window, Keys cubic, Lanczos-3, widening by the
 * Jacobian's row norms, normalised weights), on small random images read
 * from float EXRs; matrices against hand-built ones; cache keys of
 * keyframed parameters through render statistics. */
#include "geom.h"
#include "imageio.h"
#include "reel.h"
#include "test.h"

#include <unistd.h>

static char dir[64];

/* A small planar float image with its data window (absolute coordinates). */
typedef struct {
  int nch;
  reel_box_t data, display;
  float *px;
} img_t;

static int iw(const img_t *m) { return m->data.x1 - m->data.x0; }
static int ih(const img_t *m) { return m->data.y1 - m->data.y0; }

static unsigned rng = 12345;
static float rnd(void) {
  rng = rng * 1664525u + 1013904223u;
  return (float)(rng >> 8) / 16777216.0f;
}

static img_t random_img(int nch, reel_box_t data, reel_box_t display) {
  img_t m = {nch, data, display, NULL};
  size_t n = (size_t)nch * iw(&m) * ih(&m);
  m.px = malloc(sizeof(float) * n);
  for (size_t i = 0; i < n; i++) m.px[i] = rnd();
  return m;
}

static double at(const img_t *m, int c, int x, int y) {
  if (x < m->data.x0 || x >= m->data.x1 || y < m->data.y0 || y >= m->data.y1) return 0;
  return m->px[((size_t)c * ih(m) + (y - m->data.y0)) * iw(m) + (x - m->data.x0)];
}

static void save(const img_t *m, const char *path) {
  reel_hostimg_t h;
  memset(&h, 0, sizeof h);
  h.nch = m->nch;
  for (int c = 0; c < m->nch; c++) snprintf(h.ch[c], REEL_CHNAME, "%s", c ? "G" : "R");
  h.data = m->data;
  h.display = m->display;
  h.px = m->px;
  reel_io_write_opts_t o = {.pixeltype = "float", .compression = "none"};
  if (reel_io_write(path, &o, &h)) {
    fprintf(stderr, "  %s\n", reel_error_get());
    exit(1);
  }
}

/* ---- reference sampling ---- */

enum { NEAREST, BILINEAR, BICUBIC, LANCZOS3 };

static double keys(double x, double a) {
  x = fabs(x);
  if (x < 1) return (a + 2) * x * x * x - (a + 3) * x * x + 1;
  if (x < 2) return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a;
  return 0;
}

static double lanczos3(double x) {
  if (x == 0) return 1;
  if (fabs(x) >= 3) return 0;
  double px = M_PI * x;
  return 3 * sin(px) * sin(px / 3) / (px * px);
}

/* Sample at absolute continuous (u, v); pixel (x, y) has its centre at
 * (x + 0.5, y + 0.5). s: widening of cubic/Lanczos per axis. */
static double sample(const img_t *m, int c, double u, double v, int f, double a, double sx,
                     double sy) {
  if (f == NEAREST) return at(m, c, (int)floor(u), (int)floor(v));
  if (f == BILINEAR) {
    double fu = u - 0.5, fv = v - 0.5;
    int x = (int)floor(fu), y = (int)floor(fv);
    double tx = fu - x, ty = fv - y;
    return (1 - ty) * ((1 - tx) * at(m, c, x, y) + tx * at(m, c, x + 1, y)) +
           ty * ((1 - tx) * at(m, c, x, y + 1) + tx * at(m, c, x + 1, y + 1));
  }
  double r = f == BICUBIC ? 2 : 3, acc = 0, wsum_x = 0, wsum_y = 0;
  for (int x = (int)floor(u - r * sx) - 1; x <= (int)ceil(u + r * sx) + 1; x++) {
    double d = (x + 0.5 - u) / sx;
    wsum_x += f == BICUBIC ? keys(d, a) : lanczos3(d);
  }
  for (int y = (int)floor(v - r * sy) - 1; y <= (int)ceil(v + r * sy) + 1; y++) {
    double dy = (y + 0.5 - v) / sy;
    double wy = f == BICUBIC ? keys(dy, a) : lanczos3(dy);
    wsum_y += wy;
    for (int x = (int)floor(u - r * sx) - 1; x <= (int)ceil(u + r * sx) + 1; x++) {
      double d = (x + 0.5 - u) / sx;
      acc += wy * (f == BICUBIC ? keys(d, a) : lanczos3(d)) * at(m, c, x, y);
    }
  }
  return acc / (wsum_x * wsum_y);
}

/* Affine matrices as {a, b, c, d, e, f}: x' = a x + b y + c, y' = d x + e y + f. */
static void aff_mul(const double *p, const double *q, double *r) {
  double t[6] = {p[0] * q[0] + p[1] * q[3],        p[0] * q[1] + p[1] * q[4],
                 p[0] * q[2] + p[1] * q[5] + p[2], p[3] * q[0] + p[4] * q[3],
                 p[3] * q[1] + p[4] * q[4],        p[3] * q[2] + p[4] * q[5] + p[5]};
  memcpy(r, t, sizeof t);
}

static void aff_inv(const double *p, double *r) {
  double det = p[0] * p[4] - p[1] * p[3];
  double t[6] = {p[4] / det, -p[1] / det, 0, -p[3] / det, p[0] / det, 0};
  t[2] = -(t[0] * p[2] + t[1] * p[5]);
  t[5] = -(t[3] * p[2] + t[4] * p[5]);
  memcpy(r, t, sizeof t);
}

/* The documented Transform: T(translate) T(center) R K S T(-center), rotate
 * counter-clockwise on screen with y down. */
static void transform_fwd(const double *tr, double rot, const double *sc, const double *sk,
                          const double *ce, double *m) {
  double c = cos(rot * M_PI / 180), s = sin(rot * M_PI / 180);
  double T1[6] = {1, 0, tr[0] + ce[0], 0, 1, tr[1] + ce[1]}, R[6] = {c, s, 0, -s, c, 0};
  double K[6] = {1, sk[0], 0, sk[1], 1, 0}, S[6] = {sc[0], 0, 0, 0, sc[1], 0};
  double T2[6] = {1, 0, -ce[0], 0, 1, -ce[1]};
  aff_mul(T1, R, m);
  aff_mul(m, K, m);
  aff_mul(m, S, m);
  aff_mul(m, T2, m);
}

/* ---- running nodes ---- */

typedef struct {
  float *px;
  int nch;
  reel_box_t data, display;
} res_t;

static reel_graph_t *g;

static reel_node_t *read_node(const char *path) {
  reel_node_t *r = reel_node_new(g, "Read", __FILE__, __LINE__);
  CHECK(r && reel_node_set_string(r, "path", path) == 0 && reel_node_finish(r) == 0);
  return r;
}

static reel_node_t *node(const char *type, reel_node_t *in) {
  reel_node_t *n = reel_node_new(g, type, __FILE__, __LINE__);
  CHECK(n && reel_node_set_input(n, "img", in) == 0);
  return n;
}

static void setv(reel_node_t *n, const char *p, int k, const double *v) {
  for (int i = 0; i < k; i++) CHECK(reel_node_set_number(n, p, i, v[i]) == 0);
}

static int eval(reel_node_t *n, res_t *r) {
  memset(r, 0, sizeof *r);
  if (reel_node_finish(n) ||
      reel_eval_image(g, n, 0, NULL, 0, &r->px, &r->nch, &r->data.x0, &r->display.x0)) {
    fprintf(stderr, "  %s\n", reel_error_get());
    reel_error_clear();
    return -1;
  }
  return 0;
}

static double px_of(const res_t *r, int c, int x, int y) {
  const reel_box_t d = r->data;
  if (x < d.x0 || x >= d.x1 || y < d.y0 || y >= d.y1) return 0;
  int w = d.x1 - d.x0, h = d.y1 - d.y0;
  return r->px[((size_t)c * h + (y - d.y0)) * w + (x - d.x0)];
}

/* Compares r with ref(x, y, c) over the display grown by 8: within tol
 * inside r's data window, and ref ~0 outside it. Returns the max error. */
typedef double (*ref_fn)(const void *ctx, int c, int x, int y);
static double compare(const res_t *r, const void *ctx, ref_fn ref, double tol) {
  double worst = 0;
  int bad = 0;
  for (int c = 0; c < r->nch; c++)
    for (int y = r->display.y0 - 8; y < r->display.y1 + 8; y++)
      for (int x = r->display.x0 - 8; x < r->display.x1 + 8; x++) {
        double e = fabs(px_of(r, c, x, y) - ref(ctx, c, x, y));
        if (e > worst) worst = e;
        if (e > tol && bad++ < 3)
          fprintf(stderr, "  pixel (%d, %d) ch %d: got %.8f, expected %.8f\n", x, y, c,
                  px_of(r, c, x, y), ref(ctx, c, x, y));
      }
  return worst;
}

typedef struct {
  const img_t *src;
  double inv[6]; /* output -> input */
  int filter;
  double a, sx, sy;
} warp_ref_t;

static double warp_ref(const void *vp, int c, int x, int y) {
  const warp_ref_t *w = vp;
  double X = x + 0.5, Y = y + 0.5;
  double u = w->inv[0] * X + w->inv[1] * Y + w->inv[2],
         v = w->inv[3] * X + w->inv[4] * Y + w->inv[5];
  return sample(w->src, c, u, v, w->filter, w->a, w->sx, w->sy);
}

/* ---- geometry ---- */

static void test_homography(void) {
  /* a known perspective matrix, the points it maps, and the solve */
  reel_mat3_t H = {{1.2, 0.1, 30, -0.05, 0.9, 12, 0.0004, -0.0002, 1}}, S;
  double src[8] = {10, 20, 700, 15, 720, 560, 30, 540}, dst[8];
  for (int i = 0; i < 4; i++) {
    double x = src[2 * i], y = src[2 * i + 1];
    double w = H.m[6] * x + H.m[7] * y + H.m[8];
    dst[2 * i] = (H.m[0] * x + H.m[1] * y + H.m[2]) / w;
    dst[2 * i + 1] = (H.m[3] * x + H.m[4] * y + H.m[5]) / w;
  }
  CHECK(reel_geom_homography(src, dst, &S) == 0);
  for (int i = 0; i < 9; i++) CHECK_NEAR(S.m[i], H.m[i], 1e-9 * fmax(1, fabs(H.m[i])));
  /* unit square to a translated square: a pure translation */
  double a[8] = {0, 0, 1, 0, 1, 1, 0, 1}, b[8] = {5, 7, 6, 7, 6, 8, 5, 8};
  CHECK(reel_geom_homography(a, b, &S) == 0);
  CHECK_NEAR(S.m[2], 5, 1e-12);
  CHECK_NEAR(S.m[5], 7, 1e-12);
  CHECK_NEAR(S.m[0], 1, 1e-12);
  CHECK_NEAR(S.m[6], 0, 1e-12);
  /* three collinear corners: no homography */
  double c[8] = {0, 0, 5, 5, 10, 10, 0, 10};
  CHECK(reel_geom_homography(c, b, &S) == -1);
  CHECK(reel_geom_homography(a, c, &S) == -1);
}

static void test_affine(void) {
  double t[2] = {3, -4}, s[2] = {2, 0.5}, k[2] = {0.1, -0.2}, ce[2] = {10, 20}, m[6];
  transform_fwd(t, 30, s, k, ce, m);
  reel_mat3_t M = reel_geom_affine(t, 30, s, k, ce), I;
  for (int i = 0; i < 6; i++) CHECK_NEAR(M.m[i], m[i], 1e-12);
  CHECK(M.m[6] == 0 && M.m[7] == 0 && M.m[8] == 1);
  /* counter-clockwise on screen: right of the centre goes up (y smaller) */
  double x, y, z[2] = {0, 0}, one[2] = {1, 1};
  M = reel_geom_affine(z, 90, one, z, ce);
  CHECK(reel_mat3_apply(&M, 11, 20, &x, &y) > 0);
  CHECK(x == 10 && y == 19);
  CHECK(reel_mat3_invert(M, &I) == 0);
  reel_mat3_t P = reel_mat3_mul(M, I);
  for (int i = 0; i < 9; i++) CHECK_NEAR(P.m[i], i % 4 == 0, 1e-12);
  int tx, ty;
  M = reel_geom_affine(t, 0, one, z, ce);
  CHECK(reel_mat3_int_translation(&M, &tx, &ty) && tx == 3 && ty == -4);
  M = reel_geom_affine(t, 1e-3, one, z, ce);
  CHECK(!reel_mat3_int_translation(&M, &tx, &ty));
  double zero[2] = {0, 1};
  M = reel_geom_affine(t, 0, zero, z, ce);
  CHECK(reel_mat3_invert(M, &I) == -1);
}

static void test_filters_and_taps(void) {
  for (int k = -3; k <= 3; k++) {
    CHECK_NEAR(reel_filter_eval(REEL_FILTER_BICUBIC, k, -0.5), k == 0, 1e-15);
    CHECK_NEAR(reel_filter_eval(REEL_FILTER_LANCZOS3, k, 0), k == 0, 1e-15);
  }
  for (double t = 0; t < 1; t += 0.125) { /* Keys: a partition of unity for any a */
    double s = 0;
    for (int k = -2; k <= 2; k++) s += reel_filter_eval(REEL_FILTER_BICUBIC, t + k, -0.75);
    CHECK_NEAR(s, 1, 1e-12);
    CHECK_NEAR(reel_filter_eval(REEL_FILTER_BICUBIC, t, -0.75), keys(t, -0.75), 1e-12);
    CHECK_NEAR(reel_filter_eval(REEL_FILTER_LANCZOS3, t + 1.5, 0), lanczos3(t + 1.5), 1e-12);
  }
  /* box downscale by 2: each output pixel averages two input pixels */
  reel_taps_t tp;
  CHECK(reel_geom_taps(REEL_FILTER_BOX, 0, 0.5, 0, 0, 10, 0, 5, 1, &tp) == 0);
  CHECK(tp.ntaps == 2);
  for (int o = 0; o < 5; o++) {
    CHECK(tp.start[o] == 2 * o);
    CHECK(tp.w[o * 2] == 0.5f && tp.w[o * 2 + 1] == 0.5f);
  }
  reel_taps_clear(&tp);
  /* Lanczos downscale by 3 at the input's edge: widened support (18 taps),
   * normalised over the whole support, the taps before the input dropped */
  CHECK(reel_geom_taps(REEL_FILTER_LANCZOS3, 0, 1 / 3.0, 0, 0, 60, 0, 20, 1, &tp) == 0);
  CHECK(tp.ntaps == 17); /* centres at 3 o + 1.5: taps -7 .. 9 (the ends weigh 0) */
  double sum = 0, full = 0;
  for (int k = 0; k < tp.ntaps; k++) sum += tp.w[k];
  for (int j = -7; j <= 9; j++) full += lanczos3((j + 0.5 - 1.5) / 3);
  double inside = 0;
  for (int j = 0; j <= 9; j++) inside += lanczos3((j + 0.5 - 1.5) / 3);
  CHECK(tp.start[0] == 0 && tp.start[19] + tp.ntaps <= 60);
  CHECK_NEAR(sum, inside / full, 1e-6);
  reel_taps_clear(&tp);
}

/* ---- nodes ---- */

static img_t src_a; /* 2 channels, data window (3, 2)-(16, 13) in a 20x16 format */
static char path_a[128];

static void test_identity_and_whole_pixels(void) {
  reel_node_t *r = read_node(path_a);
  const char *filters[] = {"nearest", "bilinear", "bicubic", "lanczos3"};
  for (int f = 0; f < 4; f++) {
    res_t o;
    reel_node_t *t = node("Transform", r);
    CHECK(reel_node_set_string(t, "filter", filters[f]) == 0);
    double tr[2] = {3, -2};
    if (f & 1) setv(t, "translate", 2, tr);
    if (eval(t, &o)) continue;
    int dx = f & 1 ? 3 : 0, dy = f & 1 ? -2 : 0;
    CHECK(o.data.x0 == src_a.data.x0 + dx && o.data.y1 == src_a.data.y1 + dy);
    CHECK(o.display.x1 == 20 && o.display.y1 == 16 && o.nch == 2);
    int same = 1;
    for (int c = 0; c < 2; c++)
      for (int y = 0; y < 16; y++)
        for (int x = 0; x < 20; x++) same &= px_of(&o, c, x + dx, y + dy) == at(&src_a, c, x, y);
    CHECK(same);
    free(o.px);
  }
  /* a quarter turn about a pixel corner maps centres onto centres: the
   * kernels themselves (not the copy path) must be exact */
  for (int f = 0; f < 4; f++) {
    res_t o;
    reel_node_t *t = node("Transform", r);
    double ce[2] = {10, 8};
    setv(t, "center", 2, ce);
    CHECK(reel_node_set_number(t, "rotate", 0, -90) == 0);
    CHECK(reel_node_set_string(t, "filter", filters[f]) == 0);
    if (eval(t, &o)) continue;
    /* clockwise quarter turn about (10, 8): input pixel (x, y) lands on
     * (10 - (y + 0.5 - 8) - 0.5, 8 + (x + 0.5 - 10) - 0.5) */
    int same = 1;
    for (int c = 0; c < 2; c++)
      for (int y = 0; y < 16; y++)
        for (int x = 0; x < 20; x++) same &= px_of(&o, c, 17 - y, x - 2) == at(&src_a, c, x, y);
    CHECK(same);
    free(o.px);
  }
}

static void check_warp(const char *filter, int f, double a, const double *tr, double rot,
                       const double *sc, double tol) {
  double sk[2] = {0.05, -0.03}, ce[2] = {9.5, 7}, fwd[6];
  res_t o;
  reel_node_t *t = node("Transform", read_node(path_a));
  setv(t, "translate", 2, tr);
  setv(t, "scale", 2, sc);
  setv(t, "skew", 2, sk);
  setv(t, "center", 2, ce);
  CHECK(reel_node_set_number(t, "rotate", 0, rot) == 0);
  CHECK(reel_node_set_number(t, "cubic_a", 0, a) == 0);
  CHECK(reel_node_set_string(t, "filter", filter) == 0);
  if (eval(t, &o)) return;
  warp_ref_t w = {&src_a, {0}, f, a, 1, 1};
  transform_fwd(tr, rot, sc, sk, ce, fwd);
  aff_inv(fwd, w.inv);
  if (f == BICUBIC || f == LANCZOS3) { /* widening: row norms of the inverse, at least 1 */
    w.sx = fmax(1, hypot(w.inv[0], w.inv[1]));
    w.sy = fmax(1, hypot(w.inv[3], w.inv[4]));
    if (w.sx < 1.001) w.sx = 1;
    if (w.sy < 1.001) w.sy = 1;
  }
  double e = compare(&o, &w, warp_ref, tol);
  if (e > tol)
    fprintf(stderr, "  %s a=%g rot=%g scale=%g: max error %g\n", filter, a, rot, sc[0], e);
  CHECK(e <= tol);
  free(o.px);
}

static void test_transform_vs_reference(void) {
  double tr[2] = {2.25, -1.375}, up[2] = {1.3, 1.1}, down[2] = {0.5, 0.45};
  check_warp("nearest", NEAREST, -0.5, tr, 17, up, 0); /* ties aside: exact */
  check_warp("bilinear", BILINEAR, -0.5, tr, 17, up, 1e-5);
  check_warp("bicubic", BICUBIC, -0.5, tr, 17, up, 1e-5);
  check_warp("bicubic", BICUBIC, -0.75, tr, -33, up, 1e-5);
  check_warp("lanczos3", LANCZOS3, -0.5, tr, 17, up, 1e-5);
  check_warp("bilinear", BILINEAR, -0.5, tr, 40, down, 1e-5);
  check_warp("bicubic", BICUBIC, -0.5, tr, 40, down, 1e-5);  /* widened ~2x */
  check_warp("lanczos3", LANCZOS3, -0.5, tr, 5, down, 1e-5); /* widened ~2x */
}

typedef struct {
  const img_t *src;
  reel_mat3_t inv;
} persp_ref_t;

static double persp_ref(const void *vp, int c, int x, int y) {
  const persp_ref_t *p = vp;
  const double *m = p->inv.m;
  double X = x + 0.5, Y = y + 0.5, w = m[6] * X + m[7] * Y + m[8];
  return sample(p->src, c, (m[0] * X + m[1] * Y + m[2]) / w, (m[3] * X + m[4] * Y + m[5]) / w,
                BILINEAR, 0, 1, 1);
}

static void test_cornerpin(void) {
  /* corners of the format to where a known matrix sends them; the node
   * must warp like that matrix (its own solve checked by test_homography) */
  reel_mat3_t H = {{0.9, 0.12, 1.5, -0.08, 1.05, 0.75, 0.004, -0.006, 1}};
  double from[8] = {0, 0, 20, 0, 20, 16, 0, 16}, to[8];
  for (int i = 0; i < 4; i++) {
    double x = from[2 * i], y = from[2 * i + 1], w = H.m[6] * x + H.m[7] * y + H.m[8];
    to[2 * i] = (H.m[0] * x + H.m[1] * y + H.m[2]) / w;
    to[2 * i + 1] = (H.m[3] * x + H.m[4] * y + H.m[5]) / w;
  }
  persp_ref_t p = {&src_a, {{0}}};
  /* the inverse by cofactors, independent of geom.c */
  const double *m = H.m;
  double inv[9] = {m[4] * m[8] - m[5] * m[7], m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
                   m[5] * m[6] - m[3] * m[8], m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
                   m[3] * m[7] - m[4] * m[6], m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3]};
  memcpy(p.inv.m, inv, sizeof inv);
  for (int mode = 0; mode < 2; mode++) { /* by corners (default from), then by matrix */
    res_t o;
    reel_node_t *n = node("CornerPin", read_node(path_a));
    if (mode == 0)
      setv(n, "to", 8, to);
    else
      setv(n, "matrix", 9, H.m);
    CHECK(reel_node_set_string(n, "filter", "bilinear") == 0);
    if (eval(n, &o)) continue;
    double e = compare(&o, &p, persp_ref, 2e-5);
    if (e > 2e-5) fprintf(stderr, "  mode %d: max error %g\n", mode, e);
    CHECK(e <= 2e-5);
    free(o.px);
  }
  /* collinear corners: a clear error at construction */
  reel_node_t *n = node("CornerPin", read_node(path_a));
  double bad[8] = {0, 0, 5, 5, 10, 10, 3, 9};
  setv(n, "to", 8, bad);
  CHECK(reel_node_finish(n) == -1);
  CHECK(strstr(reel_error_get(), "three corners are on one line") != NULL);
  reel_error_clear();
}

static void test_rotated_data_window(void) {
  /* a 40x30 frame of ones turned 30 degrees about its middle */
  img_t ones = {1, {0, 0, 40, 30}, {0, 0, 40, 30}, NULL};
  ones.px = malloc(sizeof(float) * 1200);
  for (int i = 0; i < 1200; i++) ones.px[i] = 1;
  char path[128];
  snprintf(path, sizeof path, "%s/ones.exr", dir);
  save(&ones, path);
  const char *filters[] = {"nearest", "bilinear", "bicubic"};
  for (int f = 0; f < 3; f++) {
    res_t o;
    reel_node_t *t = node("Transform", read_node(path));
    double ce[2] = {20, 15};
    setv(t, "center", 2, ce);
    CHECK(reel_node_set_number(t, "rotate", 0, 30) == 0);
    CHECK(reel_node_set_string(t, "filter", filters[f]) == 0);
    if (eval(t, &o)) continue;
    /* expected: the bounding box of the turned rectangle, (20, 15) +-
     * (20 cos 30 + 15 sin 30, 20 sin 30 + 15 cos 30) = +-(24.82, 22.99),
     * widened by the filter's reach (pixel centres strictly inside) */
    double hx = 20 * cos(M_PI / 6) + 15 * sin(M_PI / 6),
           hy = 20 * sin(M_PI / 6) + 15 * cos(M_PI / 6);
    double reach = f == 0 ? 0 : f == 1 ? 0.5 : 1.5; /* radius - 0.5 */
    /* growing the rectangle by `reach` moves its turned corners out by
     * reach * (cos 30 + sin 30) along each axis */
    double ex = hx + reach * (cos(M_PI / 6) + sin(M_PI / 6));
    double ey = hy + reach * (cos(M_PI / 6) + sin(M_PI / 6));
    int x0 = (int)floor(20 - ex - 0.5) + 1, x1 = (int)ceil(20 + ex - 0.5);
    int y0 = (int)floor(15 - ey - 0.5) + 1, y1 = (int)ceil(15 + ey - 0.5);
    CHECK(o.data.x0 == x0 && o.data.x1 == x1 && o.data.y0 == y0 && o.data.y1 == y1);
    if (!(o.data.x0 == x0 && o.data.x1 == x1 && o.data.y0 == y0 && o.data.y1 == y1))
      fprintf(stderr, "  %s: data (%d, %d)-(%d, %d), expected (%d, %d)-(%d, %d)\n", filters[f],
              o.data.x0, o.data.y0, o.data.x1, o.data.y1, x0, y0, x1, y1);
    /* and it holds every non-zero pixel of the reference */
    warp_ref_t w = {&ones, {0}, f == 0 ? NEAREST : f == 1 ? BILINEAR : BICUBIC, -0.5, 1, 1};
    double fwd[6], tr[2] = {0, 0}, one[2] = {1, 1}, z[2] = {0, 0};
    transform_fwd(tr, 30, one, z, ce, fwd);
    aff_inv(fwd, w.inv);
    CHECK(compare(&o, &w, warp_ref, 1e-5) <= 1e-5);
    free(o.px);
  }
  free(ones.px);
}

static void test_keyframed_translate(void) {
  /* a still over frames 1-6, translate.x keyed 0 (1), 0 (3), 4 (5)
   * linearly: frames 1-3 share a value, 4 and 5-6 have their own, so the
   * Transform computes 3 times; a static y adds nothing */
  img_t m = random_img(1, (reel_box_t){0, 0, 8, 6}, (reel_box_t){0, 0, 8, 6});
  char path[128];
  snprintf(path, sizeof path, "%s/still.exr", dir);
  save(&m, path);
  reel_graph_t *g2 = reel_graph_new();
  reel_node_t *r = reel_node_new(g2, "Read", __FILE__, __LINE__);
  CHECK(reel_node_set_string(r, "path", path) == 0);
  CHECK(reel_node_set_number(r, "range", 0, 1) == 0 && reel_node_set_number(r, "range", 1, 6) == 0);
  CHECK(reel_node_finish(r) == 0);
  reel_node_t *t = reel_node_new(g2, "Transform", __FILE__, __LINE__);
  CHECK(reel_node_set_input(t, "img", r) == 0);
  double kf[3] = {1, 3, 5}, kv[3] = {0, 0, 4};
  CHECK(reel_node_set_curve(t, "translate", 0, 3, kf, kv, "linear") == 0);
  CHECK(reel_node_set_number(t, "translate", 1, 0.5) == 0);
  CHECK(reel_node_finish(t) == 0);
  CHECK(reel_graph_add_output(g2, t, "t") == 0);
  reel_render_opts_t o = {.first = 1, .last = 6, .no_disk_cache = 1};
  reel_render_stats_t st;
  CHECK(reel_render(g2, &o, &st) == 0);
  CHECK(st.computed == 1 + 3); /* the Read once, the Transform three times */
  CHECK(st.memory_hits >= 3);
  if (st.computed != 4) fprintf(stderr, "  computed %lld\n", st.computed);
  /* frames 2 and 3 give frame 1's pixels, frame 4 others */
  float *p1, *p3, *p4;
  int d1[4], d4[4];
  CHECK(reel_eval_image(g2, t, 1, NULL, 0, &p1, NULL, d1, NULL) == 0);
  CHECK(reel_eval_image(g2, t, 3, NULL, 0, &p3, NULL, NULL, NULL) == 0);
  CHECK(reel_eval_image(g2, t, 4, NULL, 0, &p4, NULL, d4, NULL) == 0);
  CHECK(!memcmp(p1, p3, sizeof(float) * (size_t)(d1[2] - d1[0]) * (d1[3] - d1[1])));
  CHECK(d4[0] != d1[0] || memcmp(p1, p4, sizeof(float) * 8));
  free(p1);
  free(p3);
  free(p4);
  free(m.px);
  reel_graph_free(g2);
}

typedef struct {
  const img_t *src;
  double sx, sy, tx, ty;
  int filter; /* BILINEAR, BICUBIC, LANCZOS3, or -1 for box (area) */
  int w, h;   /* the new format */
} rs_ref_t;

/* One axis of the documented separable resampling: widened by 1/s when
 * downscaling, normalised over the whole support; box = area overlap. */
static double axis_w(int filter, double s, double u, int j, double *norm) {
  double fs = s < 1 ? 1 / s : 1;
  if (filter < 0) {
    double lo = u - fs / 2, hi = u + fs / 2;
    *norm = fs;
    return fmax(0, fmin(hi, j + 1.0) - fmax(lo, (double)j));
  }
  double n = 0, r = filter == BILINEAR ? 1 : filter == BICUBIC ? 2 : 3;
  for (int k = (int)floor(u - r * fs) - 1; k <= (int)ceil(u + r * fs) + 1; k++) {
    double d = (k + 0.5 - u) / fs;
    n += filter == BILINEAR  ? fmax(0, 1 - fabs(d))
         : filter == BICUBIC ? keys(d, -0.5)
                             : lanczos3(d);
  }
  *norm = n;
  double d = (j + 0.5 - u) / fs;
  return filter == BILINEAR  ? fmax(0, 1 - fabs(d))
         : filter == BICUBIC ? keys(d, -0.5)
                             : lanczos3(d);
}

static double resample_ref(const void *vp, int c, int x, int y) {
  const rs_ref_t *r = vp;
  const img_t *m = r->src;
  if (x < 0 || y < 0 || x >= r->w || y >= r->h) return 0; /* clipped to the format */
  double u = (x + 0.5 - r->tx) / r->sx, v = (y + 0.5 - r->ty) / r->sy, acc = 0, nx = 1, ny = 1;
  for (int j = m->data.y0; j < m->data.y1; j++) {
    double wy = axis_w(r->filter, r->sy, v, j, &ny);
    if (wy == 0) continue;
    for (int i = m->data.x0; i < m->data.x1; i++)
      acc += wy * axis_w(r->filter, r->sx, u, i, &nx) * at(m, c, i, j);
  }
  return acc / (nx * ny);
}

static void test_reformat(void) {
  const char *names[] = {"box", "bilinear", "bicubic", "lanczos3"};
  const int ids[] = {-1, BILINEAR, BICUBIC, LANCZOS3};
  /* 20x16 format -> 10x8 (box: area averages), 30x20 distort (up in x,
   * a little up in y), 7x9 fit (down 0.35, letterboxed), 20x5 and 40x16
   * (one axis only: the two passes run in either order) */
  const int sizes[][3] = {{10, 8, 2}, {30, 20, 2}, {7, 9, 0}, {20, 5, 2}, {40, 16, 2}};
  for (int s = 0; s < 5; s++)
    for (int f = 0; f < 4; f++) {
      res_t o;
      reel_node_t *n = node("Reformat", read_node(path_a));
      CHECK(reel_node_set_number(n, "width", 0, sizes[s][0]) == 0);
      CHECK(reel_node_set_number(n, "height", 0, sizes[s][1]) == 0);
      CHECK(reel_node_set_string(n, "resize", sizes[s][2] == 2 ? "distort" : "fit") == 0);
      CHECK(reel_node_set_string(n, "filter", names[f]) == 0);
      if (eval(n, &o)) continue;
      CHECK(o.display.x0 == 0 && o.display.x1 == sizes[s][0] && o.display.y1 == sizes[s][1]);
      rs_ref_t r = {&src_a, sizes[s][0] / 20.0, sizes[s][1] / 16.0, 0, 0,
                    ids[f], sizes[s][0],        sizes[s][1]};
      if (sizes[s][2] == 0) { /* fit: one scale, centred */
        r.sx = r.sy = fmin(r.sx, r.sy);
        r.tx = (sizes[s][0] - 20 * r.sx) / 2;
        r.ty = (sizes[s][1] - 16 * r.sy) / 2;
      }
      double e = compare(&o, &r, resample_ref, 1e-5);
      if (e > 1e-5)
        fprintf(stderr, "  %dx%d %s: max error %g\n", sizes[s][0], sizes[s][1], names[f], e);
      CHECK(e <= 1e-5);
      free(o.px);
    }
  /* named formats and the fill crop */
  res_t o;
  reel_node_t *n = node("Reformat", read_node(path_a));
  CHECK(reel_node_set_string(n, "format", "HD") == 0);
  CHECK(reel_node_set_string(n, "resize", "fill") == 0);
  if (eval(n, &o) == 0) {
    CHECK(o.display.x1 == 1920 && o.display.y1 == 1080);
    CHECK(o.data.x0 >= 0 && o.data.y0 >= 0 && o.data.x1 <= 1920 && o.data.y1 <= 1080);
    free(o.px);
  }
  n = node("Reformat", read_node(path_a));
  CHECK(reel_node_finish(n) == -1);
  CHECK(strstr(reel_error_get(), "give a format") != NULL);
  reel_error_clear();
}

static void test_pad(void) {
  res_t o;
  reel_node_t *n = node("Pad", read_node(path_a));
  double m[4] = {2, 3, 4, 5};
  setv(n, "margins", 4, m);
  if (eval(n, &o) == 0) {
    CHECK(o.display.x0 == 0 && o.display.y0 == 0 && o.display.x1 == 26 && o.display.y1 == 24);
    CHECK(o.data.x0 == src_a.data.x0 + 2 && o.data.y0 == src_a.data.y0 + 3);
    CHECK(!memcmp(o.px, src_a.px, sizeof(float) * 2 * iw(&src_a) * ih(&src_a)));
    free(o.px);
  }
  n = node("Pad", read_node(path_a));
  CHECK(reel_node_set_string(n, "format", "PAL") == 0);
  if (eval(n, &o) == 0) {
    CHECK(o.display.x1 == 720 && o.display.y1 == 576);
    CHECK(o.data.x0 == 350 + 3 && o.data.y0 == 280 + 2);
    free(o.px);
  }
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/reel_test_warp_XXXXXX");
  if (!mkdtemp(dir)) return 1;
  g = reel_graph_new();
  src_a = random_img(2, (reel_box_t){3, 2, 16, 13}, (reel_box_t){0, 0, 20, 16});
  snprintf(path_a, sizeof path_a, "%s/a.exr", dir);
  save(&src_a, path_a);
  RUN(test_homography);
  RUN(test_affine);
  RUN(test_filters_and_taps);
  RUN(test_identity_and_whole_pixels);
  RUN(test_transform_vs_reference);
  RUN(test_cornerpin);
  RUN(test_rotated_data_window);
  RUN(test_keyframed_translate);
  RUN(test_reformat);
  RUN(test_pad);
  reel_graph_free(g);
  reel_shutdown();
  free(src_a.px);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) return 1;
  TEST_END();
}
