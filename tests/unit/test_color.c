/* Unit tests for the colour nodes (nodes/colorspace.c, grade.c, cdl.c,
 * saturation.c, clamp.c, invert.c, shuffle.c; opencl/color.cl), each run
 * through a real graph (float EXR written here, Read, the node,
 * reel_eval_image) against CPU loops written here in double, published
 * constants (ACES TB-2014-004 matrices, the ACES CTL Bradford D60->D65
 * matrix, ACEScct(0.18), Nuke's Cineon of 0.18) and hand-computed Y'CbCr.
 * Also: round trips, fusion of a 6-node chain into one kernel, errors. */
#include "imageio.h"
#include "node.h"
#include "reel.h"
#include "test.h"

#include <fcntl.h>
#include <unistd.h>

#define W 32
#define H 8
#define NPX (W * H)

static char dir[64];
static reel_graph_t *g;
static int serial;

/* ---- graph helpers ---- */

/* Writes a float EXR of nch planar channels and returns a Read of it. */
static reel_node_t *read_of(int nch, const char *const *names, reel_box_t data, reel_box_t display,
                            const float *px, int ranged) {
  reel_hostimg_t h;
  memset(&h, 0, sizeof h);
  h.nch = nch;
  for (int c = 0; c < nch; c++) snprintf(h.ch[c], REEL_CHNAME, "%s", names[c]);
  h.data = data;
  h.display = display;
  h.px = (float *)px;
  char path[128];
  snprintf(path, sizeof path, "%s/in%d.exr", dir, serial++);
  reel_io_write_opts_t o = {NULL, "float", "none", 0};
  if (reel_io_write(path, &o, &h)) {
    fprintf(stderr, "  write %s: %s\n", path, reel_error_get());
    exit(1);
  }
  reel_node_t *n = reel_node_new(g, "Read", __FILE__, __LINE__);
  CHECK(n && !reel_node_set_string(n, "path", path));
  if (ranged) CHECK(!reel_node_set_number(n, "range", 0, 1) && !reel_node_set_number(n, "range", 1, 10));
  CHECK(!reel_node_finish(n));
  return n;
}

static reel_node_t *rgba_read(const float *px) {
  static const char *const rgba[4] = {"R", "G", "B", "A"};
  reel_box_t b = {0, 0, W, H};
  return read_of(4, rgba, b, b, px, 0);
}

/* A node of `type` on input src; finish it after setting parameters. */
static reel_node_t *node(const char *type, reel_node_t *src) {
  reel_node_t *n = reel_node_new(g, type, __FILE__, __LINE__);
  CHECK(n && !reel_node_set_input(n, "#1", src));
  return n;
}

static reel_node_t *colorspace(reel_node_t *src, const char *from, const char *to) {
  reel_node_t *n = node("Colorspace", src);
  CHECK(!reel_node_set_string(n, "in_space", from) && !reel_node_set_string(n, "out_space", to));
  return n;
}

static void finish(reel_node_t *n) {
  if (reel_node_finish(n)) {
    fprintf(stderr, "  finish: %s\n", reel_error_get());
    exit(1);
  }
}

/* Evaluated pixels (malloc'd, planar) with the channel order of the clip. */
typedef struct {
  float *px;
  int nch, data[4];
  const reel_clip_t *clip;
} result_t;

static result_t eval_at(reel_node_t *n, int frame) {
  result_t r;
  memset(&r, 0, sizeof r);
  int display[4];
  if (reel_eval_image(g, n, frame, NULL, 1, &r.px, &r.nch, r.data, display)) {
    fprintf(stderr, "  eval %s: %s\n", reel_node_label(n), reel_error_get());
    exit(1);
  }
  r.clip = reel_node_clip(n);
  CHECK(r.clip->nch == r.nch);
  return r;
}
static result_t eval(reel_node_t *n) { return eval_at(n, 1); }

/* Plane of channel `name` (a failure and plane 0 if absent). */
static const float *plane(const result_t *r, const char *name) {
  int w = r->data[2] - r->data[0], h = r->data[3] - r->data[1];
  for (int c = 0; c < r->nch; c++)
    if (!strcmp(r->clip->ch[c], name)) return r->px + (size_t)c * w * h;
  fprintf(stderr, "  no channel %s\n", name);
  CHECK(0);
  return r->px;
}

/* Deterministic values in [lo, hi). */
static unsigned rng = 12345;
static double uni(double lo, double hi) {
  rng = rng * 1664525u + 1013904223u;
  return lo + (hi - lo) * (rng >> 8) / 16777216.0;
}

/* RGBA test frame: R, G, B in [lo, hi), alpha in [0, 1). */
static float *frame_rgba(double lo, double hi) {
  float *px = malloc(sizeof(float) * 4 * NPX);
  for (int i = 0; i < 3 * NPX; i++) px[i] = (float)uni(lo, hi);
  for (int i = 0; i < NPX; i++) px[3 * NPX + i] = (float)uni(0, 1);
  return px;
}

static int alpha_untouched(const result_t *r, const float *in) {
  return !memcmp(plane(r, "A"), in + 3 * NPX, sizeof(float) * NPX);
}

/* ---- independent CPU references, double ---- */

static double srgb_enc(double x) { return x <= 0.0031308 ? 12.92 * x : 1.055 * pow(x, 1 / 2.4) - 0.055; }
static double srgb_dec(double v) { return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4); }
static double r709_enc(double x) { return x < 0.018 ? 4.5 * x : 1.099 * pow(x, 0.45) - 0.099; }
static double r709_dec(double v) { return v < 0.081 ? v / 4.5 : pow((v + 0.099) / 1.099, 1 / 0.45); }
static double cct_enc(double x) {
  return x <= 0.0078125 ? 10.5402377416545 * x + 0.0729055341958355 : (log2(x) + 9.72) / 17.52;
}
static double cct_dec(double v) {
  return v <= 0.155251141552511 ? (v - 0.0729055341958355) / 10.5402377416545
                                : pow(2, v * 17.52 - 9.72);
}
static double cc_enc(double x) {
  if (x <= 0) return (-16 + 9.72) / 17.52;
  if (x < pow(2, -15)) return (log2(pow(2, -16) + x * 0.5) + 9.72) / 17.52;
  return (log2(x) + 9.72) / 17.52;
}
static double cc_dec(double v) {
  if (v < (9.72 - 15) / 17.52) return (pow(2, v * 17.52 - 9.72) - pow(2, -16)) * 2;
  return pow(2, v * 17.52 - 9.72);
}
/* Nuke's Log2Lin with black 95, white 685, gamma 0.6 (10-bit codes /1023) */
static double cin_off(void) { return pow(10, (95 - 685) * 0.002 / 0.6); }
static double cin_dec(double v) {
  return (pow(10, (v * 1023 - 685) * 0.002 / 0.6) - cin_off()) / (1 - cin_off());
}
static double cin_enc(double x) {
  return (685 + log10(x * (1 - cin_off()) + cin_off()) * 0.6 / 0.002) / 1023;
}
static double log2_enc(double x) { return (log2(x / 0.18) + 6.5) / 13; }
static double log2_dec(double v) { return 0.18 * pow(2, v * 13 - 6.5); }
static double g26_enc(double x) { return pow(x, 1 / 2.6); }
static double g26_dec(double v) { return pow(v, 2.6); }
static double bt1886_enc(double x) { return pow(x, 1 / 2.4); }
static double bt1886_dec(double v) { return pow(v, 2.4); }

static const struct {
  const char *space; /* the transfer on Rec.709 primaries */
  double (*enc)(double), (*dec)(double);
  double lo, hi; /* linear test range */
} transfers[] = {
    {"srgb", srgb_enc, srgb_dec, -0.02, 1.3},
    {"rec709", r709_enc, r709_dec, -0.02, 1.3},
    {"bt1886", bt1886_enc, bt1886_dec, 0, 1.3},
    {"gamma_rec709", g26_enc, g26_dec, 0, 1.3},
    {"acescct_rec709", cct_enc, cct_dec, -0.01, 8},
    {"acescc_rec709", cc_enc, cc_dec, 1e-6, 8},
    {"cineon", cin_enc, cin_dec, -0.005, 8},
    {"log2_rec709", log2_enc, log2_dec, 0.002, 8},
};
#define NTRANSFERS (int)(sizeof transfers / sizeof transfers[0])

/* ---- tests ---- */

static void transfer_closed_form(void) {
  float px[4 * NPX];
  for (int i = 0; i < 4 * NPX; i++) px[i] = 0.18f;
  reel_node_t *src = rgba_read(px);
  struct {
    const char *to;
    double want;
  } c[] = {
      {"acescct_rec709", 0.4135884024924423}, /* ACES S-2016-001 */
      {"acescc_rec709", 0.4135884024924423},  /* same log segment above 2^-15 */
      {"cineon", 0.457319613085418},          /* Nuke's Colorspace / Log2Lin default */
  };
  for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
    reel_node_t *n = colorspace(src, "linear_rec709", c[k].to);
    finish(n);
    result_t r = eval(n);
    CHECK_NEAR(plane(&r, "R")[0], c[k].want, 1e-6);
    CHECK_NEAR(plane(&r, "B")[NPX - 1], c[k].want, 1e-6);
    free(r.px);
  }
  /* which Cineon formula gives 0.457319613085418: codes / 1023, not 1024 */
  CHECK_NEAR(cin_enc(0.18), 0.457319613085418, 1e-12);
}

static void transfers_match_reference(void) {
  float *lin = frame_rgba(0, 1), *code = frame_rgba(0, 1);
  for (int t = 0; t < NTRANSFERS; t++) {
    for (int i = 0; i < 3 * NPX; i++) {
      lin[i] = (float)uni(transfers[t].lo, transfers[t].hi);
      code[i] = (float)transfers[t].enc(lin[i]);
    }
    reel_node_t *a = rgba_read(lin), *b = rgba_read(code);
    reel_node_t *enc = colorspace(a, "linear_rec709", transfers[t].space);
    reel_node_t *dec = colorspace(b, transfers[t].space, "linear_rec709");
    if (!strcmp(transfers[t].space, "gamma_rec709")) {
      CHECK(!reel_node_set_number(enc, "gamma", 0, 2.6));
      CHECK(!reel_node_set_number(dec, "gamma", 0, 2.6));
    }
    finish(enc);
    finish(dec);
    result_t re = eval(enc), rd = eval(dec);
    double e1 = 0, e2 = 0;
    for (int i = 0; i < 3 * NPX; i++) {
      e1 = fmax(e1, fabs(re.px[i] - transfers[t].enc(lin[i])) / fmax(1, fabs(transfers[t].enc(lin[i]))));
      e2 = fmax(e2, fabs(rd.px[i] - transfers[t].dec(code[i])) / fmax(1, fabs(transfers[t].dec(code[i]))));
    }
    if (getenv("VERBOSE") || e1 > 1e-6 || e2 > 2e-6)
      fprintf(stderr, "  %s: encode err %.3g, decode err %.3g\n", transfers[t].space, e1, e2);
    CHECK(e1 <= 1e-6);
    CHECK(e2 <= 2e-6);
    CHECK(alpha_untouched(&re, lin));
    free(re.px);
    free(rd.px);
  }
  free(lin);
  free(code);
}

/* linear Rec.709 -> space -> back, error relative to max(1, x). 1e-6 except
 * where float32 cannot get there: a log code value near 0.6 is rounded to
 * 3e-8, which decoding multiplies by the curve's slope (ACEScct: 17.52 ln 2
 * = 12, 13 stops: 9) to ~4e-7, and then by the inverse primaries matrix
 * (AP1 -> Rec.709 rows add up to 2.4 in magnitude, AP0 -> Rec.709 more);
 * narrow-range Y'CbCr adds its own rounding near 0.5. The curves alone
 * (on Rec.709 primaries) are held to 1e-6. */
static void round_trips(void) {
  static const struct {
    const char *space;
    double tol;
  } spaces[] = {
      {"srgb", 1e-6},       {"rec709", 1e-6},        {"bt1886", 1e-6},
      {"acescct_rec709", 1e-6}, {"acescc_rec709", 1e-6}, {"cineon", 1e-6},
      {"acescct", 1.5e-6},  {"acescc", 1.5e-6}, /* + Rec.709 <-> AP1 (rows up to 2.4) */
      {"acescg", 1e-6},     {"aces2065-1", 1e-6},    {"rec2020", 1e-6},
      {"srgb_p3d65", 1e-6}, {"gamma_p3dci", 1e-6},   {"linear_smptec", 1e-6},
      {"xyz", 1e-6},        {"ycbcr_709", 1e-6},     {"ycbcr_601_limited", 1e-6},
      {"ycbcr_2020_fullcode", 1e-6}, {"log2_rec709", 1e-6}, {"log2_ap0", 2e-6},
      {"acescct_ap1_ycbcr709_limited", 3e-6},
  };
  float *lin = frame_rgba(0.002, 1.5);
  reel_node_t *src = rgba_read(lin);
  for (size_t k = 0; k < sizeof spaces / sizeof spaces[0]; k++) {
    reel_node_t *there = colorspace(src, "linear_rec709", spaces[k].space);
    finish(there);
    reel_node_t *back = colorspace(there, spaces[k].space, "linear_rec709");
    finish(back);
    result_t r = eval(back);
    double err = 0;
    for (int i = 0; i < 3 * NPX; i++) err = fmax(err, fabs(r.px[i] - lin[i]) / fmax(1, lin[i]));
    if (getenv("VERBOSE") || err > spaces[k].tol) fprintf(stderr, "  round trip via %s: %.3g\n", spaces[k].space, err);
    CHECK(err <= spaces[k].tol);
    CHECK(alpha_untouched(&r, lin));
    CHECK(!strcmp(r.clip->ch[0], "R") || !strcmp(r.clip->ch[0], "A"));
    free(r.px);
  }
  free(lin);
}

/* Output of in_space -> out_space for RGB unit vectors and a random frame,
 * compared with M applied in double. */
static void check_matrix(const char *from, const char *to, const double m[9], double tol,
                         int adapt) {
  float *px = frame_rgba(0, 1);
  for (int i = 0; i < 3; i++) /* pixels 0..2 are the unit vectors */
    for (int c = 0; c < 3; c++) px[c * NPX + i] = c == i ? 1.0f : 0.0f;
  reel_node_t *n = colorspace(rgba_read(px), from, to);
  if (!adapt) CHECK(!reel_node_set_number(n, "adapt", 0, 0));
  finish(n);
  result_t r = eval(n);
  const float *o[3] = {plane(&r, "R"), plane(&r, "G"), plane(&r, "B")};
  double err = 0;
  for (int i = 0; i < NPX; i++)
    for (int row = 0; row < 3; row++) {
      double want = 0;
      for (int c = 0; c < 3; c++) want += m[row * 3 + c] * px[c * NPX + i];
      err = fmax(err, fabs(o[row][i] - want));
    }
  if (err > tol) fprintf(stderr, "  %s -> %s: matrix error %.3g\n", from, to, err);
  CHECK(err <= tol);
  free(r.px);
  free(px);
}

static void matrices_match_published(void) {
  /* ACES TB-2014-004 (S-2014-004 AP1), to 10 digits */
  static const double ap0_to_ap1[9] = {1.4514393161,  -0.2365107469, -0.2149285693,
                                       -0.0765537734, 1.1762296998,  -0.0996759264,
                                       0.0083161484,  -0.0060324498, 0.9977163014};
  static const double ap1_to_ap0[9] = {0.6954522414,  0.1406786965, 0.1638690622,
                                       0.0447945634,  0.8596711185, 0.0955343182,
                                       -0.0055258826, 0.0040252103, 1.0015006723};
  static const double ap0_to_xyz[9] = {0.9525523959, 0.0000000000, 0.0000936786,
                                       0.3439664498, 0.7281660966, -0.0721325464,
                                       0.0000000000, 0.0000000000, 1.0088251844};
  /* Rec.709 -> ACEScg with Bradford D65 -> D60 (colour-science's published
   * sRGB to ACEScg matrix; OpenColorIO's builtin
   * UTILITY - ACES-AP1_to_LINEAR-REC709_BFD is its inverse) */
  static const double rec709_to_ap1[9] = {0.6130974024, 0.3395231462, 0.0473794514,
                                          0.0701937225, 0.9163538791, 0.0134523985,
                                          0.0206155929, 0.1095697729, 0.8698146342};
  check_matrix("aces2065-1", "acescg", ap0_to_ap1, 2e-6, 1);
  check_matrix("acescg", "aces2065-1", ap1_to_ap0, 2e-6, 1);
  check_matrix("aces2065-1", "xyz", ap0_to_xyz, 2e-6, 0);
  check_matrix("linear_rec709", "acescg", rec709_to_ap1, 2e-6, 1);
  /* Bradford D60 -> D65 as published in the ACES CTL (D60_2_D65_CAT), 6
   * digits: AP0 -> XYZ(D65) = CAT . NPM(AP0) */
  static const double cat[9] = {0.987224,   -0.00611327, 0.0159533,  -0.00759836, 1.00186,
                                0.00533002, 0.00307257,  -0.00509595, 1.08168};
  double m[9];
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      m[r * 3 + c] = cat[r * 3] * ap0_to_xyz[c] + cat[r * 3 + 1] * ap0_to_xyz[3 + c] +
                     cat[r * 3 + 2] * ap0_to_xyz[6 + c];
  check_matrix("aces2065-1", "xyz", m, 1e-5, 1);
  /* and the ACES white lands on D65's XYZ (x 0.3127, y 0.3290) exactly */
  static const double d65[9] = {0.3127 / 0.3290, 0, 0, 0, 1, 0, 0, 0, (1 - 0.3127 - 0.3290) / 0.3290};
  float px[4 * NPX];
  for (int i = 0; i < 4 * NPX; i++) px[i] = 1.0f;
  reel_node_t *n = colorspace(rgba_read(px), "aces2065-1", "xyz");
  finish(n);
  result_t r = eval(n);
  CHECK_NEAR(plane(&r, "R")[0], d65[0], 2e-6);
  CHECK_NEAR(plane(&r, "G")[0], d65[4], 2e-6);
  CHECK_NEAR(plane(&r, "B")[0], d65[8], 2e-6);
  free(r.px);
}

static void ycbcr_closed_form(void) {
  float px[4 * NPX];
  for (int i = 0; i < NPX; i++) px[i] = 0.75f, px[NPX + i] = 0.75f, px[2 * NPX + i] = 0, px[3 * NPX + i] = 0.5f;
  reel_node_t *src = rgba_read(px);
  /* by hand, Kr 0.2126, Kb 0.0722: Y' = 0.75 (Kr + Kg) = 0.69585,
   * Cb = -Y' / (2 (1 - Kb)) = -0.375, Cr = (0.75 - Y') / (2 (1 - Kr)) */
  double y = 0.69585, cb = -0.375, cr = 0.05415 / 1.5748;
  struct {
    const char *to;
    int bits;
    double y, cb, cr;
  } c[] = {
      {"ycbcr_709", 10, y, cb, cr},
      {"ycbcr_709_full", 10, y, cb, cr},
      {"ycbcr_709_limited", 10, (876 * y + 64) / 1023, (896 * cb + 512) / 1023, (896 * cr + 512) / 1023},
      {"ycbcr_709_limited", 8, (219 * y + 16) / 255, (224 * cb + 128) / 255, (224 * cr + 128) / 255},
      {"ycbcr_709_fullcode", 8, y, cb + 128.0 / 255, cr + 128.0 / 255},
  };
  for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
    /* R'G'B' in: rec709 to the Y'CbCr of rec709 only applies the matrix */
    reel_node_t *n = colorspace(src, "rec709", c[k].to);
    CHECK(!reel_node_set_number(n, "bits", 0, c[k].bits));
    finish(n);
    result_t r = eval(n);
    CHECK(!strcmp(r.clip->ch[0], "Y") || !strcmp(r.clip->ch[0], "A"));
    CHECK_NEAR(plane(&r, "Y")[5], c[k].y, 1e-6);
    CHECK_NEAR(plane(&r, "Cb")[5], c[k].cb, 1e-6);
    CHECK_NEAR(plane(&r, "Cr")[5], c[k].cr, 1e-6);
    CHECK(alpha_untouched(&r, px));
    free(r.px);
  }
  /* linear in: the OETF comes first. Linear 0.5 -> R'G'B' 0.705515 each:
   * grey, so Y' = that and Cb = Cr = 0 */
  for (int i = 0; i < 3 * NPX; i++) px[i] = 0.5f;
  reel_node_t *n = colorspace(rgba_read(px), "linear_rec709", "ycbcr_709");
  finish(n);
  result_t r = eval(n);
  CHECK_NEAR(plane(&r, "Y")[0], 1.099 * pow(0.5, 0.45) - 0.099, 1e-6);
  CHECK_NEAR(plane(&r, "Cb")[0], 0, 1e-6);
  CHECK_NEAR(plane(&r, "Cr")[0], 0, 1e-6);
  free(r.px);
}

static void grade_matches_nuke_formula(void) {
  float *px = frame_rgba(-0.2, 1.4);
  reel_node_t *n = node("Grade", rgba_read(px));
  double bp[3] = {0.02, -0.01, 0.05}, wp[3] = {0.9, 1.1, 0.95}, lift[3] = {0.01, 0.02, -0.03},
         gain[3] = {1.2, 0.9, 1.05}, mul[3] = {1.1, 1, 0.8}, off[3] = {0.01, -0.02, 0},
         gam[3] = {1.3, 1, 0.7};
  for (int k = 0; k < 3; k++) {
    CHECK(!reel_node_set_number(n, "blackpoint", k, bp[k]));
    CHECK(!reel_node_set_number(n, "whitepoint", k, wp[k]));
    CHECK(!reel_node_set_number(n, "lift", k, lift[k]));
    CHECK(!reel_node_set_number(n, "gain", k, gain[k]));
    CHECK(!reel_node_set_number(n, "multiply", k, mul[k]));
    CHECK(!reel_node_set_number(n, "offset", k, off[k]));
    CHECK(!reel_node_set_number(n, "gamma", k, gam[k]));
  }
  CHECK(!reel_node_set_number(n, "white_clamp", 0, 1));
  finish(n);
  result_t r = eval(n);
  const char *names[3] = {"R", "G", "B"};
  double err = 0;
  int neg = 0, over = 0;
  for (int k = 0; k < 3; k++) {
    const float *o = plane(&r, names[k]);
    double a = mul[k] * (gain[k] - lift[k]) / (wp[k] - bp[k]), b = off[k] + lift[k] - a * bp[k];
    for (int i = 0; i < NPX; i++) {
      double v = a * px[k * NPX + i] + b;
      neg += v < 0, over += v > 1;
      if (v > 0) v = pow(v, 1 / gam[k]);
      v = fmin(fmax(v, 0), 1);
      err = fmax(err, fabs(o[i] - v));
    }
  }
  CHECK(neg > 10 && over > 10); /* both clamps were exercised */
  CHECK(err <= 1e-6);
  CHECK(alpha_untouched(&r, px));
  free(r.px);
  free(px);
}

static void cdl_matches_asc(void) {
  float *px = frame_rgba(-0.2, 1.2);
  reel_node_t *src = rgba_read(px);
  double slope[3] = {1.2, 0.9, 1.05}, off[3] = {-0.05, 0.02, 0.01}, pw[3] = {1.4, 0.8, 1}, sat = 1.3;
  for (int style = 0; style < 2; style++) {
    reel_node_t *n = node("CDL", src);
    for (int k = 0; k < 3; k++) {
      CHECK(!reel_node_set_number(n, "slope", k, slope[k]));
      CHECK(!reel_node_set_number(n, "offset", k, off[k]));
      CHECK(!reel_node_set_number(n, "power", k, pw[k]));
    }
    CHECK(!reel_node_set_number(n, "saturation", 0, sat));
    CHECK(!reel_node_set_string(n, "style", style ? "noclamp" : "asc"));
    finish(n);
    result_t r = eval(n);
    const float *o[3] = {plane(&r, "R"), plane(&r, "G"), plane(&r, "B")};
    double err = 0;
    for (int i = 0; i < NPX; i++) {
      double v[3];
      for (int k = 0; k < 3; k++) {
        double x = px[k * NPX + i] * slope[k] + off[k];
        if (!style) x = fmin(fmax(x, 0), 1);
        v[k] = x >= 0 ? pow(x, pw[k]) : x; /* noclamp: negatives skip the power */
      }
      double l = 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
      for (int k = 0; k < 3; k++) {
        double x = l + sat * (v[k] - l);
        if (!style) x = fmin(fmax(x, 0), 1);
        err = fmax(err, fabs(o[k][i] - x));
      }
    }
    if (err > 1e-6) fprintf(stderr, "  CDL style %d: err %.3g\n", style, err);
    CHECK(err <= 1e-6);
    CHECK(alpha_untouched(&r, px));
    free(r.px);
  }
  free(px);
}

static void saturation_clamp_invert(void) {
  float *px = frame_rgba(-0.5, 1.5);
  reel_node_t *src = rgba_read(px);
  reel_node_t *s = node("Saturation", src), *c = node("Clamp", src), *v = node("Invert", src);
  CHECK(!reel_node_set_number(s, "saturation", 0, 0.6));
  CHECK(!reel_node_set_number(c, "min", 0, -0.1) && !reel_node_set_number(c, "max", 0, 0.9));
  CHECK(!reel_node_set_string(c, "channels", "G, A"));
  CHECK(!reel_node_set_string(v, "channels", "R,A"));
  finish(s);
  finish(c);
  finish(v);
  result_t rs = eval(s), rc = eval(c), rv = eval(v);
  const char *names[4] = {"R", "G", "B", "A"};
  double es = 0, ec = 0, ev = 0;
  for (int i = 0; i < NPX; i++) {
    const float *x = px + i;
    double l = 0.2126 * x[0] + 0.7152 * x[NPX] + 0.0722 * x[2 * NPX];
    for (int k = 0; k < 4; k++) {
      double in = x[k * NPX];
      double ws = k < 3 ? l + 0.6 * (in - l) : in;
      double wc = k == 1 || k == 3 ? fmin(fmax(in, -0.1), 0.9) : in;
      double wv = k == 0 || k == 3 ? 1 - in : in;
      es = fmax(es, fabs(plane(&rs, names[k])[i] - ws));
      ec = fmax(ec, fabs(plane(&rc, names[k])[i] - wc));
      ev = fmax(ev, fabs(plane(&rv, names[k])[i] - wv));
    }
  }
  CHECK(es <= 1e-6);
  CHECK(ec <= 1e-7); /* min, max are floats on the device */
  CHECK(ev <= 1e-7);
  free(rs.px);
  free(rc.px);
  free(rv.px);
  free(px);
}

static void shuffle_routes_and_windows(void) {
  static const char *const rgba[4] = {"R", "G", "B", "A"};
  reel_box_t disp = {0, 0, 48, 24}, da = {0, 0, 32, 16}, db = {8, 4, 40, 20};
  int na = 32 * 16, nb = 32 * 16;
  float *pa = malloc(sizeof(float) * 4 * na), *pb = malloc(sizeof(float) * 4 * nb);
  for (int i = 0; i < 4 * na; i++) pa[i] = (float)uni(0, 1);
  for (int i = 0; i < 4 * nb; i++) pb[i] = (float)uni(0, 1);
  reel_node_t *a = read_of(4, rgba, da, disp, pa, 0), *b = read_of(4, rgba, db, disp, pb, 0);
  reel_node_t *n = reel_node_new(g, "Shuffle", __FILE__, __LINE__);
  CHECK(!reel_node_set_input(n, "a", a) && !reel_node_set_input(n, "b", b));
  CHECK(!reel_node_set_string(n, "out", "X=b.G, R=a.R,K=1,Z=0"));
  finish(n);
  result_t r = eval(n);
  CHECK(r.nch == 4 && !strcmp(r.clip->ch[0], "X") && !strcmp(r.clip->ch[2], "K"));
  CHECK(r.data[0] == 0 && r.data[1] == 0 && r.data[2] == 40 && r.data[3] == 20);
  int w = 40, h = 20, bad = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int i = y * w + x;
      int ina = x < 32 && y < 16, inb = x >= 8 && y >= 4 && x < 40 && y < 20;
      float wx = inb ? pb[1 * nb + (y - 4) * 32 + (x - 8)] : 0;
      float wr = ina ? pa[0 * na + y * 32 + x] : 0;
      bad += r.px[i] != wx || r.px[w * h + i] != wr || r.px[2 * w * h + i] != 1 ||
             r.px[3 * w * h + i] != 0;
    }
  CHECK(bad == 0);
  free(r.px);

  /* b unused: a's window; R,G,B of a with alpha dropped */
  reel_node_t *d = reel_node_new(g, "Shuffle", __FILE__, __LINE__);
  CHECK(!reel_node_set_input(d, "a", a));
  CHECK(!reel_node_set_string(d, "out", "R=a.R,G=a.G,B=a.B"));
  finish(d);
  r = eval(d);
  CHECK(r.nch == 3 && r.data[2] == 32 && r.data[3] == 16);
  CHECK(!memcmp(r.px, pa, sizeof(float) * 3 * na));
  free(r.px);
  free(pa);
  free(pb);
}

/* The chroma-recovery ground truth: source luma with reference chroma. */
static void shuffle_chroma_recovery(void) {
  float *src = frame_rgba(0.01, 1), *ref = frame_rgba(0.01, 1);
  reel_node_t *ys = colorspace(rgba_read(src), "linear_rec709", "ycbcr_709");
  reel_node_t *yr = colorspace(rgba_read(ref), "linear_rec709", "ycbcr_709");
  finish(ys);
  finish(yr);
  reel_node_t *sh = reel_node_new(g, "Shuffle", __FILE__, __LINE__);
  CHECK(!reel_node_set_input(sh, "a", ys) && !reel_node_set_input(sh, "b", yr));
  CHECK(!reel_node_set_string(sh, "out", "Y=a.Y,Cb=b.Cb,Cr=b.Cr,A=a.A"));
  finish(sh);
  reel_node_t *rgb = colorspace(sh, "ycbcr_709", "linear_rec709");
  finish(rgb);
  result_t r = eval(rgb);
  double err = 0;
  for (int i = 0; i < NPX; i++) {
    double s[3], f[3], o[3];
    for (int k = 0; k < 3; k++) s[k] = r709_enc(src[k * NPX + i]), f[k] = r709_enc(ref[k * NPX + i]);
    double y = 0.2126 * s[0] + 0.7152 * s[1] + 0.0722 * s[2];
    double yf = 0.2126 * f[0] + 0.7152 * f[1] + 0.0722 * f[2];
    double cb = (f[2] - yf) / 1.8556, cr = (f[0] - yf) / 1.5748;
    o[0] = y + 1.5748 * cr;
    o[2] = y + 1.8556 * cb;
    o[1] = (y - 0.2126 * o[0] - 0.0722 * o[2]) / 0.7152;
    const char *names[3] = {"R", "G", "B"};
    for (int k = 0; k < 3; k++) err = fmax(err, fabs(plane(&r, names[k])[i] - r709_dec(o[k])));
  }
  if (err > 2e-6) fprintf(stderr, "  chroma recovery err %.3g\n", err);
  CHECK(err <= 2e-6);
  CHECK(alpha_untouched(&r, src));
  free(r.px);
  free(src);
  free(ref);
}

/* Runs fn with stdout in a file; returns how many lines contain `what`. */
static int count_stdout(reel_node_t *n, const char *what) {
  char path[128];
  snprintf(path, sizeof path, "%s/explain.txt", dir);
  fflush(stdout);
  int saved = dup(1), fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  dup2(fd, 1);
  close(fd);
  reel_render_opts_t o = {.first = 1, .last = 0, .no_disk_cache = 1, .explain = 1};
  float *px = NULL;
  int nch, data[4], disp[4];
  int rc = reel_eval_image(g, n, 1, &o, 1, &px, &nch, data, disp);
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  free(px);
  CHECK(rc == 0);
  FILE *f = fopen(path, "r");
  char line[4096];
  int count = 0;
  while (f && fgets(line, sizeof line, f)) count += strstr(line, what) != NULL;
  if (f) fclose(f);
  return count;
}

static void chain_fuses_into_one_kernel(void) {
  float *px = frame_rgba(0.001, 2);
  reel_node_t *src = rgba_read(px), *chain[6];
  chain[0] = colorspace(src, "acescg", "acescct");
  finish(chain[0]);
  chain[1] = node("CDL", chain[0]);
  CHECK(!reel_node_set_number(chain[1], "slope", 0, 1.0123) &&
        !reel_node_set_number(chain[1], "power", 2, 1.1) &&
        !reel_node_set_number(chain[1], "saturation", 0, 0.9));
  finish(chain[1]);
  chain[2] = node("Grade", chain[1]);
  CHECK(!reel_node_set_number(chain[2], "gain", 1, 1.07) &&
        !reel_node_set_number(chain[2], "gamma", 0, 1.2));
  finish(chain[2]);
  chain[3] = node("Saturation", chain[2]);
  CHECK(!reel_node_set_number(chain[3], "saturation", 0, 1.15));
  finish(chain[3]);
  chain[4] = node("Clamp", chain[3]);
  CHECK(!reel_node_set_number(chain[4], "max", 0, 0.95));
  finish(chain[4]);
  chain[5] = colorspace(chain[4], "acescct", "acescg");
  finish(chain[5]);
  /* the whole chain first: nothing upstream is cached, so the five nodes
   * above the last are fused into its kernel (explain says so per node) */
  CHECK(count_stdout(chain[5], "fused into") == 5);
  result_t fused = eval(chain[5]);
  /* then one node at a time: each finds its input in memory, runs alone */
  result_t step = {0};
  for (int k = 0; k < 6; k++) {
    free(step.px);
    CHECK(count_stdout(chain[k], "fused into") == 0);
    step = eval(chain[k]);
  }
  double err = 0;
  for (int i = 0; i < 4 * NPX; i++) err = fmax(err, fabs(fused.px[i] - step.px[i]));
  fprintf(stderr, "  fused vs node by node: max abs difference %.3g\n", err);
  CHECK(err <= 1e-6);
  free(fused.px);
  free(step.px);
  free(px);
}

static void keyframed_gain(void) {
  static const char *const rgba[4] = {"R", "G", "B", "A"};
  float px[4 * NPX];
  for (int i = 0; i < 4 * NPX; i++) px[i] = 0.5f;
  reel_box_t b = {0, 0, W, H};
  reel_node_t *n = node("Grade", read_of(4, rgba, b, b, px, 1));
  double f[2] = {1, 10}, v[2] = {1, 2};
  CHECK(!reel_node_set_curve(n, "gain", 0, 2, f, v, "linear"));
  finish(n);
  result_t r1 = eval_at(n, 1), r10 = eval_at(n, 10);
  CHECK_NEAR(plane(&r1, "R")[0], 0.5, 1e-7);
  CHECK_NEAR(plane(&r10, "R")[0], 1.0, 1e-7);
  CHECK_NEAR(plane(&r10, "G")[0], 0.5, 1e-7);
  free(r1.px);
  free(r10.px);
}

static int fails_with(reel_node_t *n, const char *part) {
  int ok = reel_node_finish(n) == -1 && strstr(reel_error_get(), part) != NULL;
  if (!ok) fprintf(stderr, "  got: %s\n", reel_error_get());
  reel_error_clear();
  return ok;
}

static void errors_are_clear(void) {
  float *px = frame_rgba(0, 1);
  reel_node_t *src = rgba_read(px);
  CHECK(fails_with(colorspace(src, "linear_rec709", "srgb_bogus"), "is not an encoding"));
  CHECK(fails_with(colorspace(src, "ycbcr_709", "srgb"), "no channel 'Y'"));
  reel_node_t *n = colorspace(src, "cineon", "linear");
  CHECK(!reel_node_set_number(n, "cineon_white", 0, 90));
  CHECK(fails_with(n, "cineon_white"));
  n = node("Invert", src);
  CHECK(!reel_node_set_string(n, "channels", "R,,B"));
  CHECK(fails_with(n, "channel names separated by commas"));
  n = node("Grade", src);
  CHECK(!reel_node_set_number(n, "whitepoint", 1, 0));
  CHECK(fails_with(n, "whitepoint and blackpoint are equal"));
  n = reel_node_new(g, "Shuffle", __FILE__, __LINE__);
  CHECK(!reel_node_set_input(n, "a", src) && !reel_node_set_string(n, "out", "R=b.R"));
  CHECK(fails_with(n, "not connected"));
  CHECK(!reel_node_set_string(n, "out", "R=a.Q"));
  CHECK(fails_with(n, "no channel 'Q'"));
  CHECK(!reel_node_set_string(n, "out", "R=a.R,R=a.G"));
  CHECK(fails_with(n, "twice"));
  CHECK(!reel_node_set_string(n, "out", "R=c.R"));
  CHECK(fails_with(n, "NAME=SOURCE"));
  static const char *const five[5] = {"R", "G", "B", "A", "Z"};
  reel_box_t box = {0, 0, W, H};
  float *px5 = calloc(5 * NPX, sizeof(float));
  n = node("Invert", read_of(5, five, box, box, px5, 0));
  CHECK(!reel_node_set_string(n, "channels", "R,G,B,A,Z"));
  CHECK(fails_with(n, "at most 4 channels"));
  free(px5);
  reel_node_t *ycc = colorspace(src, "linear", "ycbcr_709");
  finish(ycc);
  CHECK(fails_with(node("Saturation", ycc), "no channel 'R'"));
  free(px);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/reel_test_color_XXXXXX");
  if (!mkdtemp(dir)) return 1;
  g = reel_graph_new();
  RUN(transfer_closed_form);
  RUN(transfers_match_reference);
  RUN(round_trips);
  RUN(matrices_match_published);
  RUN(ycbcr_closed_form);
  RUN(grade_matches_nuke_formula);
  RUN(cdl_matches_asc);
  RUN(saturation_clamp_invert);
  RUN(shuffle_routes_and_windows);
  RUN(shuffle_chroma_recovery);
  RUN(chain_fuses_into_one_kernel);
  RUN(keyframed_gain);
  RUN(errors_are_clear);
  reel_graph_free(g);
  reel_shutdown();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
  TEST_END();
}
