/* Unit tests for the merge family (nodes/merge.c, dissolve.c, copybbox.c,
 * compare.c; opencl/merge.cl, reduce.cl) on small float EXR inputs with
 * offset data windows: every Merge operation, Dissolve and CopyBBox against
 * CPU loops; Compare's numbers against CPU references written here (PSNR,
 * chroma PSNR, SSIM with a direct 11x11 Gaussian window, CIEDE2000); the
 * device CIEDE2000 on the 34 pairs of Sharma, Wu & Dalal (2005). */
#include "cl.h"
#include "error.h"
#include "imageio.h"
#include "reel.h"
#include "test.h"

#include <unistd.h>

static char dir[] = "/tmp/reel_test_merge_XXXXXX";
static int nfiles;

/* ---- inputs: a float EXR on disk, its pixels here, a Read of it ---- */

typedef struct {
  int nch;
  char ch[8][REEL_CHNAME];
  reel_box_t data, display;
  float *px; /* planar over data */
  char path[128];
  reel_node_t *read;
} img_t;

static unsigned rng = 12345;
static float rnd(float lo, float hi) {
  rng = rng * 1664525u + 1013904223u;
  return lo + (hi - lo) * (float)(rng >> 8) / 16777216.0f;
}

/* chans: "R,G,B,A"; pixels allocated, not set. */
static void init(img_t *im, const char *chans, reel_box_t data, reel_box_t display) {
  memset(im, 0, sizeof *im);
  for (const char *s = chans; *s; s += s[0] == ',') {
    size_t l = strcspn(s, ",");
    snprintf(im->ch[im->nch++], REEL_CHNAME, "%.*s", (int)l, s);
    s += l;
  }
  im->data = data;
  im->display = display;
  im->px = malloc((size_t)reel_box_w(data) * reel_box_h(data) * im->nch * sizeof(float) + 1);
}

/* Writes the pixels as a float EXR and makes a Read of it. */
static void save(img_t *im, reel_graph_t *g) {
  reel_hostimg_t h = {.nch = im->nch, .data = im->data, .display = im->display, .px = im->px};
  for (int c = 0; c < im->nch; c++) memcpy(h.ch[c], im->ch[c], REEL_CHNAME);
  snprintf(im->path, sizeof im->path, "%s/in%d.exr", dir, nfiles++);
  reel_io_write_opts_t wo = {.pixeltype = "float", .compression = "zip"};
  if (reel_io_write(im->path, &wo, &h)) fprintf(stderr, "  write: %s\n", reel_error_get());
  im->read = reel_node_new(g, "Read", __FILE__, __LINE__);
  reel_node_set_string(im->read, "path", im->path);
  if (reel_node_finish(im->read)) fprintf(stderr, "  read: %s\n", reel_error_get());
}

/* Values uniform in [lo, hi]. */
static void make(img_t *im, reel_graph_t *g, const char *chans, reel_box_t data,
                 reel_box_t display, float lo, float hi) {
  init(im, chans, data, display);
  size_t n = (size_t)reel_box_w(data) * reel_box_h(data) * im->nch;
  for (size_t i = 0; i < n; i++) im->px[i] = rnd(lo, hi);
  save(im, g);
}

static int chan(const img_t *im, const char *name) {
  for (int c = 0; c < im->nch; c++)
    if (!strcmp(im->ch[c], name)) return c;
  return -1;
}

static int inside(reel_box_t b, int x, int y) {
  return x >= b.x0 && y >= b.y0 && x < b.x1 && y < b.y1;
}

/* Channel `name` at (x, y); 0 outside the data window or without it. */
static double at(const img_t *im, const char *name, int x, int y) {
  int c = chan(im, name);
  if (c < 0 || !inside(im->data, x, y)) return 0;
  int w = reel_box_w(im->data), h = reel_box_h(im->data);
  return im->px[((size_t)c * h + (y - im->data.y0)) * w + (x - im->data.x0)];
}

/* Result of node n at frame: pixels (free()), channels and data window. */
static float *eval(reel_graph_t *g, reel_node_t *n, int frame, int *nch, reel_box_t *data) {
  float *px = NULL;
  int d[4], disp[4];
  if (reel_eval_image(g, n, frame, NULL, 0, &px, nch, d, disp)) {
    fprintf(stderr, "  eval: %s\n", reel_error_get());
    reel_error_clear();
    return NULL;
  }
  *data = (reel_box_t){d[0], d[1], d[2], d[3]};
  return px;
}

static double got_at(const float *px, reel_box_t b, int c, int x, int y) {
  if (!inside(b, x, y)) return 0;
  int w = reel_box_w(b), h = reel_box_h(b);
  return px[((size_t)c * h + (y - b.y0)) * w + (x - b.x0)];
}

static int box_eq(reel_box_t a, reel_box_t b) {
  return a.x0 == b.x0 && a.y0 == b.y0 && a.x1 == b.x1 && a.y1 == b.y1;
}

static reel_node_t *node2(reel_graph_t *g, const char *type, img_t *a, img_t *b) {
  reel_node_t *n = reel_node_new(g, type, __FILE__, __LINE__);
  CHECK(n && !reel_node_set_input(n, "A", a->read) && !reel_node_set_input(n, "B", b->read));
  return n;
}

static const reel_box_t fmt = {0, 0, 10, 8};

/* ---- Merge ---- */

static const char *ops[] = {"over", "plus", "minus", "difference", "multiply",
                            "screen", "min", "max", "mix"};

static double ref_op(const char *op, double a, double b, double aa) {
  if (!strcmp(op, "over")) return a + b * (1 - aa);
  if (!strcmp(op, "plus")) return a + b;
  if (!strcmp(op, "minus")) return a - b;
  if (!strcmp(op, "difference")) return fabs(a - b);
  if (!strcmp(op, "multiply")) return a < 0 && b < 0 ? a : a * b;
  if (!strcmp(op, "screen")) return a <= 1 || b <= 1 ? a + b - a * b : (a > b ? a : b);
  if (!strcmp(op, "min")) return a < b ? a : b;
  if (!strcmp(op, "max")) return a > b ? a : b;
  return a; /* mix */
}

/* Runs Merge(op, mix) on a and b and checks the output against a CPU loop:
 * the window `want`, the channels `outch` in order (B's first). */
static void check_merge(reel_graph_t *g, img_t *a, img_t *b, const char *op, double mix,
                        const char *bbox, reel_box_t want, int noutch, const char **outch) {
  reel_node_t *n = node2(g, "Merge", a, b);
  CHECK(!reel_node_set_string(n, "operation", op) && !reel_node_set_number(n, "mix", 0, mix));
  if (bbox) CHECK(!reel_node_set_string(n, "bbox", bbox));
  CHECK(!reel_node_finish(n));
  int nch = 0;
  reel_box_t d;
  float *px = eval(g, n, 0, &nch, &d);
  CHECK(px != NULL);
  if (!px) return;
  CHECK(nch == noutch);
  CHECK(box_eq(d, want));
  if (!box_eq(d, want))
    fprintf(stderr, "  %s mix %g: window %d,%d,%d,%d, expected %d,%d,%d,%d\n", op, mix, d.x0,
            d.y0, d.x1, d.y1, want.x0, want.y0, want.x1, want.y1);
  double worst = 0;
  for (int c = 0; c < noutch && c < nch; c++)
    for (int y = want.y0; y < want.y1; y++)
      for (int x = want.x0; x < want.x1; x++) {
        int hasa = chan(a, "A") >= 0;
        double aa = hasa ? at(a, "A", x, y) : inside(a->data, x, y);
        double av = chan(a, outch[c]) >= 0                   ? at(a, outch[c], x, y)
                    : !strcmp(op, "over") && !strcmp(outch[c], "A") ? aa
                                                                     : 0;
        double bv = at(b, outch[c], x, y);
        double r = ref_op(op, av, bv, aa);
        r = bv * (1 - mix) + r * mix;
        double e = fabs(got_at(px, d, c, x, y) - r);
        if (e > worst) worst = e;
      }
  CHECK(worst < 2e-6);
  if (worst >= 2e-6) fprintf(stderr, "  %s mix %g: max error %g\n", op, mix, worst);
  free(px);
}

static void test_merge_ops(void) {
  reel_graph_t *g = reel_graph_new();
  img_t a, b;
  make(&a, g, "R,G,B,A", (reel_box_t){1, 1, 7, 5}, fmt, -0.5f, 1.5f);
  make(&b, g, "R,G,B", (reel_box_t){3, 2, 9, 7}, fmt, -0.5f, 1.5f);
  const char *outch[] = {"R", "G", "B", "A"};
  reel_box_t uni = reel_box_union(a.data, b.data), isect = reel_box_intersect(a.data, b.data);
  for (int i = 0; i < 9; i++) {
    reel_box_t w = !strcmp(ops[i], "multiply") ? isect : !strcmp(ops[i], "mix") ? a.data : uni;
    check_merge(g, &a, &b, ops[i], 1, NULL, w, 4, outch);
    check_merge(g, &a, &b, ops[i], 0.4, NULL, reel_box_union(w, b.data), 4, outch);
  }
  check_merge(g, &a, &b, "plus", 1, "intersection", isect, 4, outch);
  check_merge(g, &a, &b, "over", 0.7, "A", a.data, 4, outch);
  check_merge(g, &a, &b, "multiply", 1, "union", uni, 4, outch);
  check_merge(g, &a, &b, "screen", 1, "B", b.data, 4, outch);
  free(a.px);
  free(b.px);
  reel_graph_free(g);
}

/* over with an A that has no alpha: opaque inside its window, and the
 * output alpha (from B) becomes 1 there; channels are unioned by name. */
static void test_merge_channels(void) {
  reel_graph_t *g = reel_graph_new();
  img_t a, b;
  make(&a, g, "R,G,B,Z", (reel_box_t){0, 0, 6, 5}, fmt, 0, 1);
  make(&b, g, "R,G,B,A", (reel_box_t){2, 1, 10, 8}, fmt, 0, 1);
  const char *outch[] = {"R", "G", "B", "A", "Z"};
  reel_box_t uni = reel_box_union(a.data, b.data);
  check_merge(g, &a, &b, "over", 1, NULL, uni, 5, outch);
  check_merge(g, &a, &b, "plus", 0.5, NULL, uni, 5, outch);
  free(a.px);
  free(b.px);
  reel_graph_free(g);
}

static void test_merge_errors(void) {
  reel_graph_t *g = reel_graph_new();
  img_t a, b;
  make(&a, g, "R,G,B", fmt, fmt, 0, 1);
  make(&b, g, "R,G,B", (reel_box_t){0, 0, 12, 8}, (reel_box_t){0, 0, 12, 8}, 0, 1);
  reel_node_t *n = node2(g, "Merge", &a, &b);
  CHECK(reel_node_set_string(n, "operation", "atop") == -1);
  CHECK(strstr(reel_error_get(), "\"over\"") != NULL);
  reel_error_clear();
  CHECK(reel_node_set_number(n, "mix", 0, 1.5) == -1);
  reel_error_clear();
  CHECK(!reel_node_finish(n));
  CHECK(reel_eval_image(g, n, 0, NULL, 0, NULL, NULL, NULL, NULL) == -1);
  CHECK(strstr(reel_error_get(), "different formats (10x8 and 12x8)") != NULL);
  CHECK(reel_error_class() == 2);
  reel_error_clear();
  free(a.px);
  free(b.px);
  reel_graph_free(g);
}

/* ---- Dissolve ---- */

static void test_dissolve_mix(void) {
  reel_graph_t *g = reel_graph_new();
  img_t a, b;
  make(&a, g, "R,G,B", (reel_box_t){1, 1, 7, 5}, fmt, -0.5f, 1.5f);
  make(&b, g, "R,G,B,A", (reel_box_t){3, 2, 9, 7}, fmt, -0.5f, 1.5f);
  reel_node_t *n = node2(g, "Dissolve", &a, &b);
  CHECK(!reel_node_set_number(n, "factor", 0, 0.3) && !reel_node_finish(n));
  int nch;
  reel_box_t d, uni = reel_box_union(a.data, b.data);
  float *px = eval(g, n, 0, &nch, &d);
  CHECK(px && nch == 4 && box_eq(d, uni));
  const char *ch[] = {"R", "G", "B", "A"};
  double worst = 0;
  for (int c = 0; px && c < 4; c++)
    for (int y = uni.y0; y < uni.y1; y++)
      for (int x = uni.x0; x < uni.x1; x++) {
        double r = at(&a, ch[c], x, y) * 0.7 + at(&b, ch[c], x, y) * 0.3;
        worst = fmax(worst, fabs(got_at(px, d, c, x, y) - r));
      }
  CHECK(worst < 2e-6);
  free(px);
  /* factor 0 with B adding a channel: A's pixels, alpha 0, A's window */
  CHECK(!reel_node_set_number(n, "factor", 0, 0) && !reel_node_finish(n));
  px = eval(g, n, 0, &nch, &d);
  CHECK(px && nch == 4 && box_eq(d, a.data));
  size_t plane = (size_t)reel_box_w(a.data) * reel_box_h(a.data);
  CHECK(px && !memcmp(px, a.px, 3 * plane * sizeof(float)));
  for (size_t i = 0; px && i < plane; i++) CHECK(px[3 * plane + i] == 0);
  free(px);
  free(a.px);
  free(b.px);
  reel_graph_free(g);
}

/* A keyframed factor 0 -> 1 over frames 1-3: the ends are the inputs
 * themselves, the middle a mix. */
static void test_dissolve_keyframes(void) {
  reel_graph_t *g = reel_graph_new();
  img_t a, b;
  make(&a, g, "R,G,B", (reel_box_t){0, 0, 8, 6}, fmt, 0, 1);
  make(&b, g, "R,G,B", (reel_box_t){2, 2, 10, 8}, fmt, 0, 1);
  double range[2] = {1, 3}, kf[3] = {1, 2, 3}, kv[3] = {0, 0.5, 1};
  for (int i = 0; i < 2; i++) {
    reel_node_t *r = i ? b.read : a.read;
    CHECK(!reel_node_set_number(r, "range", 0, range[0]) &&
          !reel_node_set_number(r, "range", 1, range[1]) && !reel_node_finish(r));
  }
  reel_node_t *n = node2(g, "Dissolve", &a, &b);
  CHECK(!reel_node_set_curve(n, "factor", 0, 3, kf, kv, "linear") && !reel_node_finish(n));
  CHECK(reel_node_first(n) == 1 && reel_node_last(n) == 3);
  int nch;
  reel_box_t d;
  size_t plane = (size_t)reel_box_w(a.data) * reel_box_h(a.data);
  float *px = eval(g, n, 1, &nch, &d);
  CHECK(px && nch == 3 && box_eq(d, a.data) && !memcmp(px, a.px, 3 * plane * sizeof(float)));
  free(px);
  px = eval(g, n, 3, &nch, &d);
  CHECK(px && nch == 3 && box_eq(d, b.data) && !memcmp(px, b.px, 3 * plane * sizeof(float)));
  free(px);
  px = eval(g, n, 2, &nch, &d);
  reel_box_t uni = reel_box_union(a.data, b.data);
  CHECK(px && box_eq(d, uni));
  double worst = 0;
  for (int y = uni.y0; px && y < uni.y1; y++)
    for (int x = uni.x0; x < uni.x1; x++)
      worst = fmax(worst, fabs(got_at(px, d, 1, x, y) -
                               0.5 * (at(&a, "G", x, y) + at(&b, "G", x, y))));
  CHECK(worst < 1e-6);
  free(px);
  free(a.px);
  free(b.px);
  reel_graph_free(g);
}

/* At factor 0 the key depends on A alone: B is not evaluated (its file may
 * even be gone), and swapping B for another clip recomputes nothing. */
static void test_dissolve_key(void) {
  reel_graph_t *g = reel_graph_new();
  img_t a, b, c;
  make(&a, g, "R,G,B", fmt, fmt, 0, 1);
  make(&b, g, "R,G,B", fmt, fmt, 0, 1);
  make(&c, g, "R,G,B", fmt, fmt, 0, 1);
  reel_node_t *n = node2(g, "Dissolve", &a, &b);
  CHECK(!reel_node_set_number(n, "factor", 0, 0) && !reel_node_finish(n));
  CHECK(!reel_graph_add_output(g, n, "d"));
  reel_render_opts_t o = {.first = 1, .last = 0, .no_disk_cache = 1};
  reel_render_stats_t st;
  CHECK(!reel_render(g, &o, &st));
  CHECK(st.computed == 2); /* Read A and Dissolve */
  unlink(c.path);
  CHECK(!reel_node_set_input(n, "B", c.read) && !reel_node_finish(n));
  CHECK(!reel_render(g, &o, &st));
  CHECK(st.computed == 0 && st.memory_hits == 1);
  CHECK(!reel_node_set_input(n, "B", b.read) && !reel_node_set_number(n, "factor", 0, 0.5) &&
        !reel_node_finish(n));
  CHECK(!reel_render(g, &o, &st));
  CHECK(st.computed == 2); /* Read B and Dissolve */
  reel_error_clear();
  free(a.px);
  free(b.px);
  free(c.px);
  reel_graph_free(g);
}

/* ---- CopyBBox ---- */

static void test_copybbox(void) {
  reel_graph_t *g = reel_graph_new();
  img_t a, b;
  make(&a, g, "R,G,B,A", (reel_box_t){1, 1, 7, 5}, fmt, 0, 1);
  make(&b, g, "Y", (reel_box_t){3, 0, 10, 4}, fmt, 0, 1);
  reel_node_t *n = node2(g, "CopyBBox", &a, &b);
  CHECK(!reel_node_finish(n));
  int nch;
  reel_box_t d;
  float *px = eval(g, n, 0, &nch, &d);
  CHECK(px && nch == 4 && box_eq(d, b.data));
  static const char *ch[] = {"R", "G", "B", "A"};
  int bad = 0;
  for (int c = 0; px && c < 4; c++)
    for (int y = d.y0; y < d.y1; y++)
      for (int x = d.x0; x < d.x1; x++) bad += got_at(px, d, c, x, y) != at(&a, ch[c], x, y);
  CHECK(bad == 0);
  free(px);
  free(a.px);
  free(b.px);
  reel_graph_free(g);
}

/* ---- CIEDE2000: CPU reference and the device kernel on Sharma's pairs ---- */

static double rad(double d) { return d * M_PI / 180; }

/* Written from the formula in Sharma, Wu & Dalal (2005), eqs. 1-22. */
static double ref_de2000(const double *l1, const double *l2) {
  double C1 = hypot(l1[1], l1[2]), C2 = hypot(l2[1], l2[2]), Cb = (C1 + C2) / 2;
  double G = 0.5 * (1 - sqrt(pow(Cb, 7) / (pow(Cb, 7) + pow(25, 7))));
  double a1 = (1 + G) * l1[1], a2 = (1 + G) * l2[1];
  double c1 = hypot(a1, l1[2]), c2 = hypot(a2, l2[2]);
  double h1 = a1 == 0 && l1[2] == 0 ? 0 : fmod(atan2(l1[2], a1) * 180 / M_PI + 360, 360);
  double h2 = a2 == 0 && l2[2] == 0 ? 0 : fmod(atan2(l2[2], a2) * 180 / M_PI + 360, 360);
  double dh = c1 * c2 == 0 ? 0 : h2 - h1;
  if (dh > 180) dh -= 360;
  if (dh < -180) dh += 360;
  double dH = 2 * sqrt(c1 * c2) * sin(rad(dh / 2));
  double L = (l1[0] + l2[0]) / 2, C = (c1 + c2) / 2, H = h1 + h2;
  if (c1 * c2 != 0) H = fabs(h1 - h2) <= 180 ? H / 2 : H < 360 ? (H + 360) / 2 : (H - 360) / 2;
  double T = 1 - 0.17 * cos(rad(H - 30)) + 0.24 * cos(rad(2 * H)) + 0.32 * cos(rad(3 * H + 6)) -
             0.20 * cos(rad(4 * H - 63));
  double th = 30 * exp(-pow((H - 275) / 25, 2));
  double RC = 2 * sqrt(pow(C, 7) / (pow(C, 7) + pow(25, 7)));
  double SL = 1 + 0.015 * pow(L - 50, 2) / sqrt(20 + pow(L - 50, 2));
  double SC = 1 + 0.045 * C, SH = 1 + 0.015 * C * T, RT = -sin(rad(2 * th)) * RC;
  double tl = (l2[0] - l1[0]) / SL, tc = (c2 - c1) / SC, tH = dH / SH;
  return sqrt(tl * tl + tc * tc + tH * tH + RT * tc * tH);
}

/* Table 1 of G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference
 * formula: implementation notes, supplementary test data, and mathematical
 * observations", Color Res. Appl. 30(1), 21-30 (2005): L1 a1 b1 L2 a2 b2
 * dE00. Transcribed from colour-science's test suite
 * (colour/difference/tests/test_delta_e.py, test_delta_E_CIE2000_Sharma2004),
 * which cites that table. */
static const double sharma[34][7] = {
    {50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425},
    {50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615},
    {50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412},
    {50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000},
    {50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000},
    {50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000},
    {50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669},
    {50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669},
    {50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792},
    {50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792},
    {50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195},
    {50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195},
    {50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045},
    {50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045},
    {50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461},
    {50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065},
    {50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492},
    {50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977},
    {50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030},
    {50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535},
    {50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000},
    {50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000},
    {50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000},
    {50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000},
    {60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644},
    {63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630},
    {61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731},
    {35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645},
    {22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373},
    {36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146},
    {90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441},
    {90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381},
    {6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377},
    {2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082},
};

static void test_de2000_sharma(void) {
  for (int i = 0; i < 34; i++) {
    CHECK_NEAR(ref_de2000(sharma[i], sharma[i] + 3), sharma[i][6], 1e-4);
    CHECK_NEAR(ref_de2000(sharma[i] + 3, sharma[i]), sharma[i][6], 1e-4); /* symmetric */
  }
  reel_cl_t *cl = reel_cl_new(NULL, NULL);
  CHECK(cl != NULL);
  if (!cl) return;
  float lab[2][3 * 34], de[34];
  for (int i = 0; i < 34; i++)
    for (int k = 0; k < 3; k++) {
      lab[0][k * 34 + i] = (float)sharma[i][k];
      lab[1][k * 34 + i] = (float)sharma[i][3 + k];
    }
  cl_mem la = reel_cl_alloc(cl, sizeof lab[0]), lb = reel_cl_alloc(cl, sizeof lab[1]);
  cl_mem out = reel_cl_alloc(cl, sizeof de);
  cl_kernel k = reel_cl_kernel(cl, "reduce", "compare_de2000");
  int n = 34;
  size_t gsz = 34;
  CHECK(k && !reel_cl_upload(cl, la, 0, lab[0], sizeof lab[0]) &&
        !reel_cl_upload(cl, lb, 0, lab[1], sizeof lab[1]) &&
        !reel_cl_args(k, 4, REEL_ARG(la), REEL_ARG(lb), REEL_ARG(n), REEL_ARG(out)) &&
        !reel_cl_run(cl, k, 1, &gsz, NULL) && !reel_cl_download(cl, out, 0, de, sizeof de));
  for (int i = 0; i < 34; i++) CHECK_NEAR(de[i], sharma[i][6], 1e-4);
  reel_cl_release(cl, la);
  reel_cl_release(cl, lb);
  reel_cl_release(cl, out);
  reel_cl_free(cl);
}

/* ---- Compare against CPU references ---- */

static double srgb_lin(double c) { return c > 0.04045 ? pow((c + 0.055) / 1.055, 2.4) : c / 12.92; }
static double lab_f(double t) { return t > 0.008856 ? cbrt(t) : 7.787 * t + 16.0 / 116; }

/* sRGB-encoded R'G'B' to L*a*b* (D65), skimage.color.rgb2lab's constants. */
static void ref_lab(double r, double g, double b, double *lab) {
  r = srgb_lin(r), g = srgb_lin(g), b = srgb_lin(b);
  double X = 0.412453 * r + 0.357580 * g + 0.180423 * b;
  double Y = 0.212671 * r + 0.715160 * g + 0.072169 * b;
  double Z = 0.019334 * r + 0.119193 * g + 0.950227 * b;
  double fx = lab_f(X / 0.95047), fy = lab_f(Y), fz = lab_f(Z / 1.08883);
  lab[0] = 116 * fy - 16;
  lab[1] = 500 * (fx - fy);
  lab[2] = 200 * (fy - fz);
}

static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct {
  double psnr, psnrc, ssim, de_mean, de_p95;
} scores_t;

/* Direct (not separable) 11x11 Gaussian windows, as Wang et al. 2004. */
static double ref_ssim_channel(const img_t *a, const img_t *b, const char *ch, reel_box_t r) {
  double gw[11], s = 0, total = 0;
  for (int i = 0; i < 11; i++) s += gw[i] = exp(-(i - 5) * (i - 5) / (2 * 1.5 * 1.5));
  for (int i = 0; i < 11; i++) gw[i] /= s;
  int cnt = 0;
  for (int y = r.y0 + 5; y < r.y1 - 5; y++)
    for (int x = r.x0 + 5; x < r.x1 - 5; x++) {
      double mx = 0, my = 0, mxx = 0, myy = 0, mxy = 0;
      for (int j = -5; j <= 5; j++)
        for (int i = -5; i <= 5; i++) {
          double w = gw[i + 5] * gw[j + 5], u = at(a, ch, x + i, y + j), v = at(b, ch, x + i, y + j);
          mx += w * u, my += w * v, mxx += w * u * u, myy += w * v * v, mxy += w * u * v;
        }
      double vx = mxx - mx * mx, vy = myy - my * my, vxy = mxy - mx * my;
      double C1 = 1e-4, C2 = 9e-4;
      total += (2 * mx * my + C1) * (2 * vxy + C2) / ((mx * mx + my * my + C1) * (vx + vy + C2));
      cnt++;
    }
  return cnt ? total / cnt : NAN;
}

static scores_t ref_scores(const img_t *a, const img_t *b, reel_box_t r) {
  scores_t s;
  size_t n = (size_t)reel_box_w(r) * reel_box_h(r), k = 0;
  double se = 0, sc = 0, sde = 0, *de = malloc(n * sizeof *de);
  for (int y = r.y0; y < r.y1; y++)
    for (int x = r.x0; x < r.x1; x++) {
      double p[2][3], yc[2][2], lab[2][3];
      for (int i = 0; i < 2; i++) {
        const img_t *im = i ? b : a;
        p[i][0] = at(im, "R", x, y), p[i][1] = at(im, "G", x, y), p[i][2] = at(im, "B", x, y);
        double Y = 0.2126 * p[i][0] + 0.7152 * p[i][1] + 0.0722 * p[i][2];
        yc[i][0] = (p[i][2] - Y) / 1.8556;
        yc[i][1] = (p[i][0] - Y) / 1.5748;
        ref_lab(p[i][0], p[i][1], p[i][2], lab[i]);
      }
      for (int c = 0; c < 3; c++) se += pow(p[0][c] - p[1][c], 2);
      for (int c = 0; c < 2; c++) sc += pow(yc[0][c] - yc[1][c], 2);
      sde += de[k++] = ref_de2000(lab[0], lab[1]);
    }
  qsort(de, n, sizeof *de, cmpd);
  double pos = 0.95 * (double)(n - 1);
  size_t lo = (size_t)pos, hi = lo + 1 < n ? lo + 1 : lo;
  s.psnr = 10 * log10(3.0 * (double)n / se);
  s.psnrc = 10 * log10(2.0 * (double)n / sc);
  s.ssim = (ref_ssim_channel(a, b, "R", r) + ref_ssim_channel(a, b, "G", r) +
            ref_ssim_channel(a, b, "B", r)) / 3;
  s.de_mean = sde / (double)n;
  s.de_p95 = de[lo] + (de[hi] - de[lo]) * (pos - (double)lo);
  free(de);
  return s;
}

static double meta(reel_graph_t *g, reel_node_t *n, const char *key) {
  char v[64];
  if (reel_eval_meta(g, n, 0, NULL, key, v, sizeof v) != 1) {
    fprintf(stderr, "  %s: %s\n", key, reel_error_get());
    reel_error_clear();
    return -999;
  }
  return strtod(v, NULL);
}

static reel_node_t *compare(reel_graph_t *g, img_t *a, img_t *b, const double *region,
                            const char *output) {
  reel_node_t *n = node2(g, "Compare", a, b);
  for (int c = 0; region && c < 4; c++) CHECK(!reel_node_set_number(n, "region", c, region[c]));
  if (output) CHECK(!reel_node_set_string(n, "output", output));
  CHECK(!reel_node_finish(n));
  return n;
}

static void check_scores(reel_graph_t *g, reel_node_t *n, scores_t want) {
  CHECK_NEAR(meta(g, n, "reel:psnr"), want.psnr, 1e-4);
  CHECK_NEAR(meta(g, n, "reel:psnr_chroma"), want.psnrc, 1e-4);
  CHECK_NEAR(meta(g, n, "reel:ssim"), want.ssim, 2e-6);
  CHECK_NEAR(meta(g, n, "reel:de2000_mean"), want.de_mean, 1e-4 * want.de_mean);
  CHECK_NEAR(meta(g, n, "reel:de2000_p95"), want.de_p95, 1e-4 * want.de_p95);
}

/* Smooth pictures with noise, so that SSIM is neither 0 nor 1. */
static void make_smooth(img_t *im, reel_graph_t *g, reel_box_t data, reel_box_t display,
                        float noise) {
  init(im, "R,G,B", data, display);
  int w = reel_box_w(data), h = reel_box_h(data);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        im->px[((size_t)c * h + y) * w + x] =
            0.5f + 0.4f * sinf(0.21f * (float)(x + data.x0) * (float)(c + 1) +
                               0.13f * (float)(y + data.y0)) + rnd(-noise, noise);
  save(im, g);
}

static void test_compare(void) {
  reel_graph_t *g = reel_graph_new();
  reel_box_t disp = {0, 0, 48, 40};
  img_t a, b;
  make_smooth(&a, g, disp, disp, 0.05f);
  make_smooth(&b, g, (reel_box_t){2, 3, 48, 40}, disp, 0.1f); /* zeros along two edges */
  reel_node_t *n = compare(g, &a, &b, NULL, NULL);
  check_scores(g, n, ref_scores(&a, &b, disp));
  /* A passes through unchanged */
  int nch;
  reel_box_t d;
  float *px = eval(g, n, 0, &nch, &d);
  CHECK(px && nch == 3 && box_eq(d, a.data) &&
        !memcmp(px, a.px, sizeof(float) * 3 * 48 * 40));
  free(px);
  double reg[4] = {5, 4, 37, 30};
  reel_box_t r = {5, 4, 37, 30};
  n = compare(g, &a, &b, reg, NULL);
  check_scores(g, n, ref_scores(&a, &b, r));
  /* the difference and deltaE images over the region */
  n = compare(g, &a, &b, reg, "difference");
  px = eval(g, n, 0, &nch, &d);
  CHECK(px && nch == 3 && box_eq(d, r));
  int bad = 0;
  static const char *ch[] = {"R", "G", "B"};
  for (int c = 0; px && c < 3; c++)
    for (int y = r.y0; y < r.y1; y++)
      for (int x = r.x0; x < r.x1; x++)
        bad += fabs(got_at(px, d, c, x, y) - fabs(at(&a, ch[c], x, y) - at(&b, ch[c], x, y))) >
               1e-6;
  CHECK(bad == 0);
  free(px);
  n = compare(g, &a, &b, reg, "deltaE");
  px = eval(g, n, 0, &nch, &d);
  CHECK(px && nch == 1 && box_eq(d, r));
  double worst = 0;
  for (int y = r.y0; px && y < r.y1; y++)
    for (int x = r.x0; x < r.x1; x++) {
      double l1[3], l2[3];
      ref_lab(at(&a, "R", x, y), at(&a, "G", x, y), at(&a, "B", x, y), l1);
      ref_lab(at(&b, "R", x, y), at(&b, "G", x, y), at(&b, "B", x, y), l2);
      worst = fmax(worst, fabs(got_at(px, d, 0, x, y) - ref_de2000(l1, l2)));
    }
  CHECK(worst < 1e-3);
  if (worst >= 1e-3) fprintf(stderr, "  deltaE map: max error %g\n", worst);
  free(px);
  CHECK_NEAR(meta(g, n, "reel:de2000_mean"), ref_scores(&a, &b, r).de_mean, 1e-3);
  free(a.px);
  free(b.px);
  reel_graph_free(g);
}

static void test_compare_edges(void) {
  reel_graph_t *g = reel_graph_new();
  reel_box_t disp = {0, 0, 16, 12};
  img_t a, b, y;
  make_smooth(&a, g, disp, disp, 0.05f);
  /* identical inputs: infinite PSNR, SSIM 1, no colour difference */
  reel_node_t *n = compare(g, &a, &a, NULL, NULL);
  CHECK(isinf(meta(g, n, "reel:psnr")) && isinf(meta(g, n, "reel:psnr_chroma")));
  CHECK_NEAR(meta(g, n, "reel:ssim"), 1, 1e-6);
  CHECK(meta(g, n, "reel:de2000_mean") == 0 && meta(g, n, "reel:de2000_p95") == 0);
  /* a region under 11 pixels has no SSIM */
  make_smooth(&b, g, disp, disp, 0.1f);
  double reg[4] = {2, 2, 12, 12};
  n = compare(g, &a, &b, reg, NULL);
  CHECK(isnan(meta(g, n, "reel:ssim")));
  CHECK_NEAR(meta(g, n, "reel:psnr"), ref_scores(&a, &b, (reel_box_t){2, 2, 12, 12}).psnr, 1e-4);
  /* errors: an empty region, an input without R, G, B */
  n = node2(g, "Compare", &a, &b);
  double bad[4] = {5, 5, 5, 9};
  for (int c = 0; c < 4; c++) reel_node_set_number(n, "region", c, bad[c]);
  CHECK(reel_node_finish(n) == -1 && strstr(reel_error_get(), "is empty"));
  reel_error_clear();
  make(&y, g, "Y", disp, disp, 0, 1);
  n = compare(g, &a, &y, NULL, NULL);
  CHECK(reel_eval_image(g, n, 0, NULL, 0, NULL, NULL, NULL, NULL) == -1);
  CHECK(strstr(reel_error_get(), "input 'B' has no channel R") != NULL);
  reel_error_clear();
  free(a.px);
  free(b.px);
  free(y.px);
  reel_graph_free(g);
}

int main(void) {
  if (!mkdtemp(dir)) return 1;
  RUN(test_merge_ops);
  RUN(test_merge_channels);
  RUN(test_merge_errors);
  RUN(test_dissolve_mix);
  RUN(test_dissolve_keyframes);
  RUN(test_dissolve_key);
  RUN(test_copybbox);
  RUN(test_de2000_sharma);
  RUN(test_compare);
  RUN(test_compare_edges);
  reel_shutdown();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
  TEST_END();
}
