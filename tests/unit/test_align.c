/* Unit tests for alignment: the kernels of opencl/align.cl against CPU loops
 * written here from their documented contracts (luma, ECC sums with Huber
 * weights and NaN masks, sync thumbnails); the Transform value (cache round
 * trip, refused payloads, lookup, corner-pin interpolation, JSON and Nuke
 * files merged frame by frame); and the solver on pictures with known
 * transforms: a sum of Gaussian blobs, evaluated exactly at warped points,
 * so the only error is the solver's. */
#include "../../nodes/align_util.h"
#include "buf.h"
#include "reel.h"
#include "test.h"

#include <unistd.h>

static reel_cl_t *cl;
static char dir[64];
static unsigned rng = 2024;

static double rnd(void) {
  rng = rng * 1664525u + 1013904223u;
  return (double)(rng >> 8) / 16777216.0;
}

/* ---- kernels ---- */

static void test_luma_kernel(void) {
  const int sw = 20, sh = 15, dw = 24, dh = 18, ox = -2, oy = -1; /* data at (2, 1) */
  float src[3 * 20 * 15], out[24 * 18];
  for (int i = 0; i < 3 * sw * sh; i++) src[i] = (float)rnd();
  cl_mem s = reel_cl_alloc(cl, sizeof src), d = reel_cl_alloc(cl, sizeof out);
  cl_kernel k = reel_cl_kernel(cl, "align", "align_luma");
  int c0 = 2, c1 = 0, c2 = 1; /* channels in any order */
  cl_float4 wt = {{0.5f, 0.3f, 0.2f, 0}};
  size_t g[2] = {(size_t)dw, (size_t)dh}, l[2] = {8, 1};
  CHECK(k && s && d && !reel_cl_upload(cl, s, 0, src, sizeof src));
  CHECK(!reel_cl_args(k, 12, REEL_ARG(s), REEL_ARG(sw), REEL_ARG(sh), REEL_ARG(c0), REEL_ARG(c1),
                      REEL_ARG(c2), REEL_ARG(wt), REEL_ARG(d), REEL_ARG(dw), REEL_ARG(dh),
                      REEL_ARG(ox), REEL_ARG(oy)));
  CHECK(!reel_cl_run(cl, k, 2, g, l) && !reel_cl_download(cl, d, 0, out, sizeof out));
  int bad = 0;
  for (int y = 0; y < dh; y++)
    for (int x = 0; x < dw; x++) {
      int sx = x + ox, sy = y + oy;
      float v = out[y * dw + x];
      if (sx < 0 || sy < 0 || sx >= sw || sy >= sh) {
        bad += !isnan(v);
        continue;
      }
      int i = sy * sw + sx, n = sw * sh;
      double want = 0.5 * src[2 * n + i] + 0.3 * src[i] + 0.2 * src[n + i];
      bad += !(fabs(v - want) < 1e-6);
    }
  CHECK(bad == 0);
  reel_cl_release(cl, s);
  reel_cl_release(cl, d);
}

static void test_thumb_kernel(void) {
  const int sw = 50, sh = 37;
  float src[50 * 37], out[16 * 12];
  for (int i = 0; i < sw * sh; i++) src[i] = (float)rnd();
  cl_mem s = reel_cl_alloc(cl, sizeof src), d = reel_cl_alloc(cl, sizeof out);
  cl_kernel k = reel_cl_kernel(cl, "align", "align_thumb");
  CHECK(k && s && d && !reel_cl_upload(cl, s, 0, src, sizeof src));
  int c = 0, ox = 0, oy = 0, tw = 16, th = 12;
  cl_float4 wt = {{1, 0, 0, 0}};
  /* a shrink, and a picture smaller than the grid (every cell still one pixel) */
  int sizes[2][2] = {{50, 37}, {8, 6}};
  for (int t = 0; t < 2; t++) {
    int dw = sizes[t][0], dh = sizes[t][1];
    size_t g[2] = {16, 12}, l[2] = {16, 1};
    CHECK(!reel_cl_args(k, 14, REEL_ARG(s), REEL_ARG(sw), REEL_ARG(sh), REEL_ARG(c), REEL_ARG(c),
                        REEL_ARG(c), REEL_ARG(wt), REEL_ARG(dw), REEL_ARG(dh), REEL_ARG(ox),
                        REEL_ARG(oy), REEL_ARG(d), REEL_ARG(tw), REEL_ARG(th)));
    CHECK(!reel_cl_run(cl, k, 2, g, l) && !reel_cl_download(cl, d, 0, out, sizeof out));
    double worst = 0;
    for (int y = 0; y < th; y++)
      for (int x = 0; x < tw; x++) {
        int xa = x * dw / tw, xb = (x + 1) * dw / tw, ya = y * dh / th, yb = (y + 1) * dh / th;
        if (xb <= xa) xb = xa + 1;
        if (yb <= ya) yb = ya + 1;
        double sum = 0;
        for (int py = ya; py < yb; py++)
          for (int px = xa; px < xb; px++) sum += src[py * sw + px];
        worst = fmax(worst, fabs(out[y * tw + x] - sum / ((xb - xa) * (yb - ya))));
      }
    CHECK_NEAR(worst, 0, 1e-5);
  }
  reel_cl_release(cl, s);
  reel_cl_release(cl, d);
}

/* The 66 sums of align_ecc from its contract, in double. */
static void ref_sums(const reel_align_level_t *lv, const float *m, const float *rob, double *S) {
  size_t plane = (size_t)lv->mw * lv->mh;
  memset(S, 0, sizeof(double) * 66);
  for (int y = lv->box.y0; y < lv->box.y1; y++)
    for (int x = lv->box.x0; x < lv->box.x1; x++) {
      double u[2] = {(x + 0.5 - m[9]) * m[11], (y + 0.5 - m[10]) * m[11]};
      double den = m[6] * u[0] + m[7] * u[1] + m[8];
      double v[2] = {(m[0] * u[0] + m[1] * u[1] + m[2]) / den,
                     (m[3] * u[0] + m[4] * u[1] + m[5]) / den};
      double q[2] = {v[0] * m[14] + m[12] - 0.5, v[1] * m[14] + m[13] - 0.5};
      int j = (int)floor(q[0]), i = (int)floor(q[1]);
      double t = lv->fix[(size_t)y * lv->fw + x];
      if (!(den > 0) || j < 0 || i < 0 || j + 1 >= lv->mw || i + 1 >= lv->mh || isnan(t)) continue;
      double f[3];
      for (int c = 0; c < 3; c++) {
        const float *p = lv->mov + c * plane;
        double tx = q[0] - j, ty = q[1] - i;
        f[c] = (1 - tx) * (1 - ty) * p[i * lv->mw + j] + tx * (1 - ty) * p[i * lv->mw + j + 1] +
               (1 - tx) * ty * p[(i + 1) * lv->mw + j] + tx * ty * p[(i + 1) * lv->mw + j + 1];
      }
      if (isnan(f[0]) || isnan(f[1]) || isnan(f[2])) continue;
      /* d(warped luma)/d(matrix entry): chain rule through v = (a u) / (c u) */
      double g[2] = {f[1] * m[14], f[2] * m[14]}, J[8];
      for (int e = 0; e < 8; e++) {
        int row = e / 3, col = e % 3;
        double ue = col < 2 ? u[col] : 1;
        J[e] = row < 2 ? g[row] * ue / den : -(g[0] * v[0] + g[1] * v[1]) * ue / den;
      }
      double err = fabs(rob[0] * (t - rob[2]) - (f[0] - rob[1]));
      double w = rob[3] > 0 && err > rob[3] ? rob[3] / err : 1;
      S[0] += w, S[1] += w * f[0], S[2] += w * f[0] * f[0], S[3] += w * t, S[4] += w * t * t;
      S[5] += w * f[0] * t;
      for (int a = 0, h = 30; a < 8; a++) {
        S[6 + a] += w * J[a], S[14 + a] += w * J[a] * f[0], S[22 + a] += w * J[a] * t;
        for (int b = a; b < 8; b++) S[h++] += w * J[a] * J[b];
      }
    }
}

static void test_ecc_kernel(void) {
  reel_align_level_t lv = {.fw = 83, .fh = 61, .mw = 77, .mh = 58};
  lv.box = (reel_box_t){3, 2, 80, 59};
  size_t nf = (size_t)lv.fw * lv.fh, nm = (size_t)lv.mw * lv.mh;
  lv.fix = malloc(sizeof(float) * nf);
  lv.mov = malloc(sizeof(float) * 3 * nm);
  for (size_t i = 0; i < nf; i++) lv.fix[i] = rnd() < 0.05 ? NAN : (float)rnd();
  for (size_t i = 0; i < 3 * nm; i++) lv.mov[i] = rnd() < 0.02 ? NAN : (float)(rnd() - 0.5);
  /* a perspective warp about the region's centre, as the solver packs it */
  float m[16] = {1.05f, 0.04f, 0.02f, -0.03f,    0.97f, -0.05f, 0.02f, -0.03f,
                 1.0f,  41.5f, 30.5f, 2.0f / 77, 38.5f, 29.0f,  38.5f, 0};
  float robs[2][4] = {{0, 0, 0, 0}, {0.9f, 0.45f, 0.5f, 0.2f}};
  cl_kernel k = reel_cl_kernel(cl, "align", "align_ecc");
  int band = 7, items_x = 5, tw = lv.fw, iw = lv.mw, ih = lv.mh;
  size_t g[2] = {(size_t)items_x * 2, (size_t)((59 - 2 + band - 1) / band)}, l[2] = {2, 1};
  int items = (int)(g[0] * g[1]);
  cl_mem df = reel_cl_alloc(cl, sizeof(float) * nf), dm = reel_cl_alloc(cl, sizeof(float) * 3 * nm);
  cl_mem out = reel_cl_alloc(cl, sizeof(float) * 66 * (size_t)items);
  float *host = malloc(sizeof(float) * 66 * (size_t)items);
  CHECK(k && df && dm && out && host);
  CHECK(!reel_cl_upload(cl, df, 0, lv.fix, sizeof(float) * nf) &&
        !reel_cl_upload(cl, dm, 0, lv.mov, sizeof(float) * 3 * nm));
  for (int r = 0; r < 2; r++) {
    cl_float16 mm;
    cl_float4 rob;
    memcpy(mm.s, m, sizeof m);
    memcpy(rob.s, robs[r], sizeof rob.s);
    cl_int4 box = {{lv.box.x0, lv.box.y0, lv.box.x1, lv.box.y1}};
    CHECK(!reel_cl_args(k, 10, REEL_ARG(df), REEL_ARG(tw), REEL_ARG(box), REEL_ARG(dm),
                        REEL_ARG(iw), REEL_ARG(ih), REEL_ARG(mm), REEL_ARG(rob), REEL_ARG(band),
                        REEL_ARG(out)));
    CHECK(!reel_cl_run(cl, k, 2, g, l));
    CHECK(!reel_cl_download(cl, out, 0, host, sizeof(float) * 66 * (size_t)items));
    double want[66], lib[66], worst = 0, worst_lib = 0;
    ref_sums(&lv, m, robs[r], want);
    reel_align_ecc_host(&lv, m, robs[r], lib);
    for (int s = 0; s < 66; s++) {
      double got = 0;
      for (int i = 0; i < items; i++) got += host[(size_t)s * items + i];
      /* float sums of a few thousand terms: relative to the sum's scale */
      double scale = fmax(fabs(want[s]), 1e-3 * fabs(want[0]));
      worst = fmax(worst, fabs(got - want[s]) / scale);
      worst_lib = fmax(worst_lib, fabs(lib[s] - want[s]) / scale);
    }
    CHECK(want[0] > 1000); /* most pixels took part */
    CHECK_NEAR(worst, 0, 1e-3);
    CHECK_NEAR(worst_lib, 0, 1e-5);
  }
  reel_cl_release(cl, df);
  reel_cl_release(cl, dm);
  reel_cl_release(cl, out);
  free(host);
  free(lv.fix);
  free(lv.mov);
}

/* ---- the Transform value ---- */

static reel_mat3_t affine(double a, double b, double tx, double c, double d, double ty) {
  return (reel_mat3_t){{a, b, tx, c, d, ty, 0, 0, 1}};
}

static void test_xform_value(void) {
  reel_box_t mv = {0, 0, 100, 50}, fx = {0, 0, 200, 100};
  reel_xform_t *x = reel_xform_new(REEL_XF_AFFINE, mv, fx, 2);
  x->e[0] = (reel_xf_entry_t){10, affine(2, 0, 1, 0, 2, 3), 0.01, REEL_XF_SOLVED, 12};
  x->e[1] = (reel_xf_entry_t){20, affine(2, 0.1, 5, 0, 2, 7), NAN, REEL_XF_INTERPOLATED, 0};
  reel_buf_t b = {0};
  CHECK(reel_value_save(&x->v, &b) == 0);
  reel_rd_t rd = {b.p, b.n, 0, 0};
  reel_xform_t *y = reel_xform_cast(reel_value_load(&rd));
  CHECK(y && y->n == 2 && y->model == REEL_XF_AFFINE && y->fixed.x1 == 200 && rd.at == b.n);
  CHECK(y && y->e[1].frame == 20 && isnan(y->e[1].residual) && y->e[0].iterations == 12 &&
        y->e[1].m.m[1] == 0.1 && y->e[1].status == REEL_XF_INTERPOLATED);
  if (y) reel_value_unref(&y->v);
  for (size_t cut = 8; cut < b.n; cut += 13) { /* truncated: refused, never a crash */
    reel_rd_t t = {b.p, cut, 0, 0};
    reel_value_t *v = reel_value_load(&t);
    CHECK(v == NULL);
    reel_value_unref(v);
  }
  reel_error_clear();
  b.p[8 + 4 + 4 + 32] = 0xff; /* an entry count far beyond the payload */
  reel_rd_t bad = {b.p, b.n, 0, 0};
  CHECK(reel_value_load(&bad) == NULL);
  reel_error_clear();
  reel_buf_free(&b);

  reel_xf_entry_t e;
  CHECK(reel_xform_at(x, 15, &e) == 0 && e.status == REEL_XF_INTERPOLATED && e.frame == 15);
  double c[8];
  CHECK(reel_xf_corners(&e.m, mv, c) == 0);
  CHECK_NEAR(c[0], 3, 1e-9); /* top-left: (1, 3) and (5, 7) halfway */
  CHECK_NEAR(c[1], 5, 1e-9);
  CHECK_NEAR(c[2], 200 + 3, 1e-9); /* top-right: (201, 3) and (205, 17) */
  CHECK_NEAR(c[3], 5, 1e-9);
  CHECK(fabs(e.m.m[6]) < 1e-12 && fabs(e.m.m[7]) < 1e-12); /* an affine stays affine */
  CHECK(reel_xform_at(x, 5, &e) == 0 && e.status == REEL_XF_HELD && e.m.m[2] == 1);
  CHECK(reel_xform_at(x, 99, &e) == 0 && e.status == REEL_XF_HELD && e.m.m[2] == 5);
  CHECK(reel_xform_at(x, 10, &e) == 0 && e.status == REEL_XF_SOLVED && e.residual == 0.01);
  reel_value_unref(&x->v);
  reel_xform_t *none = reel_xform_new(REEL_XF_AFFINE, mv, fx, 0);
  CHECK(reel_xform_at(none, 1, &e) == -1);
  reel_error_clear();
  reel_value_unref(&none->v);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *s = calloc(1, 65536);
  if (fread(s, 1, 65535, f) == 0) s[0] = 0;
  fclose(f);
  return s;
}

static int count(const char *s, const char *what) {
  int n = 0;
  for (const char *p = s; (p = strstr(p, what)); p++) n++;
  return n;
}

static void test_xform_files(void) {
  reel_box_t mv = {0, 0, 100, 50};
  reel_xform_t *x = reel_xform_new(REEL_XF_HOMOGRAPHY, mv, mv, 1);
  char json[128], nk[128];
  snprintf(json, sizeof json, "%s/t.json", dir);
  snprintf(nk, sizeof nk, "%s/t.nk", dir);
  reel_meta_t r1 = {0}, r2 = {0}, r3 = {0};
  x->e[0] = (reel_xf_entry_t){1, affine(1, 0, 5, 0, 1, 3), 0.02, REEL_XF_SOLVED, 9};
  CHECK(reel_xform_write(x, 1, json, 1, &r1) == 0 && reel_xform_write(x, 1, nk, 1, &r3) == 0);
  x->e[0] = (reel_xf_entry_t){2, affine(1, 0, 6, 0, 1, 4), 0.03, REEL_XF_SOLVED, 9};
  CHECK(reel_xform_write(x, 2, json, 1, &r2) == 0 && reel_xform_write(x, 2, nk, 1, &r3) == 0);
  char *s = slurp(json);
  CHECK(s && count(s, "\"frame\": ") == 2 && strstr(s, "\"fixed_format\": [0, 0, 100, 50]"));
  CHECK(s && strstr(s, "\"corners\": [5.000000, 3.000000, 105.000000, 3.000000"));
  free(s);
  /* both frames' records still hold; one stops holding when its frame changes */
  CHECK(reel_xform_record_holds(&r1, NULL, 0) == 1 && reel_xform_record_holds(&r2, NULL, 0) == 1);
  x->e[0] = (reel_xf_entry_t){1, affine(1, 0, 7, 0, 1, 3), 0.02, REEL_XF_SOLVED, 9};
  CHECK(reel_xform_record_holds(&r1, x, 1) == 0); /* --verify: differs from the value */
  CHECK(reel_xform_write(x, 1, json, 1, &r1) == 0);
  s = slurp(json);
  CHECK(s && count(s, "\"frame\": ") == 2 && strstr(s, "\"matrix\": [1, 0, 7,"));
  free(s);
  CHECK(reel_xform_record_holds(&r1, x, 1) == 1 && reel_xform_record_holds(&r2, NULL, 0) == 1);
  /* Nuke: y up; to1 is the bottom-left corner, (0, 50) + (6, 4) at frame 2 */
  s = slurp(nk);
  CHECK(s && strstr(s, "CornerPin2D {") && count(s, "# reel-transform {") == 2);
  CHECK(s && strstr(s, " to1 {{curve x1 5.0000 x2 6.0000} {curve x1 -3.0000 x2 -4.0000}}"));
  CHECK(s && strstr(s, " from3 {100 50}"));
  free(s);
  /* another model or format starts the file afresh */
  reel_xform_t *o = reel_xform_new(REEL_XF_AFFINE, mv, mv, 1);
  o->e[0] = x->e[0];
  CHECK(reel_xform_write(o, 1, json, 1, &r1) == 0);
  s = slurp(json);
  CHECK(s && count(s, "\"frame\": ") == 1);
  free(s);
  CHECK(reel_xform_save_file(o, "/tmp/x.txt", 0) == -1);
  reel_error_clear();
  reel_meta_clear(&r1), reel_meta_clear(&r2), reel_meta_clear(&r3);
  reel_value_unref(&x->v);
  reel_value_unref(&o->v);
}

/* ---- the solver ---- */

/* A smooth, textured picture: a sum of Gaussian blobs, exact anywhere. */
#define NBLOB 90
static double blob[NBLOB][4];
static void blobs(int w, int h) {
  for (int i = 0; i < NBLOB; i++) {
    blob[i][0] = rnd() * w, blob[i][1] = rnd() * h;
    blob[i][2] = 2.5 + rnd() * 9, blob[i][3] = rnd() - 0.5;
  }
}
static double texture(double x, double y) {
  double v = 0.5;
  for (int i = 0; i < NBLOB; i++) {
    double dx = x - blob[i][0], dy = y - blob[i][1];
    v += blob[i][3] * exp(-(dx * dx + dy * dy) / (2 * blob[i][2] * blob[i][2]));
  }
  return v;
}

/* fixed: the texture at pixel centres; moving: at H(p) for moving pixel
 * centres p, so H maps moving to fixed exactly. */
static void pair(const reel_mat3_t *h, int w, int hh, int mw, int mh, reel_align_luma_t *mv,
                 reel_align_luma_t *fx) {
  *fx = (reel_align_luma_t){w, hh, {0, 0, w, hh}, malloc(sizeof(float) * (size_t)w * hh)};
  *mv = (reel_align_luma_t){mw, mh, {0, 0, mw, mh}, malloc(sizeof(float) * (size_t)mw * mh)};
  for (int y = 0; y < hh; y++)
    for (int x = 0; x < w; x++) fx->px[y * w + x] = (float)texture(x + 0.5, y + 0.5);
  for (int y = 0; y < mh; y++)
    for (int x = 0; x < mw; x++) {
      double u, v;
      reel_mat3_apply(h, x + 0.5, y + 0.5, &u, &v);
      mv->px[y * mw + x] = (float)texture(u, v);
    }
}

static double corner_error(const reel_mat3_t *a, const reel_mat3_t *b, reel_box_t box) {
  double ca[8], cb[8], e = 0;
  if (reel_xf_corners(a, box, ca) || reel_xf_corners(b, box, cb)) return INFINITY;
  for (int i = 0; i < 4; i++) e += hypot(ca[2 * i] - cb[2 * i], ca[2 * i + 1] - cb[2 * i + 1]) / 4;
  return e;
}

static reel_align_params_t params(int model) {
  return (reel_align_params_t){.model = model,
                               .iterations = 40,
                               .tolerance = 0.001,
                               .search_scale = 1,
                               .borders = 1,
                               .black = 0.04,
                               .normalize = 4};
}

static double solve_case(const reel_align_params_t *p, const reel_mat3_t *h, int w, int hh, int mw,
                         int mh, void (*damage)(reel_align_luma_t *), reel_align_result_t *r) {
  reel_align_luma_t mv, fx;
  pair(h, w, hh, mw, mh, &mv, &fx);
  if (damage) damage(&mv);
  CHECK(reel_align_solve(cl, p, &mv, &fx, r) == 0);
  double e = r->ok ? corner_error(&r->m, h, mv.display) : INFINITY;
  free(mv.px), free(fx.px);
  return e;
}

static void test_solve_models(void) {
  blobs(200, 150);
  reel_mat3_t hs[4] = {
      affine(1, 0, 3.7, 0, 1, -2.2), /* translation */
      affine(0.99 * cos(0.03), -0.99 * sin(0.03), 4, 0.99 * sin(0.03), 0.99 * cos(0.03), 1),
      affine(1.02, 0.03, -3, -0.02, 0.97, 2.5),               /* affine */
      {{1.01, 0.02, -2, -0.01, 0.99, 3, 0.0002, -0.0001, 1}}, /* homography */
  };
  for (int model = 0; model < 4; model++) {
    reel_align_params_t p = params(model);
    reel_align_result_t r;
    double e = solve_case(&p, &hs[model], 200, 150, 200, 150, NULL, &r);
    if (!(e < 0.02)) fprintf(stderr, "  model %d: error %g px (%s)\n", model, e, r.ok ? "" : r.why);
    CHECK(e < 0.02);
    CHECK(r.residual < 0.001 && r.coverage > 0.8);
  }
}

/* A reference at another resolution (2/3), shifted by a quarter of the
 * frame: the coarse search must find the shift, the format map the scale.
 * Looser: the moving picture's normalisation window is rounded to whole
 * pixels (3 for 2.67), which costs about a tenth of a pixel here. */
static void test_solve_scale_and_large_shift(void) {
  blobs(240, 180);
  reel_align_params_t p = params(REEL_XF_HOMOGRAPHY);
  reel_mat3_t h = affine(1.5, 0, 60, 0, 1.5, -20);
  reel_align_result_t r;
  double e = solve_case(&p, &h, 240, 180, 160, 120, NULL, &r);
  if (!(e < 0.2)) fprintf(stderr, "  error %g px (%s)\n", e, r.ok ? "" : r.why);
  CHECK(e < 0.2);
}

static void letterbox(reel_align_luma_t *l) {
  for (int y = 0; y < l->h; y++)
    for (int x = 0; x < l->w; x++)
      if (y < l->h / 8 || y >= l->h - l->h / 8) l->px[y * l->w + x] = 0.02f + 0.01f * (float)rnd();
}

static void dirt(reel_align_luma_t *l) {
  for (int i = 0; i < 40; i++) {
    int cx = (int)(rnd() * l->w), cy = (int)(rnd() * l->h), v = rnd() < 0.5;
    for (int y = cy - 2; y <= cy + 2; y++)
      for (int x = cx - 2; x <= cx + 2; x++)
        if (x >= 0 && y >= 0 && x < l->w && y < l->h) l->px[y * l->w + x] = (float)v;
  }
}

static void regrade(reel_align_luma_t *l) { /* a different grade from left to right */
  for (int y = 0; y < l->h; y++)
    for (int x = 0; x < l->w; x++) {
      float *v = &l->px[y * l->w + x];
      *v = powf(fmaxf(*v, 0), 0.8f) * (0.7f + 0.6f * x / l->w) + 0.05f;
    }
}

/* Bars, dirt (3% of the pixels at 0 or 1) and a grade that changes across
 * the frame, on a smooth picture where each weighs much: within 0.2 px. */
static void test_solve_robust(void) {
  blobs(200, 150);
  reel_mat3_t h = {{1.01, 0.02, -2, -0.01, 0.99, 3, 0.0002, -0.0001, 1}};
  void (*damage[3])(reel_align_luma_t *) = {letterbox, dirt, regrade};
  const char *what[3] = {"letterbox", "dirt", "regrade"};
  for (int i = 0; i < 3; i++) {
    reel_align_params_t p = params(REEL_XF_HOMOGRAPHY);
    reel_align_result_t r;
    double e = solve_case(&p, &h, 200, 150, 200, 150, damage[i], &r);
    if (!(e < 0.2)) fprintf(stderr, "  %s: error %g px (%s)\n", what[i], e, r.ok ? "" : r.why);
    CHECK(e < 0.2);
  }
}

/* A rotation of 20 degrees needs the rotation search. */
static void test_solve_rotation_search(void) {
  blobs(200, 150);
  double a = 20 * M_PI / 180, cx = 100, cy = 75;
  reel_mat3_t h = affine(cos(a), -sin(a), 0, sin(a), cos(a), 0);
  h.m[2] = cx - h.m[0] * cx - h.m[1] * cy;
  h.m[5] = cy - h.m[3] * cx - h.m[4] * cy;
  reel_align_params_t p = params(REEL_XF_SIMILARITY);
  reel_align_result_t r;
  p.search_rotate = 30;
  double e = solve_case(&p, &h, 200, 150, 200, 150, NULL, &r);
  if (!(e < 0.05)) fprintf(stderr, "  error %g px (%s)\n", e, r.ok ? "" : r.why);
  CHECK(e < 0.05);
}

/* Unrelated pictures: no answer, or one with a residual that says so. */
static void test_solve_unrelated(void) {
  reel_align_luma_t mv, fx, other, dummy;
  reel_mat3_t id = reel_mat3_identity();
  blobs(160, 120);
  pair(&id, 160, 120, 160, 120, &mv, &fx);
  blobs(160, 120);
  pair(&id, 160, 120, 160, 120, &other, &dummy);
  reel_align_params_t p = params(REEL_XF_HOMOGRAPHY);
  reel_align_result_t r;
  CHECK(reel_align_solve(cl, &p, &other, &fx, &r) == 0);
  CHECK(!r.ok || r.residual > 0.5);
  /* and a region too small to solve is said so */
  p.box[2] = p.box[3] = 5;
  CHECK(reel_align_solve(cl, &p, &mv, &fx, &r) == 0 && !r.ok && strstr(r.why, "8x8"));
  free(mv.px), free(fx.px), free(other.px), free(dummy.px);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/reel_test_align_XXXXXX");
  if (!mkdtemp(dir)) return 1;
  cl = reel_cl_new(NULL, NULL);
  if (!cl) {
    fprintf(stderr, "no OpenCL device: %s\n", reel_error_get());
    return 1;
  }
  RUN(test_luma_kernel);
  RUN(test_thumb_kernel);
  RUN(test_ecc_kernel);
  RUN(test_xform_value);
  RUN(test_xform_files);
  RUN(test_solve_models);
  RUN(test_solve_scale_and_large_shift);
  RUN(test_solve_robust);
  RUN(test_solve_rotation_search);
  RUN(test_solve_unrelated);
  reel_cl_free(cl);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) return 1;
  TEST_END();
}
