/* Unit tests for Grade values (engine/grade.c), LUT and CDL files
 * (engine/lutio.c), the fits (engine/gradefit.c) and the ApplyGrade kernel
 * (opencl/lut.cl): the kernel and the engine's double evaluation against
 * reference loops written here (trilinear, tetrahedral, 1D, shapers, CDL,
 * matrix); serialisation round trips and truncations; every reader on
 * small files with hand-computed values; malformed files (errors naming
 * file and line; random truncations and byte flips never crash); writers
 * read back; fits that must recover known transforms; the regularised 3D
 * LUT smooth, monotone and back to the identity where there is no data. */
#include "error.h"
#include "grade.h"
#include "image.h"
#include "reel.h"
#include "test.h"

#include <float.h>
#include <unistd.h>

static char dir[64];
static reel_cl_t *cl;

static unsigned rng = 2024;
static double uni(double lo, double hi) {
  rng = rng * 1664525u + 1013904223u;
  return lo + (hi - lo) * (rng >> 8) / 16777216.0;
}

static int has(const char *msg, const char *part) {
  if (strstr(msg, part)) return 1;
  fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", msg, part);
  return 0;
}

static const char *path_of(const char *name) {
  static char p[8][256];
  static int k;
  k = (k + 1) % 8;
  snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
  return p[k];
}

static const char *put_file(const char *name, const char *text) {
  const char *p = path_of(name);
  FILE *f = fopen(p, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  return p;
}

/* ---- reference evaluation, written independently of engine/grade.c ---- */

static double clamp01(double t) { return t != t ? 0 : t < 0 ? 0 : t > 1 ? 1 : t; }

static double ref_shaper(const reel_gop_t *op, double x) {
  if (op->shaper == REEL_SHAPER_ACESCCT)
    return x <= 0.0078125 ? 10.5402377416545 * x + 0.0729055341958355 : (log2(x) + 9.72) / 17.52;
  return (log2(fmax(x, 1e-30) / op->log2_grey) - op->log2_min) / (op->log2_max - op->log2_min);
}

static double lut3_at(const reel_gop_t *op, int r, int g, int b, int c) {
  int n = op->size;
  return op->lut[3 * ((b * n + g) * n + r) + c];
}

/* trilinear as a weighted sum over the 8 corners; tetrahedral from the
 * barycentric weights of the tetrahedron, found by sorting the fractions */
static void ref_lut3(const reel_gop_t *op, int tetra, const double *in, double *out) {
  int n = op->size, i[3];
  double f[3];
  for (int c = 0; c < 3; c++) {
    double p = clamp01((in[c] - op->lo[c]) / (op->hi[c] - op->lo[c])) * (n - 1);
    i[c] = p >= n - 1 ? n - 2 : (int)floor(p);
    f[c] = p - i[c];
  }
  double w[8];
  for (int k = 0; k < 8; k++)
    w[k] = (k & 1 ? f[0] : 1 - f[0]) * (k & 2 ? f[1] : 1 - f[1]) * (k & 4 ? f[2] : 1 - f[2]);
  if (tetra) {
    int o[3] = {0, 1, 2};
    for (int a = 0; a < 3; a++)
      for (int b = a + 1; b < 3; b++)
        if (f[o[b]] > f[o[a]]) {
          int t = o[a];
          o[a] = o[b], o[b] = t;
        }
    memset(w, 0, sizeof w);
    int k1 = 1 << o[0], k2 = k1 | 1 << o[1];
    w[0] = 1 - f[o[0]], w[k1] = f[o[0]] - f[o[1]], w[k2] = f[o[1]] - f[o[2]], w[7] = f[o[2]];
  }
  for (int c = 0; c < 3; c++) {
    out[c] = 0;
    for (int k = 0; k < 8; k++)
      out[c] += w[k] * lut3_at(op, i[0] + (k & 1), i[1] + (k >> 1 & 1), i[2] + (k >> 2), c);
  }
}

static void ref_apply(const reel_grade_t *g, int tetra, const double *in, double *out) {
  double v[3] = {in[0], in[1], in[2]};
  for (int k = 0; k < g->nops; k++) {
    const reel_gop_t *op = &g->op[k];
    double t[3];
    if (op->kind == REEL_GOP_SHAPER) {
      for (int c = 0; c < 3; c++) v[c] = ref_shaper(op, v[c]);
    } else if (op->kind == REEL_GOP_LUT1D) {
      for (int c = 0; c < 3; c++) {
        double p = clamp01((v[c] - op->lo[c]) / (op->hi[c] - op->lo[c])) * (op->size - 1);
        int i = p >= op->size - 1 ? op->size - 2 : (int)p;
        v[c] = (1 - (p - i)) * op->lut[3 * i + c] + (p - i) * op->lut[3 * i + 3 + c];
      }
    } else if (op->kind == REEL_GOP_LUT3D) {
      ref_lut3(op, tetra, v, t);
      memcpy(v, t, sizeof v);
    } else if (op->kind == REEL_GOP_CDL) {
      for (int c = 0; c < 3; c++) {
        double y = v[c] * op->slope[c] + op->offset[c];
        if (op->clamp) y = clamp01(y);
        t[c] = y > 0 ? pow(y, op->power[c]) : y;
      }
      double l = 0.2126 * t[0] + 0.7152 * t[1] + 0.0722 * t[2];
      for (int c = 0; c < 3; c++) {
        v[c] = l + op->sat * (t[c] - l);
        if (op->clamp) v[c] = clamp01(v[c]);
      }
    } else {
      for (int r = 0; r < 3; r++)
        t[r] = op->m[3 * r] * v[0] + op->m[3 * r + 1] * v[1] + op->m[3 * r + 2] * v[2] + op->off[r];
      memcpy(v, t, sizeof v);
    }
  }
  memcpy(out, v, sizeof v);
}

/* ---- grades built here ---- */

static void random_lut(reel_gop_t *op, double lo, double hi) {
  size_t n = op->kind == REEL_GOP_LUT3D ? (size_t)op->size * op->size * op->size : (size_t)op->size;
  for (size_t k = 0; k < 3 * n; k++) op->lut[k] = (float)uni(lo, hi);
}

/* kind: 0 shaper log2 + 3D, 1 acescct + 3D, 2 1D (domain) + 3D (domain),
 * 3 CDL noclamp, 4 CDL asc, 5 matrix, 6 everything */
static reel_grade_t *make(int kind) {
  reel_grade_t *g = reel_grade_new();
  reel_gop_t *op;
  if (kind == 0 || kind == 6) reel_grade_add_shaper(g, REEL_SHAPER_LOG2, -7, 5, 0.18);
  if (kind == 1) reel_grade_add_shaper(g, REEL_SHAPER_ACESCCT, 0, 0, 0);
  if (kind == 2 || kind == 6) {
    op = reel_grade_add(g, REEL_GOP_LUT1D, 7);
    random_lut(op, -0.1, 1.1);
    for (int c = 0; c < 3; c++) op->lo[c] = -0.05 * c, op->hi[c] = 1 + 0.1 * c;
  }
  if (kind <= 2 || kind == 6) {
    op = reel_grade_add(g, REEL_GOP_LUT3D, 5);
    random_lut(op, -0.2, 1.2);
    if (kind == 2)
      for (int c = 0; c < 3; c++) op->lo[c] = -0.1, op->hi[c] = 1.2 - 0.1 * c;
  }
  if (kind == 3 || kind == 4 || kind == 6) {
    op = reel_grade_add(g, REEL_GOP_CDL, 0);
    double s[3] = {1.1, 0.9, 1.3}, o[3] = {-0.05, 0.02, 0.1}, p[3] = {1.2, 0.8, 2.0};
    memcpy(op->slope, s, sizeof s), memcpy(op->offset, o, sizeof o), memcpy(op->power, p, sizeof p);
    op->sat = 1.3;
    op->clamp = kind == 4;
  }
  if (kind == 5 || kind == 6) {
    op = reel_grade_add(g, REEL_GOP_MATRIX, 0);
    double m[9] = {0.9, 0.1, 0.05, -0.1, 1.2, 0.0, 0.02, -0.05, 0.95}, off[3] = {0.01, -0.02, 0.03};
    memcpy(op->m, m, sizeof m), memcpy(op->off, off, sizeof off);
  }
  return g;
}

#define NKINDS 7

static void test_cpu_matches_reference(void) {
  for (int kind = 0; kind < NKINDS; kind++)
    for (int tetra = 0; tetra < 2; tetra++) {
      reel_grade_t *g = make(kind);
      CHECK(g && !reel_grade_check(g, "test"));
      double worst = 0;
      for (int i = 0; i < 2000; i++) {
        double in[3] = {uni(-0.2, 1.4), uni(-0.2, 1.4), uni(-0.2, 1.4)}, a[3], b[3];
        if (i < 8) in[0] = in[1] = in[2] = i / 7.0; /* lattice corners and the grey axis */
        reel_grade_apply(g, tetra, in, a);
        ref_apply(g, tetra, in, b);
        for (int c = 0; c < 3; c++) worst = fmax(worst, fabs(a[c] - b[c]));
      }
      CHECK_NEAR(worst, 0, 1e-9);
      reel_grade_unref(g);
    }
}

/* Planar float image of w x h, R, G, B on the device from host pixels. */
static reel_image_t *device_image(const float *px, int w, int h) {
  reel_box_t b = {0, 0, w, h};
  reel_image_t *im = reel_image_new(cl, 3, NULL, b, b);
  CHECK(im && !reel_image_upload(im, px));
  return im;
}

static void test_kernel_matches_reference(void) {
  enum { W = 64, H = 32, N = W * H };
  float *in = malloc(sizeof(float) * 3 * N), *out = malloc(sizeof(float) * 3 * N);
  for (int i = 0; i < 3 * N; i++) in[i] = (float)uni(-0.2, 1.4);
  for (int i = 0; i < 8; i++) in[i] = in[N + i] = in[2 * N + i] = (float)(i / 7.0);
  in[9] = NAN; /* NaN reads position 0 of a table and must not crash */
  reel_image_t *src = device_image(in, W, H);
  for (int kind = 0; kind < NKINDS; kind++)
    for (int tetra = 0; tetra < 2; tetra++) {
      reel_grade_t *g = make(kind);
      reel_image_t *dst = reel_image_new_like(src);
      int idx[3] = {0, 1, 2};
      if (reel_grade_apply_image(g, tetra, src, idx, dst)) {
        fprintf(stderr, "  apply: %s\n", reel_error_get());
        CHECK(0);
      }
      CHECK(!reel_image_download(dst, out));
      double worst = 0;
      for (int i = 0; i < N; i++) {
        if (i == 9) continue;
        double x[3] = {in[i], in[N + i], in[2 * N + i]}, r[3];
        ref_apply(g, tetra, x, r);
        for (int c = 0; c < 3; c++)
          worst = fmax(worst, fabs(out[c * N + i] - r[c]) / fmax(1, fabs(r[c])));
      }
      if (worst > 2e-5) fprintf(stderr, "  kind %d tetra %d: max err %g\n", kind, tetra, worst);
      CHECK(worst <= 2e-5);
      CHECK(isfinite(out[9]) || kind >= 3); /* a table at position 0 */
      reel_image_unref(dst);
      reel_grade_unref(g);
    }
  reel_image_unref(src);
  free(in);
  free(out);
}

static void test_value_roundtrip(void) {
  reel_grade_t *g = make(6);
  reel_grade_set_info(g, "fit: test\nrms: 0.1");
  reel_buf_t b = {0}, b2 = {0};
  CHECK(!reel_value_save(&g->v, &b));
  reel_rd_t rd = {b.p, b.n, 0, 0};
  reel_value_t *v = reel_value_load(&rd);
  reel_grade_t *h = reel_grade_cast(v);
  CHECK(h && h->nops == g->nops && h->info && !strcmp(h->info, g->info));
  CHECK(h && !reel_value_save(&h->v, &b2) && b2.n == b.n && !memcmp(b.p, b2.p, b.n));
  CHECK(reel_value_bytes(&g->v) > 5 * 5 * 5 * 3 * sizeof(float));
  /* every truncation is refused, never read past */
  int refused = 0;
  for (size_t n = 0; n < b.n; n++) {
    reel_rd_t t = {b.p, n, 0, 0};
    reel_value_t *x = reel_value_load(&t);
    refused += x == NULL;
    reel_value_unref(x);
  }
  CHECK(refused == (int)b.n);
  CHECK(has(reel_error_get(), "Grade"));
  reel_error_clear();
  /* a bad operation kind, a size over the limit */
  unsigned char *p = b.p + 16;
  p[0] = 99;
  reel_rd_t t = {b.p, b.n, 0, 0};
  CHECK(reel_value_load(&t) == NULL);
  reel_error_clear();
  reel_value_unref(v);
  reel_buf_free(&b);
  reel_buf_free(&b2);
  reel_grade_unref(g);
}

/* ---- readers ---- */

static reel_grade_t *load_text(const char *name, const char *text, const char *id) {
  reel_grade_t *g = reel_grade_load_file(put_file(name, text), id);
  if (!g) fprintf(stderr, "  %s: %s\n", name, reel_error_get());
  reel_error_clear();
  return g;
}

static void at(const reel_grade_t *g, double r, double gg, double b, double *o) {
  double in[3] = {r, gg, b};
  reel_grade_apply(g, 0, in, o);
}

static void test_read_formats(void) {
  double o[3];
  /* Iridas 1D with a per-channel domain: out = 2 x over [0, 2] in R */
  reel_grade_t *g = load_text("d1.cube", "TITLE \"one\"\n# c\nLUT_1D_SIZE 3\nDOMAIN_MIN 0 0 0\n"
                                         "DOMAIN_MAX 2 1 1\n0 0 0\n1 0.5 0.5\n2 1 1\n", NULL);
  CHECK(g && g->nops == 1 && g->op[0].kind == REEL_GOP_LUT1D);
  if (g) {
    at(g, 1.5, 0.25, 2, o);
    CHECK_NEAR(o[0], 1.5, 1e-6);
    CHECK_NEAR(o[1], 0.25, 1e-6);
    CHECK_NEAR(o[2], 1, 1e-6); /* clamped to the domain */
  }
  reel_grade_unref(g);
  /* 3D, red fastest: a 2^3 LUT swapping R and B */
  g = load_text("s.cube", "LUT_3D_SIZE 2\r\n0 0 0\r\n0 0 1\r\n0 1 0\r\n0 1 1\r\n1 0 0\r\n1 0 1\r\n"
                          "1 1 0\r\n1 1 1\r\n", NULL);
  CHECK(g && g->op[0].kind == REEL_GOP_LUT3D);
  if (g) {
    at(g, 0.2, 0.5, 0.9, o);
    CHECK_NEAR(o[0], 0.9, 1e-6);
    CHECK_NEAR(o[1], 0.5, 1e-6);
    CHECK_NEAR(o[2], 0.2, 1e-6);
  }
  reel_grade_unref(g);
  /* Resolve shaper 1D + 3D with input ranges */
  g = load_text("r.cube", "LUT_1D_SIZE 2\nLUT_1D_INPUT_RANGE 0 4\nLUT_3D_SIZE 2\n"
                          "LUT_3D_INPUT_RANGE 0 0.5\n0 0 0\n1 1 1\n"
                          "0 0 0\n1 0 0\n0 1 0\n1 1 0\n0 0 1\n1 0 1\n0 1 1\n1 1 1\n", NULL);
  CHECK(g && g->nops == 2 && g->op[1].hi[0] == 0.5);
  if (g) {
    at(g, 1, 0.5, 3, o); /* 1D: x / 4; 3D: identity over [0, 0.5] x 2 */
    CHECK_NEAR(o[0], 0.5, 1e-6);
    CHECK_NEAR(o[1], 0.25, 1e-6);
    CHECK_NEAR(o[2], 1, 1e-6);
  }
  reel_grade_unref(g);
  /* .3dl: blue fastest, 12-bit codes (max 4095), identity shaper dropped */
  char t3[4096] = "3DMESH\nMesh 1 12\n0 1023\n0 511 1023\n", *w;
  g = reel_grade_load_file(put_file("bad0.3dl", t3), NULL); /* a 2-value line is refused */
  CHECK(!g && has(reel_error_get(), "bad0.3dl:3: 2 values on a line"));
  reel_error_clear();
  snprintf(t3, sizeof t3, "3DMESH\nMesh 1 12\n0 341 682 1023\n");
  w = t3 + strlen(t3);
  for (int r = 0; r < 2; r++)
    for (int gg = 0; gg < 2; gg++)
      for (int b = 0; b < 2; b++) w += sprintf(w, "%d %d %d\n", 4095 * r, 2000 * gg, 4095 * b);
  strcat(t3, "\nLUT8\ngamma 1.0\n");
  g = load_text("m.3dl", t3, NULL);
  CHECK(g && g->nops == 1 && g->op[0].size == 2);
  if (g) {
    at(g, 0.3, 1, 0.7, o);
    CHECK_NEAR(o[0], 0.3, 1e-6);
    CHECK_NEAR(o[1], 2000 / 4095.0, 1e-6);
    CHECK_NEAR(o[2], 0.7, 1e-6);
  }
  reel_grade_unref(g);
  /* .csp 1D with an identity prelut: out = x^2 sampled at 3 points */
  g = load_text("a.csp", "CSPLUTV100\n1D\n\n2\n0 1\n0 1\n2\n0 1\n0 1\n2\n0 1\n0 1\n\n3\n"
                         "0 0 0\n0.25 0.25 0.25\n1 1 1\n", NULL);
  CHECK(g && g->nops == 1 && g->op[0].kind == REEL_GOP_LUT1D);
  if (g) {
    at(g, 0.75, 0.5, 0.25, o);
    CHECK_NEAR(o[0], 0.625, 1e-6);
    CHECK_NEAR(o[1], 0.25, 1e-6);
    CHECK_NEAR(o[2], 0.125, 1e-6);
  }
  reel_grade_unref(g);
  /* .ccc with ids and comments; ASC_SOP/ASC_SAT wrappers accepted */
  const char *ccc =
      "<ColorCorrectionCollection>\n<!-- <ColorCorrection id=\"hidden\"> -->\n"
      "<ColorCorrection id=\"a\"><SOPNode><Slope>2 2 2</Slope><Offset>0 0 0</Offset>"
      "<Power>1 1 1</Power></SOPNode></ColorCorrection>\n"
      "<ColorCorrection id=\"b\">\n<ASC_SOP><Slope>1 1 1</Slope><Offset>0.1 0.2 0.3</Offset>\n"
      "<Power>2 2 2</Power></ASC_SOP><ASC_SAT><Saturation>0</Saturation></ASC_SAT>\n"
      "</ColorCorrection>\n</ColorCorrectionCollection>\n";
  g = load_text("x.ccc", ccc, "b");
  CHECK(g && g->op[0].kind == REEL_GOP_CDL && g->op[0].sat == 0 && g->op[0].offset[2] == 0.3);
  if (g) {
    at(g, 0.4, 0.4, 0.4, o); /* (0.5, 0.6, 0.7)^2, then luma everywhere */
    double l = 0.2126 * 0.25 + 0.7152 * 0.36 + 0.0722 * 0.49;
    CHECK_NEAR(o[0], l, 1e-9);
    CHECK_NEAR(o[2], l, 1e-9);
  }
  reel_grade_unref(g);
  g = load_text("x.ccc", ccc, "a");
  CHECK(g && g->op[0].slope[1] == 2 && g->op[0].sat == 1);
  reel_grade_unref(g);
  g = load_text("one.cc", "<ColorCorrection><SatNode><Saturation>0.5</Saturation></SatNode>"
                          "</ColorCorrection>", NULL);
  CHECK(g && g->op[0].sat == 0.5 && g->op[0].slope[0] == 1);
  reel_grade_unref(g);
}

/* Every malformed file: refused with a message naming the file (and the
 * line where there is one) and saying what is wrong. */
static void test_malformed_files(void) {
  static const struct {
    const char *name, *text, *id, *want1, *want2;
  } bad[] = {
      {"t.cube", "LUT_3D_SIZE 2\n0 0 0\n1 0 0\n0 1 0\n", NULL, "t.cube:4:", "ends after 3 of the 8"},
      {"sz.cube", "LUT_3D_SIZE 1000\n", NULL, "sz.cube:1:", "LUT_3D_SIZE needs one whole number from 2 to 129"},
      {"sz2.cube", "LUT_3D_SIZE two\n", NULL, "sz2.cube:1:", "LUT_3D_SIZE"},
      {"nan.cube", "LUT_1D_SIZE 2\n0 0 0\n1 nan 1\n", NULL, "nan.cube:3:", "'nan' is not a finite number"},
      {"inf.cube", "LUT_1D_SIZE 2\n0 0 0\n1 1 inf\n", NULL, "inf.cube:3:", "'inf' is not a finite number"},
      {"two.cube", "LUT_1D_SIZE 2\n0 0\n", NULL, "two.cube:2:", "expected three numbers"},
      {"many.cube", "LUT_1D_SIZE 2\n0 0 0\n1 1 1\n2 2 2\n", NULL, "many.cube:4:", "more entries"},
      {"kw.cube", "LUT_3D_SIZE 2\nLUT_IN_VIDEO_RANGE\n", NULL, "kw.cube:2:", "unknown keyword 'LUT_IN_VIDEO_RANGE'"},
      {"late.cube", "LUT_1D_SIZE 2\n0 0 0\nLUT_3D_SIZE 2\n", NULL, "late.cube:3:", "after the table began"},
      {"nosize.cube", "0 0 0\n", NULL, "nosize.cube:1:", "before LUT_1D_SIZE or LUT_3D_SIZE"},
      {"empty.cube", "", NULL, "empty.cube:", "no LUT_1D_SIZE or LUT_3D_SIZE"},
      {"dom.cube", "LUT_1D_SIZE 2\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 0 1\n0 0 0\n1 1 1\n", NULL, "dom.cube", "DOMAIN_MAX must be above DOMAIN_MIN"},
      {"rng.cube", "LUT_1D_SIZE 2\nLUT_1D_INPUT_RANGE 1 1\n", NULL, "rng.cube:2:", "max must be above min"},
      {"bin.cube", "LUT_1D_SIZE 2\n\0\0\0", NULL, "bin.cube", "NUL bytes"},
      {"n.3dl", "0 64 128 1023\n0 0 0\n4095 0 0\n", NULL, "n.3dl", "2 entries do not make a cube"},
      {"f.3dl", "0 64 128 1023\n0.5 0 0\n", NULL, "f.3dl:2:", "'0.5' is not a code value"},
      {"nan.3dl", "0 64 128 1023\nnan 0 0\n", NULL, "nan.3dl:2:", "'nan' is not a code value"},
      {"x.3dl", "<xml>\n", NULL, "x.3dl:1:", "looks like XML"},
      {"low.3dl", "0 0 0\n1 1 1\n0 0 0\n1 1 1\n0 0 0\n1 1 1\n0 0 0\n1 1 1\n", NULL, "low.3dl", "implausibly low"},
      {"h.csp", "CSPLUTV100\n2D\n", NULL, "h.csp:2:", "must say 1D or 3D"},
      {"t.csp", "CSPLUTV100\n3D\n2\n0 1\n0 1\n2\n0 1\n0 1\n2\n0 1\n0 1\n2 2 2\n0 0 0\n", NULL, "t.csp:13:", "ends before the 3D LUT entry"},
      {"p.csp", "CSPLUTV100\n1D\n3\n0 1\n0 1\n", NULL, "p.csp:4:", "needs 3 numbers"},
      {"m.csp", "CSPLUTV100\n3D\nBEGIN METADATA\nx\n", NULL, "m.csp:3:", "BEGIN METADATA without END METADATA"},
      {"c.csp", "CSPLUTV100\n3D\n2\n0 1\n0 1\n2\n0 1\n0 1\n2\n0 1\n0 1\n2 3 2\n", NULL, "c.csp:12:", "three equal whole numbers"},
      {"two.ccc", "<ColorCorrection id=\"x\"></ColorCorrection><ColorCorrection id=\"y\"></ColorCorrection>", NULL, "two.ccc", "holds 2 ColorCorrections (ids x, y): choose one"},
      {"id.ccc", "<ColorCorrection id=\"x\"></ColorCorrection><ColorCorrection id=\"y\"></ColorCorrection>", "z", "id.ccc", "no ColorCorrection with id \"z\"; the file holds x, y"},
      {"open.cc", "<ColorCorrection id=\"x\">\n<Slope>1 1 1</Slope>\n", NULL, "open.cc:1:", "not closed"},
      {"s.cc", "<ColorCorrection>\n<SOPNode>\n<Slope>1 1</Slope></SOPNode></ColorCorrection>", NULL, "s.cc:3:", "<Slope> needs 3 numbers, found fewer"},
      {"n.cc", "<ColorCorrection><Power>1 nan 1</Power></ColorCorrection>", NULL, "n.cc:1:", "'nan' is not a finite number"},
      {"neg.cc", "<ColorCorrection><Power>1 -1 1</Power></ColorCorrection>", NULL, "neg.cc:1:", "powers > 0"},
      {"none.cdl", "<ColorDecisionList></ColorDecisionList>", NULL, "none.cdl", "no <ColorCorrection> element"},
      {"idcube.cube", "LUT_1D_SIZE 2\n0 0 0\n1 1 1\n", "x", "idcube.cube", "leave id out"},
      {"look.lut", "x", NULL, "look.lut", "unknown LUT format '.lut'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *p = path_of(bad[i].name);
    FILE *f = fopen(p, "wb");
    size_t len = strlen(bad[i].text);
    if (!strcmp(bad[i].name, "bin.cube")) len += 4; /* NUL bytes inside */
    fwrite(bad[i].text, 1, len, f);
    fclose(f);
    reel_grade_t *g = reel_grade_load_file(p, bad[i].id);
    CHECK(g == NULL);
    if (g) fprintf(stderr, "  %s was accepted\n", bad[i].name);
    const char *m = reel_error_get();
    CHECK(has(m, bad[i].want1) && has(m, bad[i].want2));
    CHECK(reel_error_class() == REEL_EUSER);
    reel_error_clear();
    reel_grade_unref(g);
  }
  CHECK(!reel_grade_load_file(path_of("missing.cube"), NULL));
  CHECK(has(reel_error_get(), "missing.cube: cannot open"));
  reel_error_clear();
}

/* Random truncations and byte changes of valid files of each format:
 * loaded or refused, never a crash or a read out of bounds (run under
 * make asan to see the latter). */
static void test_fuzz_never_crashes(void) {
  static const char *const valid[][2] = {
      {"z.cube", "TITLE \"t\"\nLUT_1D_SIZE 2\nLUT_3D_SIZE 2\n0 0 0\n1 1 1\n0 0 0\n1 0 0\n0 1 0\n"
                 "1 1 0\n0 0 1\n1 0 1\n0 1 1\n1 1 1\n"},
      {"z.3dl", "3DMESH\nMesh 1 12\n0 100 500 1023\n0 0 0\n0 0 4095\n0 4095 0\n0 4095 4095\n"
                "4095 0 0\n4095 0 4095\n4095 4095 0\n4095 4095 4095\n"},
      {"z.csp",
       "CSPLUTV100\n3D\nBEGIN METADATA\nm\nEND METADATA\n3\n0 0.5 1\n0 0.3 1\n2\n0 1\n0 1\n"
       "0\n2 2 2\n0 0 0\n1 0 0\n0 1 0\n1 1 0\n0 0 1\n1 0 1\n0 1 1\n1 1 1\n"},
      {"z.ccc", "<ColorCorrectionCollection><ColorCorrection id=\"a\"><SOPNode><Slope>1 1 1</Slope>"
                "<Offset>0 0 0</Offset><Power>1 1 1</Power></SOPNode><SatNode><Saturation>1"
                "</Saturation></SatNode></ColorCorrection></ColorCorrectionCollection>"},
  };
  int loaded = 0, refused = 0;
  for (size_t v = 0; v < 4; v++) {
    reel_grade_t *g0 = reel_grade_load_file(put_file(valid[v][0], valid[v][1]), NULL);
    CHECK(g0 != NULL);
    reel_grade_unref(g0);
    reel_error_clear();
    size_t len = strlen(valid[v][1]);
    char *buf = malloc(len + 1);
    for (int k = 0; k < 250; k++) {
      memcpy(buf, valid[v][1], len + 1);
      size_t n = len;
      if (k % 2) n = (size_t)uni(0, (double)len);
      else
        for (int f = 0; f < 3; f++)
          buf[(size_t)uni(0, (double)len)] = "0.-\n <>9e\"#\0x"[(int)uni(0, 14)];
      const char *p = path_of(valid[v][0]);
      FILE *f = fopen(p, "wb");
      fwrite(buf, 1, n, f);
      fclose(f);
      reel_grade_t *g = reel_grade_load_file(p, NULL);
      if (g) {
        loaded++;
        double in[3] = {0.3, 0.6, 0.9}, o[3];
        reel_grade_apply(g, 1, in, o); /* a loaded grade is always usable */
        CHECK(!reel_grade_check(g, "fuzz"));
      } else {
        refused++;
        CHECK(*reel_error_get());
      }
      reel_error_clear();
      reel_grade_unref(g);
    }
    free(buf);
  }
  CHECK(loaded > 0 && refused > 0);
}

/* ---- writers ---- */

static void test_write_read_back(void) {
  double worst = 0, o1[3], o2[3];
  /* a lone 3D LUT with a domain: DOMAIN_MIN/MAX, values to 6 decimals */
  reel_grade_t *g = make(2), *h;
  reel_grade_t *lone = reel_grade_new();
  reel_gop_t *op = reel_grade_add(lone, REEL_GOP_LUT3D, 5);
  memcpy(op->lut, g->op[1].lut, sizeof(float) * 3 * 125);
  for (int c = 0; c < 3; c++) op->lo[c] = g->op[1].lo[c], op->hi[c] = g->op[1].hi[c];
  CHECK(!reel_grade_save_file(lone, path_of("w1.cube"), NULL, "made by\ntest", 65));
  h = reel_grade_load_file(path_of("w1.cube"), NULL);
  CHECK(h && h->nops == 1 && h->op[0].hi[2] == op->hi[2]);
  for (int i = 0; h && i < 125 * 3; i++) worst = fmax(worst, fabs(h->op[0].lut[i] - op->lut[i]));
  CHECK_NEAR(worst, 0, 5e-7);
  reel_grade_unref(h);
  reel_grade_unref(lone);
  /* 1D + 3D with per-channel domains: no .cube form, so baked over [0, 1] */
  CHECK(!reel_grade_save_file(g, path_of("w2.cube"), NULL, NULL, 9));
  h = reel_grade_load_file(path_of("w2.cube"), NULL);
  CHECK(h && h->nops == 1 && h->op[0].kind == REEL_GOP_LUT3D && h->op[0].size == 9);
  for (int k = 0; h && k < 9; k++) {
    double in[3] = {k / 8.0, 1 - k / 8.0, 0.25};
    reel_grade_apply(g, 0, in, o1);
    reel_grade_apply(h, 0, in, o2);
    for (int c = 0; c < 3; c++) CHECK_NEAR(o1[c], o2[c], 1e-6);
  }
  reel_grade_unref(h);
  reel_grade_unref(g);
  /* log2 shaper + 3D: Resolve 1D + 3D, the shaper sampled in 65536 entries */
  g = make(0);
  CHECK(!reel_grade_save_file(g, path_of("w3.cube"), NULL, NULL, 65));
  h = reel_grade_load_file(path_of("w3.cube"), NULL);
  CHECK(h && h->nops == 2 && h->op[0].kind == REEL_GOP_LUT1D && h->op[0].size == 65536);
  worst = 0;
  for (int i = 0; h && i < 3000; i++) {
    double in[3] = {uni(0, 1.2), uni(0, 1.2), exp2(uni(-12, 3))};
    reel_grade_apply(g, 1, in, o1);
    reel_grade_apply(h, 1, in, o2);
    for (int c = 0; c < 3; c++) worst = fmax(worst, fabs(o1[c] - o2[c]));
  }
  /* the shaper's linear interpolation errs most at the bottom of its range,
   * amplified by this random lattice's slopes (up to ~6 per code unit) */
  fprintf(stderr, "  log2 shaper as a 65536-entry 1D LUT: max difference %.2g\n", worst);
  CHECK(worst < 1e-3);
  reel_grade_unref(h);
  /* it cannot be a CDL */
  CHECK(reel_grade_save_file(g, path_of("w3.cc"), "x", NULL, 65) == -1);
  CHECK(has(reel_error_get(), "write it as .cube"));
  reel_error_clear();
  reel_grade_unref(g);
  /* a CDL: .cc, .ccc, .cdl read back exactly (9 digits); its .cube is baked */
  g = make(3);
  const char *names[3] = {"w4.cc", "w4.ccc", "w4.cdl"};
  for (int k = 0; k < 3; k++) {
    CHECK(!reel_grade_save_file(g, path_of(names[k]), "shot 12 <a&b>", "line one\nline <two>", 65));
    h = reel_grade_load_file(path_of(names[k]), k ? "shot 12 <a&b>" : NULL);
    CHECK(h && h->op[0].kind == REEL_GOP_CDL);
    for (int c = 0; h && c < 3; c++) {
      CHECK_NEAR(h->op[0].slope[c], g->op[0].slope[c], 1e-9);
      CHECK_NEAR(h->op[0].offset[c], g->op[0].offset[c], 1e-9);
      CHECK_NEAR(h->op[0].power[c], g->op[0].power[c], 1e-9);
    }
    CHECK(h && h->op[0].sat == g->op[0].sat);
    reel_error_clear();
    reel_grade_unref(h);
  }
  CHECK(!reel_grade_save_file(g, path_of("w5.cube"), NULL, NULL, 17));
  h = reel_grade_load_file(path_of("w5.cube"), NULL);
  CHECK(h && h->nops == 1 && h->op[0].size == 17);
  for (int k = 0; h && k < 17; k++) { /* exact at lattice points (to 6 decimals) */
    double in[3] = {k / 16.0, (16 - k) / 16.0, 0.5};
    reel_grade_apply(g, 0, in, o1);
    reel_grade_apply(h, 0, in, o2);
    for (int c = 0; c < 3; c++) CHECK_NEAR(o1[c], o2[c], 1e-6);
  }
  reel_grade_unref(h);
  reel_grade_unref(g);
  g = make(4); /* a clamping CDL cannot go in a .cc */
  CHECK(reel_grade_save_file(g, path_of("w6.cc"), NULL, NULL, 65) == -1);
  CHECK(has(reel_error_get(), "clamps"));
  reel_error_clear();
  reel_grade_unref(g);
  CHECK(reel_grade_save_file(g = make(5), path_of("nodir/w.cube"), NULL, NULL, 33) == -1);
  CHECK(has(reel_error_get(), "nodir/w.cube"));
  reel_error_clear();
  reel_grade_unref(g);
}

/* ---- fits ---- */

static void add_pair(reel_gsamples_t *s, const double *x, const double *y, float w) {
  float a[3] = {(float)x[0], (float)x[1], (float)x[2]},
        b[3] = {(float)y[0], (float)y[1], (float)y[2]};
  CHECK(!reel_gsamples_add(s, a, b, w));
}

static void test_fit_matrix_and_cdl(void) {
  reel_gsamples_t s = {0};
  reel_grade_t *truth = make(5);
  for (int i = 0; i < 5000; i++) {
    double x[3] = {uni(0, 1), uni(0, 1), uni(0, 1)}, y[3];
    reel_grade_apply(truth, 0, x, y);
    add_pair(&s, x, y, 1);
  }
  float nanv[3] = {NAN, 0, 0}, one[3] = {1, 1, 1};
  reel_gsamples_add(&s, nanv, one, 1); /* unusable samples are skipped */
  reel_gsamples_add(&s, one, one, 0);
  reel_gfit_opts_t o = {REEL_GFIT_MATRIX, 0, -1, 0, 0, 0, 0, 0, 0};
  reel_gfit_stats_t st;
  reel_grade_t *g = reel_grade_fit(&s, &o, &st);
  CHECK(g && g->op[0].kind == REEL_GOP_MATRIX && st.used == 5000 && st.rms < 1e-6);
  for (int k = 0; g && k < 9; k++) CHECK_NEAR(g->op[0].m[k], truth->op[0].m[k], 1e-5);
  for (int k = 0; g && k < 3; k++) CHECK_NEAR(g->op[0].off[k], truth->op[0].off[k], 1e-5);
  reel_grade_unref(g);
  reel_grade_unref(truth);
  reel_gsamples_free(&s);

  truth = make(3);
  for (int i = 0; i < 20000; i++) {
    double x[3] = {uni(0, 1), uni(0, 1), uni(0, 1)}, y[3];
    reel_grade_apply(truth, 0, x, y);
    add_pair(&s, x, y, 1);
  }
  o.method = REEL_GFIT_CDL;
  g = reel_grade_fit(&s, &o, &st);
  CHECK(g && g->op[0].kind == REEL_GOP_CDL && st.rms < 1e-5);
  for (int c = 0; g && c < 3; c++) {
    CHECK_NEAR(g->op[0].slope[c], truth->op[0].slope[c], 1e-3);
    CHECK_NEAR(g->op[0].offset[c], truth->op[0].offset[c], 1e-3);
    CHECK_NEAR(g->op[0].power[c], truth->op[0].power[c], 1e-3);
  }
  CHECK(g && fabs(g->op[0].sat - truth->op[0].sat) < 1e-3);
  reel_grade_unref(g);
  reel_grade_unref(truth);
  reel_gsamples_free(&s);

  /* too few samples; a grey-only source cannot give a matrix */
  for (int i = 0; i < 10; i++) {
    double x[3] = {i / 10.0, i / 10.0, i / 10.0};
    add_pair(&s, x, x, 1);
  }
  CHECK(!reel_grade_fit(&s, &o, NULL) && has(reel_error_get(), "only 10 usable samples"));
  reel_error_clear();
  for (int i = 0; i < 100; i++) {
    double x[3] = {i / 100.0, i / 100.0, i / 100.0};
    add_pair(&s, x, x, 1);
  }
  o.method = REEL_GFIT_MATRIX;
  CHECK(!reel_grade_fit(&s, &o, NULL) && has(reel_error_get(), "do not vary enough"));
  reel_error_clear();
  reel_gsamples_free(&s);
}

/* A smooth, monotone regrade (a per-channel curve plus a little cross
 * talk) sampled only inside a box of the input cube. The fitted LUT must
 * match it where there is data, be monotone along each axis everywhere,
 * have no wild second differences in the empty cells, and come back to
 * the identity far away. */
static void truth_map(const double *x, double *y) {
  y[0] = 0.9 * pow(fmax(x[0], 0), 1.2) + 0.05 * x[1] + 0.01;
  y[1] = pow(fmax(x[1], 0), 0.9) - 0.03 * x[2] + 0.03;
  y[2] = 1.1 * x[2] + 0.04 * x[0] - 0.02;
}

static void test_fit_lut(void) {
  reel_gsamples_t s = {0};
  for (int i = 0; i < 60000; i++) {
    double x[3] = {uni(0.05, 0.5), uni(0.1, 0.6), uni(0.05, 0.45)}, y[3];
    truth_map(x, y);
    add_pair(&s, x, y, 1);
  }
  for (int sh = -1; sh <= 0; sh++)
    for (int tetra = 0; tetra < 2; tetra++) {
      reel_gfit_opts_t o = {REEL_GFIT_LUT3D, 17, sh, -8, 4, 0.18, 0.02, 1e-4, tetra};
      reel_gfit_stats_t st;
      reel_grade_t *g = reel_grade_fit(&s, &o, &st);
      CHECK(g && g->nops == (sh >= 0 ? 2 : 1) && st.used == 60000);
      if (!g) continue;
      fprintf(stderr, "  shaper %d tetra %d: rms %.2g, %d iterations\n", sh, tetra, st.rms,
              st.iterations);
      /* a log-spaced lattice interpolates linear outputs less closely */
      CHECK(st.rms < (sh < 0 ? 1e-3 : 4e-3));
      /* inside the data: close to the truth; note the largest departure
       * of the truth from the identity there */
      double worst = 0, y[3], f[3], dmax[3] = {0, 0, 0};
      for (int i = 0; i < 2000; i++) {
        double x[3] = {uni(0.1, 0.45), uni(0.15, 0.55), uni(0.1, 0.4)};
        truth_map(x, y);
        reel_grade_apply(g, tetra, x, f);
        for (int c = 0; c < 3; c++) {
          worst = fmax(worst, fabs(f[c] - y[c]));
          dmax[c] = fmax(dmax[c], fabs(y[c] - x[c]));
        }
      }
      CHECK(worst < (sh < 0 ? 5e-3 : 1.5e-2));
      /* the lattice: monotone along each channel's own axis; bounded bends */
      const reel_gop_t *op = &g->op[g->nops - 1];
      int n = op->size, mono = 1;
      double bend = 0;
      for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++)
          for (int k = 1; k < n; k++) {
            double d[3] = {lut3_at(op, k, a, b, 0) - lut3_at(op, k - 1, a, b, 0),
                           lut3_at(op, a, k, b, 1) - lut3_at(op, a, k - 1, b, 1),
                           lut3_at(op, a, b, k, 2) - lut3_at(op, a, b, k - 1, 2)};
            for (int c = 0; c < 3; c++) mono &= d[c] > 0;
            if (k >= 2 && sh < 0) /* evenly spaced: second differences of a smooth map */
              bend = fmax(bend, fabs(lut3_at(op, k, a, b, 0) - 2 * lut3_at(op, k - 1, a, b, 0) +
                                     lut3_at(op, k - 2, a, b, 0)));
          }
      CHECK(mono);
      /* the membrane term leaves a crease where the data stops (the slope
       * of the departure changes there): about 0.03 here, against 0.008
       * for the truth's own curvature */
      if (sh < 0) fprintf(stderr, "  largest second difference %.4f\n", bend);
      if (sh < 0) CHECK(bend < 0.04);
      /* no new extremes: far from the data the departure from the identity
       * is no larger than inside it */
      double far[3] = {1, 1, 1};
      reel_grade_apply(g, tetra, far, f);
      for (int c = 0; c < 3; c++) CHECK(fabs(f[c] - 1) <= dmax[c] + 1e-3);
      /* deterministic: the same samples give the same bytes */
      reel_grade_t *g2 = reel_grade_fit(&s, &o, NULL);
      CHECK(g2 && !memcmp(g2->op[g2->nops - 1].lut, op->lut, sizeof(float) * 3 * n * n * n));
      reel_grade_unref(g2);
      reel_grade_unref(g);
    }
  /* a strong prior: back to the identity within a node or two of the data */
  reel_gfit_opts_t o = {REEL_GFIT_LUT3D, 17, -1, 0, 0, 0, 0.02, 0.05, 1};
  reel_grade_t *g = reel_grade_fit(&s, &o, NULL);
  double far[3] = {1, 1, 1}, near[3] = {0.3, 0.35, 0.25}, f[3], y[3];
  reel_grade_apply(g, 1, far, f);
  for (int c = 0; c < 3; c++) CHECK_NEAR(f[c], 1, 2e-3);
  reel_grade_apply(g, 1, near, f);
  truth_map(near, y);
  for (int c = 0; c < 3; c++) CHECK_NEAR(f[c], y[c], 5e-3);
  reel_grade_unref(g);
  reel_gsamples_free(&s);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/reel_test_grade_XXXXXX");
  if (!mkdtemp(dir)) return 1;
  cl = reel_cl_new(NULL, NULL);
  if (!cl) {
    fprintf(stderr, "no OpenCL device: %s\n", reel_error_get());
    return 1;
  }
  RUN(test_cpu_matches_reference);
  RUN(test_kernel_matches_reference);
  RUN(test_value_roundtrip);
  RUN(test_read_formats);
  RUN(test_malformed_files);
  RUN(test_fuzz_never_crashes);
  RUN(test_write_read_back);
  RUN(test_fit_matrix_and_cdl);
  RUN(test_fit_lut);
  reel_cl_free(cl);
  reel_shutdown();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
  TEST_END();
}
