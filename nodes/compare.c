/* Compare: image-quality numbers between A and B over a region, attached as
 * metadata to an image that passes on (A unchanged by default). PSNR over
 * R'G'B' (peak 1), PSNR over BT.709 Cb/Cr, SSIM (Wang et al. 2004; the mean
 * over R, G and B of skimage's structural_similarity with gaussian_weights,
 * sigma 1.5, population covariance, data range 1), and the mean and 95th
 * percentile of CIEDE2000 with the inputs taken as sRGB-encoded (D65).
 * Kernels: opencl/reduce.cl. Sums run on the device; the percentile is an
 * exact selection on the host over the downloaded CIEDE2000 map. */
#include "compare.h"
#include "node.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  double region[4];
  int output;
} compare_t;

enum { OUT_A, OUT_DIFFERENCE, OUT_DELTAE };
static const char *const out_names[] = {"A", "difference", "deltaE", NULL};

static const reel_param_desc_t params[] = {
    REEL_PBOX(compare_t, region,
              "region measured: {x0, y0, x1, y1} in pixels (x1, y1 exclusive), y down; "
              "default (all 0): A's display window. Outside its data window an input is 0",
              0, 0, 0, 0),
    REEL_PENUM(compare_t, output, out_names, "A",
               "the image that passes on with the numbers: A unchanged; |A - B| of R, G, B "
               "over the region; or the CIEDE2000 map of the region (one channel, deltaE)"),
};

static const reel_port_desc_t inputs[] = {
    {"A", REEL_V_IMAGE, 0, "image measured (R, G, B), passed on"},
    {"B", REEL_V_IMAGE, 0, "reference (R, G, B)"},
};

#define NGROUPS 64
#define LOCAL 256

static reel_box_t region_of(const compare_t *p, reel_box_t display) {
  if (!p->region[0] && !p->region[1] && !p->region[2] && !p->region[3]) return display;
  return (reel_box_t){(int)lround(p->region[0]), (int)lround(p->region[1]),
                      (int)lround(p->region[2]), (int)lround(p->region[3])};
}

static int check(reel_node_t *n, const void *pv) {
  const compare_t *p = pv;
  reel_box_t r = region_of(p, (reel_box_t){0, 0, 1, 1});
  if (!reel_box_empty(r)) return 0;
  reel_node_error(n, REEL_EUSER,
                  "region {%g, %g, %g, %g} is empty: give {x0, y0, x1, y1} with x1 > x0 and "
                  "y1 > y0",
                  p->region[0], p->region[1], p->region[2], p->region[3]);
  return -1;
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const compare_t *p = pv;
  *out = in[0].constant && !in[1].constant ? in[1] : in[0];
  out->display = in[0].display;
  if (p->output == OUT_A) {
    out->nch = in[0].nch;
    memcpy(out->ch, in[0].ch, sizeof out->ch);
  } else {
    static const char *const rgb[] = {"R", "G", "B"};
    out->nch = p->output == OUT_DELTAE ? 1 : 3;
    for (int c = 0; c < out->nch; c++)
      snprintf(out->ch[c], REEL_CHNAME, "%s", p->output == OUT_DELTAE ? "deltaE" : rgb[c]);
  }
  return 0;
}

/* Adds src[0..n) on the device, the partial sums on the host. */
static int sum(reel_cl_t *cl, cl_mem src, size_t n, cl_mem part, double *out) {
  cl_kernel k = reel_cl_kernel(cl, "reduce", "reduce_sum");
  int nn = (int)n;
  size_t g = NGROUPS * LOCAL, l = LOCAL;
  float p[NGROUPS];
  if (!k ||
      reel_cl_args(k, 4, REEL_ARG(src), REEL_ARG(nn), REEL_ARG(part),
                   REEL_LOCAL(LOCAL * sizeof(float))) ||
      reel_cl_run(cl, k, 1, &g, &l) || reel_cl_download(cl, part, 0, p, sizeof p))
    return -1;
  *out = 0;
  for (int i = 0; i < NGROUPS; i++) *out += p[i];
  return 0;
}

/* The k-th smallest of v[0..n) (Hoare selection; reorders v). */
static float kth(float *v, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    float piv = v[lo + (hi - lo) / 2];
    size_t i = lo, j = hi;
    for (;;) {
      while (v[i] < piv) i++;
      while (v[j] > piv) j--;
      if (i >= j) break;
      float t = v[i];
      v[i++] = v[j];
      v[j--] = t;
    }
    if (k <= j) hi = j;
    else lo = j + 1;
  }
  return v[k];
}

/* The 95th percentile as numpy.percentile's default (linear between the
 * order statistics around 0.95 (n - 1)), over the finite values. */
static double p95(float *v, size_t n) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(v[i])) v[m++] = v[i];
  if (!m) return NAN;
  double pos = 0.95 * (double)(m - 1);
  size_t lo = (size_t)pos;
  double a = kth(v, m, lo), b = a;
  for (size_t i = lo + 1; i < m; i++) /* after selection, v[lo+1..) >= v[lo] */
    if (i == lo + 1 || v[i] < b) b = v[i];
  return a + (b - a) * (pos - (double)lo);
}

static int run1(reel_cl_t *cl, cl_kernel k, size_t n) {
  size_t l = LOCAL;
  return reel_cl_run(cl, k, 1, &n, &l);
}

/* Looks up kernel `name` of the family, sets its arguments, runs it over n
 * items (a cl_kernel k must be in scope). Nonzero on failure. */
#define RUN1(name, n, nargs, ...)                                                              \
  (!(k = reel_cl_kernel(cl, "reduce", name)) || reel_cl_args(k, nargs, __VA_ARGS__) ||          \
   run1(cl, k, n))

/* Reports about node (NULL: plainly, for reel_compare_metrics). */
static void fail(const reel_node_t *node, reel_errclass_t cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(const reel_node_t *node, reel_errclass_t cls, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (node)
    reel_node_error(node, cls, "%s", msg);
  else
    reel_error(cls, "%s", msg);
}

/* The measurements of a against b over region r (channels ca, cb: R, G, B).
 * de_out (n floats) receives the CIEDE2000 map and diff_out (3n floats) |a - b|
 * when given. out: psnr, psnr_chroma, ssim, de2000_mean, de2000_p95. */
static int measure(const reel_node_t *node, const reel_image_t *a, const reel_image_t *b, const int ca[3],
                   const int cb[3], reel_box_t r, cl_mem de_out, cl_mem diff_out,
                   double out[REEL_CMP_N]) {
  int w = reel_box_w(r), h = reel_box_h(r);
  size_t n = (size_t)w * h, w2 = w > 10 ? (size_t)w - 10 : 0, h2 = h > 10 ? (size_t)h - 10 : 0;
  if (3 * n > INT_MAX / 5) {
    fail(node, REEL_EUSER, "region of %dx%d is too large; measure parts of it", w, h);
    return -1;
  }
  reel_cl_t *cl = a->cl;
  enum { XA, XB, LA, LB, DE, SE, SC, TMP, SS, PART, NBUF };
  size_t floats[NBUF] = {3 * n, 3 * n, 3 * n, 3 * n, de_out ? 0 : n, n, n,
                         5 * w2 * 3 * h, 3 * w2 * h2, NGROUPS}; /* 0: not needed */
  cl_mem m[NBUF] = {0};
  float *de = NULL;
  int rc = -1;
  for (int i = 0; i < NBUF; i++)
    if (floats[i] && !(m[i] = reel_cl_alloc(cl, floats[i] * sizeof(float)))) goto out;
  /* the crops of the region, then the per-pixel measures */
  for (int s = 0; s < 2; s++) {
    const reel_image_t *x = s ? b : a;
    const int *ch = s ? cb : ca;
    cl_kernel ke = reel_cl_kernel(cl, "reduce", "compare_extract");
    int sw = reel_image_w(x), sh = reel_image_h(x);
    int dx = r.x0 - x->data.x0, dy = r.y0 - x->data.y0;
    size_t g[2] = {(size_t)w, (size_t)h}, l[2] = {LOCAL, 1};
    if (!ke ||
        reel_cl_args(ke, 11, REEL_ARG(x->mem), REEL_ARG(sw), REEL_ARG(sh), REEL_ARG(dx),
                     REEL_ARG(dy), REEL_ARG(ch[0]), REEL_ARG(ch[1]), REEL_ARG(ch[2]),
                     REEL_ARG(m[XA + s]), REEL_ARG(w), REEL_ARG(h)) ||
        reel_cl_run(cl, ke, 2, g, l))
      goto out;
  }
  int ni = (int)n, n3 = (int)(3 * n);
  cl_mem dem = de_out ? de_out : m[DE];
  cl_kernel k;
  if (RUN1("compare_err", n, 5, REEL_ARG(m[XA]), REEL_ARG(m[XB]), REEL_ARG(ni),
           REEL_ARG(m[SE]), REEL_ARG(m[SC])) ||
      RUN1("compare_lab", n, 3, REEL_ARG(m[XA]), REEL_ARG(ni), REEL_ARG(m[LA])) ||
      RUN1("compare_lab", n, 3, REEL_ARG(m[XB]), REEL_ARG(ni), REEL_ARG(m[LB])) ||
      RUN1("compare_de2000", n, 4, REEL_ARG(m[LA]), REEL_ARG(m[LB]), REEL_ARG(ni),
           REEL_ARG(dem)))
    goto out;
  if (diff_out && RUN1("compare_absdiff", 3 * n, 4, REEL_ARG(m[XA]), REEL_ARG(m[XB]),
                       REEL_ARG(n3), REEL_ARG(diff_out)))
    goto out;
  double se, sc, sde, sss = NAN;
  if (sum(cl, m[SE], n, m[PART], &se) || sum(cl, m[SC], n, m[PART], &sc) ||
      sum(cl, dem, n, m[PART], &sde))
    goto out;
  if (w2 && h2) { /* SSIM: the planes of a region stacked as one image of 3h rows */
    cl_kernel kh = reel_cl_kernel(cl, "reduce", "compare_ssim_h");
    cl_kernel kv = reel_cl_kernel(cl, "reduce", "compare_ssim_v");
    int rows = 3 * h, iw2 = (int)w2, np = 3;
    size_t gh[2] = {w2, (size_t)rows}, gv[2] = {w2, 3 * h2}, l[2] = {LOCAL, 1};
    if (!kh || !kv ||
        reel_cl_args(kh, 5, REEL_ARG(m[XA]), REEL_ARG(m[XB]), REEL_ARG(w), REEL_ARG(rows),
                     REEL_ARG(m[TMP])) ||
        reel_cl_run(cl, kh, 2, gh, l) ||
        reel_cl_args(kv, 5, REEL_ARG(m[TMP]), REEL_ARG(iw2), REEL_ARG(h), REEL_ARG(np),
                     REEL_ARG(m[SS])) ||
        reel_cl_run(cl, kv, 2, gv, l) || sum(cl, m[SS], 3 * w2 * h2, m[PART], &sss))
      goto out;
    sss /= (double)(3 * w2 * h2);
  }
  if (!(de = malloc(n * sizeof *de))) {
    fail(node, REEL_EIO, "out of memory");
    goto out;
  }
  if (reel_cl_download(cl, dem, 0, de, n * sizeof *de)) goto out;
  out[REEL_CMP_PSNR] = 10 * log10(3.0 * (double)n / se);
  out[REEL_CMP_PSNR_CHROMA] = 10 * log10(2.0 * (double)n / sc);
  out[REEL_CMP_SSIM] = sss;
  out[REEL_CMP_DE_MEAN] = sde / (double)n;
  out[REEL_CMP_DE_P95] = p95(de, n);
  rc = 0;
out:
  for (int i = 0; i < NBUF; i++) reel_cl_release(cl, m[i]);
  free(de);
  return rc;
}

/* The indices of R, G, B in im, or -1 with an error naming the input. */
static int rgb_channels(const reel_node_t *node, const reel_image_t *im, const char *what,
                        int ch[3]) {
  static const char *const rgb[] = {"R", "G", "B"};
  for (int c = 0; c < 3; c++)
    if ((ch[c] = reel_image_find_channel(im, rgb[c])) < 0) {
      fail(node, REEL_EUSER, "input '%s' has no channel %s; use Shuffle", what, rgb[c]);
      return -1;
    }
  return 0;
}

int reel_compare_metrics(const reel_image_t *a, const reel_image_t *b, reel_box_t region,
                         double out[REEL_CMP_N]) {
  int ca[3], cb[3];
  if (rgb_channels(NULL, a, "A", ca) || rgb_channels(NULL, b, "B", cb)) return -1;
  if (a->cl != b->cl) {
    reel_error(REEL_EINTERNAL, "Compare: the images live on different devices");
    return -1;
  }
  if (reel_box_empty(region)) {
    reel_error(REEL_EUSER, "Compare: the region is empty");
    return -1;
  }
  return measure(NULL, a, b, ca, cb, region, NULL, NULL, out);
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const compare_t *p = pv;
  reel_node_t *node = j->node;
  reel_image_t *a = reel_job_image(j, 0), *b = reel_job_image(j, 1), *im = NULL;
  if (!a || !b || reel_check_same_size(node, a, b)) return -1;
  int ca[3], cb[3];
  if (rgb_channels(node, a, "A", ca) || rgb_channels(node, b, "B", cb)) return -1;
  reel_box_t r = region_of(p, a->display);
  if (reel_box_empty(r)) return check(node, p);
  int rc = -1;
  static const char *const rgb[] = {"R", "G", "B"};
  const char *names[3] = {"deltaE"};
  if (p->output == OUT_A) {
    im = reel_image_new_like(a);
  } else {
    if (p->output == OUT_DIFFERENCE)
      for (int c = 0; c < 3; c++) names[c] = rgb[c];
    im = reel_image_new(a->cl, p->output == OUT_DELTAE ? 1 : 3, names, r, a->display);
  }
  if (!im || (p->output != OUT_A && reel_meta_copy(&im->meta, &a->meta))) goto out;
  double v[REEL_CMP_N];
  if (measure(node, a, b, ca, cb, r, p->output == OUT_DELTAE ? im->mem : NULL,
              p->output == OUT_DIFFERENCE ? im->mem : NULL, v))
    goto out;
  if (p->output == OUT_A && reel_cl_copy(a->cl, a->mem, 0, im->mem, 0, reel_image_bytes(a)))
    goto out;
  static const char *const keys[REEL_CMP_N] = {"reel:psnr", "reel:psnr_chroma", "reel:ssim",
                                               "reel:de2000_mean", "reel:de2000_p95"};
  char txt[64];
  for (int i = 0; i < REEL_CMP_N; i++) {
    snprintf(txt, sizeof txt, "%.10g", v[i]);
    if (reel_meta_set(&im->meta, keys[i], txt)) goto out;
  }
  snprintf(txt, sizeof txt, "%d,%d,%d,%d", r.x0, r.y0, r.x1, r.y1);
  if (reel_meta_set(&im->meta, "reel:compare_region", txt)) goto out;
  *out = &im->v;
  im = NULL;
  rc = 0;
out:
  reel_image_unref(im);
  return rc;
}

const reel_node_desc_t reel_node_compare = {
    .name = "Compare",
    .version = 1,
    .summary = "PSNR, chroma PSNR, SSIM and CIEDE2000 between A and B, as metadata",
    .doc = "Attaches reel:psnr and reel:psnr_chroma (dB; inf when equal), reel:ssim (nan for "
           "a region under 11x11), reel:de2000_mean, reel:de2000_p95 and reel:compare_region. "
           "The inputs must have the same format and channels R, G, B. SSIM is the mean over "
           "R, G and B of the SSIM map at the pixels whose 11x11 window lies inside the "
           "region, as skimage.metrics.structural_similarity(channel_axis=2).",
    .inputs = inputs,
    .ninputs = 2,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(compare_t),
    .kernels = "reduce",
    .check = check,
    .clip = clip,
    .eval = eval,
};
