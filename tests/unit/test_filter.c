/* Unit tests for the filter nodes (nodes/median.c, blur.c, sharpen.c,
 * convolve.c; opencl/median.cl, conv.cl), each run through a real graph
 * (float EXR written here, Read, the node, reel_eval_image) against CPU loops
 * written here: the median by sorting every window (exact equality, ties and
 * negative values included), Gaussian, unsharp mask and 2-D kernels in
 * double (within 1e-5). The input's data window sits inside its display
 * window, off the origin, so every test also checks edges, the 0 outside
 * the data window and how the data window grows. Also: keyframed sizes
 * recompute only the frames whose value changes, empty data windows, and
 * errors. */
#include "imageio.h"
#include "reel.h"
#include "test.h"

#include <unistd.h>

static char dir[64];
static reel_graph_t *g;
static int serial;

/* The test picture: a data window of W x H at (X0, Y0) in a DW x DH format. */
#define DW 128
#define DH 80
#define X0 13
#define Y0 7
#define W 97
#define H 61

typedef struct {
  int nch;
  int box[4]; /* data window x0, y0, x1, y1 */
  float *px;  /* planar */
} img_t;

static int img_w(const img_t *m) { return m->box[2] - m->box[0]; }
static int img_h(const img_t *m) { return m->box[3] - m->box[1]; }

/* Pixel (x, y) (image coordinates) of channel c; 0 outside the data window. */
static double at(const img_t *m, int c, int x, int y) {
  if (x < m->box[0] || y < m->box[1] || x >= m->box[2] || y >= m->box[3]) return 0;
  int w = img_w(m), h = img_h(m);
  return m->px[((size_t)c * h + (y - m->box[1])) * w + (x - m->box[0])];
}

static unsigned rng = 12345;
static double uni(double lo, double hi) {
  rng = rng * 1664525u + 1013904223u;
  return lo + (hi - lo) * (rng >> 8) / 16777216.0;
}

/* A picture with smooth gradients, noise, negative values, a band of few
 * distinct levels (ties for the median) and a sharp edge. */
static img_t picture(int nch) {
  img_t m = {nch, {X0, Y0, X0 + W, Y0 + H}, malloc(sizeof(float) * (size_t)nch * W * H)};
  for (int c = 0; c < nch; c++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        double v = 0.3 + 0.5 * sin(0.07 * x + 0.5 * c) * cos(0.05 * y) + uni(-0.2, 0.2);
        if (x > 60 && y < 30) v = floor(uni(0, 4)) * 0.25; /* ties */
        if (y > 45) v -= 0.6;                               /* negative values, an edge */
        m.px[((size_t)c * H + y) * W + x] = (float)v;
      }
  return m;
}

static reel_node_t *read_of(const img_t *m, int ranged) {
  static const char *const names[4] = {"R", "G", "B", "A"};
  reel_hostimg_t h;
  memset(&h, 0, sizeof h);
  h.nch = m->nch;
  for (int c = 0; c < m->nch; c++) snprintf(h.ch[c], REEL_CHNAME, "%s", m->nch == 1 ? "Y" : names[c]);
  h.data = (reel_box_t){m->box[0], m->box[1], m->box[2], m->box[3]};
  h.display = (reel_box_t){0, 0, DW, DH};
  h.px = m->px;
  char path[128];
  snprintf(path, sizeof path, "%s/in%d.exr", dir, serial++);
  reel_io_write_opts_t o = {NULL, "float", "none", 0};
  if (reel_io_write(path, &o, &h)) {
    fprintf(stderr, "  write %s: %s\n", path, reel_error_get());
    exit(1);
  }
  reel_node_t *n = reel_node_new(g, "Read", __FILE__, __LINE__);
  CHECK(n && !reel_node_set_string(n, "path", path));
  if (ranged) CHECK(!reel_node_set_number(n, "range", 0, 1) && !reel_node_set_number(n, "range", 1, 6));
  CHECK(!reel_node_finish(n));
  return n;
}

static reel_node_t *node(const char *type, reel_node_t *src) {
  reel_node_t *n = reel_node_new(g, type, __FILE__, __LINE__);
  CHECK(n && !reel_node_set_input(n, "#1", src));
  return n;
}

static void finish(reel_node_t *n) {
  if (reel_node_finish(n)) {
    fprintf(stderr, "  finish: %s\n", reel_error_get());
    exit(1);
  }
}

/* The node's result at frame 1 (display window checked unchanged). */
static img_t result(reel_node_t *n) {
  img_t m;
  int display[4];
  if (reel_eval_image(g, n, 1, NULL, 1, &m.px, &m.nch, m.box, display)) {
    fprintf(stderr, "  eval %s: %s\n", reel_node_label(n), reel_error_get());
    exit(1);
  }
  CHECK(display[0] == 0 && display[1] == 0 && display[2] == DW && display[3] == DH);
  return m;
}

static int box_is(const img_t *m, int x0, int y0, int x1, int y1) {
  int ok = m->box[0] == x0 && m->box[1] == y0 && m->box[2] == x1 && m->box[3] == y1;
  if (!ok)
    fprintf(stderr, "  data window (%d, %d)-(%d, %d), expected (%d, %d)-(%d, %d)\n", m->box[0],
            m->box[1], m->box[2], m->box[3], x0, y0, x1, y1);
  return ok;
}

/* Largest |out - ref| over the box grown by `grow` around the input's data
 * window: out is read with its own data window (0 outside it), so pixels
 * the node left outside must be 0 in the reference too. */
static double max_err(const img_t *out, const img_t *in, int grow,
                      double (*ref)(const img_t *, int, int, int, const void *), const void *arg) {
  double e = 0;
  for (int c = 0; c < in->nch; c++)
    for (int y = in->box[1] - grow - 2; y < in->box[3] + grow + 2; y++)
      for (int x = in->box[0] - grow - 2; x < in->box[2] + grow + 2; x++) {
        double d = fabs(at(out, c, x, y) - ref(in, c, x, y, arg));
        if (d > e) e = d;
      }
  return e;
}

/* ---- Median ---- */

static int cmpf(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

static double median_ref(const img_t *m, int c, int x, int y, const void *arg) {
  int r = *(const int *)arg, n = 0;
  float v[31 * 31];
  for (int dy = -r; dy <= r; dy++)
    for (int dx = -r; dx <= r; dx++) v[n++] = (float)at(m, c, x + dx, y + dy);
  qsort(v, (size_t)n, sizeof *v, cmpf);
  return v[n / 2];
}

static void check_median(const img_t *in, int r) {
  reel_node_t *n = node("Median", read_of(in, 0));
  CHECK(!reel_node_set_number(n, "radius", 0, r));
  finish(n);
  img_t out = result(n);
  CHECK(out.nch == in->nch);
  /* the data window stays: outside it the windows hold a majority of zeros */
  CHECK(box_is(&out, X0, Y0, X0 + W, Y0 + H));
  double e = max_err(&out, in, r, median_ref, &r);
  if (e != 0) fprintf(stderr, "  radius %d: max error %g\n", r, e);
  CHECK(e == 0);
  free(out.px);
}

static void test_median_small(void) {
  img_t in = picture(3);
  for (int r = 1; r <= 3; r++) check_median(&in, r);
  free(in.px);
}

static void test_median_11x11(void) {
  img_t in = picture(4);
  check_median(&in, 5);
  free(in.px);
}

/* One channel, radius 7; radius 15 (the largest) with REEL_TEST_SLOW=1: its
 * network is the same generator's, but PoCL takes about a minute to compile
 * it the first time. */
static void test_median_large(void) {
  img_t in = picture(1);
  check_median(&in, 7);
  if (getenv("REEL_TEST_SLOW")) check_median(&in, 15);
  free(in.px);
}

/* ---- Gaussian: Blur and Sharpen ---- */

typedef struct {
  double size, amount; /* amount < 0: plain blur */
} gauss_t;

/* Weights of the documented Gaussian: sigma = size / 2.4, radius ceil(3 sigma). */
static int gauss_w(double size, double *w) {
  int r = (int)ceil(3 * size / 2.4 - 1e-9);
  double s = size / 2.4, sum = 0;
  for (int i = -r; i <= r; i++) sum += w[i + r] = exp(-(double)i * i / (2 * s * s));
  for (int i = 0; i <= 2 * r; i++) w[i] /= sum;
  return r;
}

static double gauss_ref(const img_t *m, int c, int x, int y, const void *arg) {
  const gauss_t *p = arg;
  double w[512], acc = 0;
  int r = gauss_w(p->size, w);
  for (int j = -r; j <= r; j++)
    for (int i = -r; i <= r; i++) acc += w[j + r] * w[i + r] * at(m, c, x + i, y + j);
  return p->amount < 0 ? acc : at(m, c, x, y) + p->amount * (at(m, c, x, y) - acc);
}

static void check_gauss(const img_t *in, double size, double amount) {
  reel_node_t *n = node(amount < 0 ? "Blur" : "Sharpen", read_of(in, 0));
  CHECK(!reel_node_set_number(n, "size", 0, size));
  if (amount >= 0) CHECK(!reel_node_set_number(n, "amount", 0, amount));
  finish(n);
  img_t out = result(n);
  double w[512];
  int r = gauss_w(size, w);
  CHECK(box_is(&out, X0 - r, Y0 - r, X0 + W + r, Y0 + H + r));
  gauss_t p = {size, amount};
  double e = max_err(&out, in, r, gauss_ref, &p);
  if (e > 1e-5) fprintf(stderr, "  size %g amount %g: max error %g\n", size, amount, e);
  CHECK(e <= 1e-5);
  free(out.px);
}

static void test_blur(void) {
  img_t in = picture(3);
  check_gauss(&in, 1, -1);
  check_gauss(&in, 3.7, -1);
  check_gauss(&in, 24, -1); /* radius 30: wider than a third of the picture */
  free(in.px);
}

static void test_blur_zero(void) {
  img_t in = picture(1);
  reel_node_t *n = node("Blur", read_of(&in, 0));
  CHECK(!reel_node_set_number(n, "size", 0, 0));
  finish(n);
  img_t out = result(n);
  CHECK(box_is(&out, X0, Y0, X0 + W, Y0 + H));
  CHECK(!memcmp(out.px, in.px, sizeof(float) * W * H));
  free(out.px);
  free(in.px);
}

static void test_sharpen(void) {
  img_t in = picture(3);
  check_gauss(&in, 3, 1);
  check_gauss(&in, 7.5, 0.4);
  free(in.px);
}

/* ---- Convolve ---- */

typedef struct {
  const double *k;
  int kw, kh;
  double scale;
} kern_t;

static double conv_ref(const img_t *m, int c, int x, int y, const void *arg) {
  const kern_t *p = arg;
  double acc = 0;
  for (int j = 0; j < p->kh; j++)
    for (int i = 0; i < p->kw; i++)
      acc += p->k[j * p->kw + i] * at(m, c, x + i - p->kw / 2, y + j - p->kh / 2);
  return acc * p->scale;
}

static reel_node_t *convolve(reel_node_t *src, const double *k, int n, int kw, int kh, int norm) {
  reel_node_t *c = node("Convolve", src);
  CHECK(!reel_node_set_list(c, "kernel", n, k));
  if (kw) CHECK(!reel_node_set_number(c, "width", 0, kw));
  if (kh) CHECK(!reel_node_set_number(c, "height", 0, kh));
  if (norm) CHECK(!reel_node_set_number(c, "normalize", 0, 1));
  return c;
}

static void test_convolve(void) {
  img_t in = picture(3);
  reel_node_t *src = read_of(&in, 0);
  /* 3x3, asymmetric: catches a flipped kernel */
  static const double k3[9] = {1, 2, 0.5, 0, -1, 0, -0.25, 3, 1};
  reel_node_t *n = convolve(src, k3, 9, 0, 0, 0);
  finish(n);
  img_t out = result(n);
  CHECK(box_is(&out, X0 - 1, Y0 - 1, X0 + W + 1, Y0 + H + 1));
  kern_t p = {k3, 3, 3, 1};
  double e = max_err(&out, &in, 1, conv_ref, &p);
  CHECK(e <= 1e-5);
  free(out.px);
  /* 4 wide, 3 high, normalised: the centre is (2, 1), so it reaches 2 left,
   * 1 right, 1 up and 1 down */
  static const double k43[12] = {1, 2, 3, 4, 0, 1, 0, 2, 5, -1, 1, 1};
  n = convolve(src, k43, 12, 4, 0, 1);
  finish(n);
  out = result(n);
  CHECK(box_is(&out, X0 - 1, Y0 - 1, X0 + W + 2, Y0 + H + 1));
  p = (kern_t){k43, 4, 3, 1.0 / 19};
  e = max_err(&out, &in, 2, conv_ref, &p);
  if (e > 1e-5) fprintf(stderr, "  4x3: max error %g\n", e);
  CHECK(e <= 1e-5);
  free(out.px);
  /* a 1 x 9 column given by its height */
  static const double k19[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  n = convolve(src, k19, 9, 1, 0, 1);
  finish(n);
  out = result(n);
  CHECK(box_is(&out, X0, Y0 - 4, X0 + W, Y0 + H + 4));
  p = (kern_t){k19, 1, 9, 1.0 / 9};
  CHECK(max_err(&out, &in, 4, conv_ref, &p) <= 1e-5);
  free(out.px);
  free(in.px);
}

static void test_convolve_errors(void) {
  img_t in = picture(1);
  reel_node_t *src = read_of(&in, 0);
  static const double k[6] = {1, 2, 3, 4, 5, 6}, z[3] = {-1, 0, 1};
  reel_node_t *n = convolve(src, k, 6, 0, 0, 0);
  CHECK(reel_node_finish(n) == -1);
  CHECK(strstr(reel_error_get(), "not a square: give width") != NULL);
  CHECK(reel_error_class() == 2);
  reel_error_clear();
  n = convolve(src, k, 6, 4, 0, 0);
  CHECK(reel_node_finish(n) == -1);
  CHECK(strstr(reel_error_get(), "does not make 4 x 1") != NULL);
  reel_error_clear();
  n = convolve(src, z, 3, 3, 0, 1);
  CHECK(reel_node_finish(n) == -1);
  CHECK(strstr(reel_error_get(), "sum to 0") != NULL);
  reel_error_clear();
  n = node("Median", src);
  CHECK(reel_node_set_number(n, "radius", 0, 16) == -1);
  CHECK(strstr(reel_error_get(), "radius") != NULL);
  reel_error_clear();
  free(in.px);
}

/* ---- empty data windows ---- */

static void test_empty(void) {
  img_t in = picture(3);
  reel_node_t *crop = node("Crop", read_of(&in, 0));
  CHECK(!reel_node_set_number(crop, "box", 0, 0) && !reel_node_set_number(crop, "box", 1, 0) &&
        !reel_node_set_number(crop, "box", 2, 5) && !reel_node_set_number(crop, "box", 3, 5));
  finish(crop);
  static const double k[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  reel_node_t *ns[4] = {node("Median", crop), node("Blur", crop), node("Sharpen", crop),
                        convolve(crop, k, 9, 0, 0, 0)};
  CHECK(!reel_node_set_number(ns[1], "size", 0, 5));
  for (int i = 0; i < 4; i++) {
    finish(ns[i]);
    img_t out = result(ns[i]);
    CHECK(img_w(&out) == 0 || img_h(&out) == 0);
    free(out.px);
  }
  free(in.px);
}

/* A picture smaller than one work-item's tile (16 x 8) and than the windows. */
static void test_tiny(void) {
  img_t in = {2, {40, 30, 45, 33}, malloc(sizeof(float) * 2 * 5 * 3)};
  for (int i = 0; i < 2 * 5 * 3; i++) in.px[i] = (float)uni(-1, 1);
  reel_node_t *src = read_of(&in, 0);
  int r = 3;
  reel_node_t *m = node("Median", src);
  CHECK(!reel_node_set_number(m, "radius", 0, r));
  finish(m);
  img_t out = result(m);
  CHECK(box_is(&out, 40, 30, 45, 33) && max_err(&out, &in, r, median_ref, &r) == 0);
  free(out.px);
  reel_node_t *b = node("Blur", src);
  CHECK(!reel_node_set_number(b, "size", 0, 5));
  finish(b);
  out = result(b);
  gauss_t p = {5, -1};
  CHECK(box_is(&out, 33, 23, 52, 40) && max_err(&out, &in, 7, gauss_ref, &p) <= 1e-5);
  free(out.px);
  static const double k[9] = {1, -2, 3, 0, 5, 0, 1, 1, -1};
  reel_node_t *c = convolve(src, k, 9, 0, 0, 0);
  finish(c);
  out = result(c);
  kern_t kp = {k, 3, 3, 1};
  CHECK(box_is(&out, 39, 29, 46, 34) && max_err(&out, &in, 1, conv_ref, &kp) <= 1e-5);
  free(out.px);
  free(in.px);
}

/* ---- keyframes ---- */

/* A keyframed size recomputes only the frames whose value changes: the key
 * holds the resolved value, so frames 1-3 (size 4 each) share one result. */
static void test_keyframes(void) {
  img_t in = picture(1);
  reel_node_t *src = read_of(&in, 1);
  reel_graph_t *g0 = g;
  reel_node_t *b = node("Blur", src);
  double f[3] = {1, 3, 6}, v[3] = {4, 4, 10};
  CHECK(!reel_node_set_curve(b, "size", 0, 3, f, v, "linear"));
  finish(b);
  CHECK(!reel_graph_add_output(g0, b, "blur"));
  reel_render_opts_t o = {.first = 1, .last = 6, .no_disk_cache = 1, .output = "blur"};
  reel_render_stats_t st;
  CHECK(!reel_render(g0, &o, &st));
  /* the read once (one file for all frames), the blur at sizes 4, 6, 8, 10 */
  CHECK(st.computed == 1 + 4);
  CHECK(!reel_render(g0, &o, &st));
  CHECK(st.computed == 0);
  v[2] = 14.5; /* frames 4-6 change (7.5, 11, 14.5); 1-3 keep size 4 */
  CHECK(!reel_node_set_curve(b, "size", 0, 3, f, v, "linear"));
  CHECK(!reel_render(g0, &o, &st));
  CHECK(st.computed == 3);
  v[2] = 13; /* 7, 10, 13: size 10 was frame 6's a moment ago and is still cached */
  CHECK(!reel_node_set_curve(b, "size", 0, 3, f, v, "linear"));
  CHECK(!reel_render(g0, &o, &st));
  CHECK(st.computed == 2);
  /* and the frames that share a size share a picture */
  float *p1 = NULL, *p3 = NULL, *p4 = NULL;
  int d1[4], d3[4], d4[4];
  CHECK(!reel_eval_image(g0, b, 1, NULL, 0, &p1, NULL, d1, NULL));
  CHECK(!reel_eval_image(g0, b, 3, NULL, 0, &p3, NULL, d3, NULL));
  CHECK(!reel_eval_image(g0, b, 4, NULL, 0, &p4, NULL, d4, NULL));
  CHECK(p1 && p3 && p4 && !memcmp(d1, d3, sizeof d1) && d4[0] == X0 - 9 /* size 7: radius ceil(8.75) */);
  CHECK(p1 && p3 && !memcmp(p1, p3, sizeof(float) * (size_t)(d1[2] - d1[0]) * (d1[3] - d1[1])));
  free(p1);
  free(p3);
  free(p4);
  free(in.px);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/reel_test_filter_XXXXXX");
  if (!mkdtemp(dir)) return 1;
  g = reel_graph_new();
  RUN(test_median_small);
  RUN(test_median_11x11);
  RUN(test_median_large);
  RUN(test_blur);
  RUN(test_blur_zero);
  RUN(test_sharpen);
  RUN(test_convolve);
  RUN(test_convolve_errors);
  RUN(test_empty);
  RUN(test_tiny);
  RUN(test_keyframes);
  reel_graph_free(g);
  reel_shutdown();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) fprintf(stderr, "  could not remove %s\n", dir);
  TEST_END();
}
