/* MatchGrade: fits a Grade that maps `source` to `target` from the pixel
 * pairs of a few frames (engine/gradefit.c): a 3D LUT on a log shaper
 * (log2 range or ACEScct, the way restorers build LUTs), an ASC CDL, or a
 * 3x3 matrix with offset. Pixels are subsampled deterministically (a fixed
 * permutation of each frame's pixels), weighted by an optional mask. The
 * result is one value for all frames, kept in the disk cache: its key
 * covers the frames' keys and every parameter. */
#include "color.h"
#include "grade.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  reel_list_t frames;
  int method, size, shaper;
  double log2_min, log2_max, log2_grey, smooth, prior;
  int samples, interp;
} matchgrade_t;

static const char *const methods[] = {"lut3d", "cdl", "matrix", NULL};
static const char *const shapers[] = {"log2", "acescct", "linear", NULL};
static const char *const interps[] = {"trilinear", "tetrahedral", NULL};

static const reel_param_desc_t params[] = {
    {"frames", REEL_P_LIST, 1, offsetof(matchgrade_t, frames), {0}, NULL, 1, 0, NULL,
     "frames whose source/target pixel pairs are fitted (a few, spread over the shot)",
     REEL_PF_STATIC | REEL_PF_REQUIRED},
    REEL_PENUM(matchgrade_t, method, methods, "lut3d",
               "lut3d: a 3D LUT on a shaper; cdl: ASC slope, offset, power, saturation; matrix: "
               "3x3 matrix + offset"),
    {"size", REEL_P_INT, 1, offsetof(matchgrade_t, size), {33}, NULL, 2, 129, NULL,
     "lut3d: entries per axis (17-65 usual; 33 is a common exchange size)", REEL_PF_STATIC},
    REEL_PENUM(matchgrade_t, shaper, shapers, "log2",
               "lut3d: the curve the lattice is spaced on: log2 (log2_min..log2_max stops "
               "around log2_grey), acescct (ACES S-2016-001), or linear ([0, 1])"),
    {"log2_min", REEL_P_NUMBER, 1, offsetof(matchgrade_t, log2_min), {-6.5}, NULL, -64, 64, NULL,
     "log2 shaper: stops below log2_grey at the lattice's first entry", REEL_PF_STATIC},
    {"log2_max", REEL_P_NUMBER, 1, offsetof(matchgrade_t, log2_max), {6.5}, NULL, -64, 64, NULL,
     "log2 shaper: stops above log2_grey at the lattice's last entry", REEL_PF_STATIC},
    {"log2_grey", REEL_P_NUMBER, 1, offsetof(matchgrade_t, log2_grey), {0.18}, NULL, 1e-6, 1e6,
     NULL, "log2 shaper: the linear mid grey", REEL_PF_STATIC},
    {"smooth", REEL_P_NUMBER, 1, offsetof(matchgrade_t, smooth), {0.02}, NULL, 1e-6, 1e6, NULL,
     "lut3d: weight of the smoothness term (squared differences of neighbouring entries) "
     "against the data of an average entry; higher is smoother and fills gaps more flatly",
     REEL_PF_STATIC},
    {"prior", REEL_P_NUMBER, 1, offsetof(matchgrade_t, prior), {1e-4}, NULL, 0, 1e6, NULL,
     "lut3d: pull of every entry toward the identity; far from the data the LUT returns to "
     "the identity over about sqrt(smooth / prior) entries",
     REEL_PF_STATIC},
    {"samples", REEL_P_INT, 1, offsetof(matchgrade_t, samples), {524288}, NULL, 1024, 1 << 26,
     NULL, "most pixel pairs taken from each frame (a fixed, evenly spread subset)",
     REEL_PF_STATIC},
    REEL_PENUM(matchgrade_t, interp, interps, "tetrahedral",
               "lut3d: the interpolation the LUT is fitted for (set ApplyGrade's `interp` alike)"),
};

static const reel_port_desc_t inputs[] = {
    {"source", REEL_V_IMAGE, 0, "the images as they are (R, G, B)"},
    {"target", REEL_V_IMAGE, 0, "the same frames as they should look (R, G, B)"},
    {"mask", REEL_V_IMAGE, 1,
     "optional weights in [0, 1] (its A channel, else its first): 0 leaves a pixel out"},
};

static int check(reel_node_t *n, const void *pv) {
  const matchgrade_t *p = pv;
  if (!p->frames.n) {
    reel_node_error(n, REEL_EUSER, "frames is empty: list a few frames to fit on");
    return -1;
  }
  for (int i = 0; i < p->frames.n; i++)
    if (p->frames.v[i] != (int)p->frames.v[i]) {
      reel_node_error(n, REEL_EUSER, "frames: %g is not a whole frame number", p->frames.v[i]);
      return -1;
    }
  if (p->shaper == 0 && !(p->log2_max > p->log2_min)) {
    reel_node_error(n, REEL_EUSER, "log2_max (%g) must be above log2_min (%g)", p->log2_max,
                    p->log2_min);
    return -1;
  }
  return 0;
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const matchgrade_t *p = pv;
  if (reel_check_frame_list(n, &p->frames, in, 3)) return -1;
  memset(out, 0, sizeof *out);
  out->type = REEL_V_GRADE;
  out->constant = 1;
  return 0;
}

static int frames(reel_node_t *n, const void *pv, int frame, reel_reqs_t *q) {
  const matchgrade_t *p = pv;
  const reel_clip_t *mc = reel_node_input_clip(n, 2);
  for (int i = 0; i < p->frames.n; i++) {
    int f = (int)p->frames.v[i];
    if (reel_reqs_add(q, 0, f) || reel_reqs_add(q, 1, f) ||
        (mc && reel_reqs_add(q, 2, mc->constant ? REEL_FRAME_CONST : f)))
      return -1;
  }
  return 0;
}

static float *host(reel_image_t *im) {
  float *h = malloc(reel_image_bytes(im) ? reel_image_bytes(im) : 1);
  if (!h) reel_error(REEL_EIO, "out of memory");
  else if (reel_image_download(im, h)) {
    free(h);
    return NULL;
  }
  return h;
}

static size_t gcd(size_t a, size_t b) {
  while (b) {
    size_t t = a % b;
    a = b, b = t;
  }
  return a;
}

/* Adds up to p->samples pairs of frame i: pixel k of the overlap of the
 * data windows is taken in the order k step mod count, step coprime with
 * count near count / golden ratio, which spreads any prefix evenly. */
static int gather(reel_job_t *j, const matchgrade_t *p, int i, int per, reel_gsamples_t *s) {
  reel_node_t *n = j->node;
  reel_image_t *im[3] = {reel_image_cast(j->in[per * i]), reel_image_cast(j->in[per * i + 1]),
                         per > 2 ? reel_image_cast(j->in[per * i + 2]) : NULL};
  int f = (int)p->frames.v[i], rgb[2][3], mch = 0, rc = -1;
  if (!im[0] || !im[1] || (per > 2 && !im[2])) {
    reel_node_error(n, REEL_EINTERNAL, "frame %d: an input is not an image", f);
    return -1;
  }
  if (reel_check_same_size(n, im[0], im[1]) || reel_color_rgb(n, im[0]->nch, im[0]->ch, rgb[0]) ||
      reel_color_rgb(n, im[1]->nch, im[1]->ch, rgb[1]))
    return -1;
  if (im[2]) {
    int a = reel_image_find_channel(im[2], "A");
    mch = a >= 0 ? a : 0;
  }
  reel_box_t box = reel_box_intersect(im[0]->data, im[1]->data);
  if (im[2]) box = reel_box_intersect(box, im[2]->data);
  size_t bw = (size_t)reel_box_w(box), count = bw * (size_t)reel_box_h(box);
  if (!count) {
    reel_node_error(n, REEL_EUSER, "frame %d: the data windows of source, target%s do not "
                    "overlap: check crops and alignment", f, im[2] ? " and mask" : "");
    return -1;
  }
  float *h[3] = {host(im[0]), host(im[1]), im[2] ? host(im[2]) : NULL};
  if (!h[0] || !h[1] || (im[2] && !h[2])) goto out;
  size_t take = count < (size_t)p->samples ? count : (size_t)p->samples;
  size_t step = (size_t)((double)count * 0.6180339887498949) | 1;
  while (gcd(step, count) != 1) step += 2;
  for (size_t k = 0, at = 0; k < take; k++, at = (at + step) % count) {
    int x = box.x0 + (int)(at % bw), y = box.y0 + (int)(at / bw);
    float v[2][3], w = 1;
    for (int m = 0; m < 2; m++) {
      size_t w_ = (size_t)reel_image_w(im[m]);
      size_t o = (size_t)(y - im[m]->data.y0) * w_ + (size_t)(x - im[m]->data.x0);
      for (int c = 0; c < 3; c++) v[m][c] = h[m][(size_t)rgb[m][c] * im[m]->plane + o];
    }
    if (im[2]) {
      size_t o = (size_t)(y - im[2]->data.y0) * (size_t)reel_image_w(im[2]) +
                 (size_t)(x - im[2]->data.x0);
      w = h[2][(size_t)mch * im[2]->plane + o];
      w = w > 0 ? (w < 1 ? w : 1) : 0;
      if (!(w > 0)) continue;
    }
    if (reel_gsamples_add(s, v[0], v[1], w)) goto out;
  }
  rc = 0;
out:
  for (int m = 0; m < 3; m++) free(h[m]);
  return rc;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const matchgrade_t *p = pv;
  reel_node_t *n = j->node;
  int per = reel_node_input_clip(n, 2) ? 3 : 2, rc = -1;
  reel_gsamples_t s = {0};
  reel_grade_t *g = NULL;
  double t0 = now();
  if (j->nin != per * p->frames.n) {
    reel_node_error(n, REEL_EINTERNAL, "got %d inputs for %d frames", j->nin, p->frames.n);
    return -1;
  }
  for (int i = 0; i < p->frames.n; i++)
    if (gather(j, p, i, per, &s)) goto out;
  reel_gfit_opts_t o = {(reel_gfit_method_t)p->method, p->size, p->shaper == 2 ? -1 : p->shaper,
                        p->log2_min, p->log2_max, p->log2_grey, p->smooth, p->prior,
                        p->interp == 1};
  reel_gfit_stats_t st;
  if (!(g = reel_grade_fit(&s, &o, &st))) {
    reel_error_prefix("%s:", reel_node_label(n));
    goto out;
  }
  double secs = now() - t0;
  char what[512], hex[REEL_KEY_HEX], info[2048];
  reel_grade_describe(g, what, sizeof what);
  reel_key_hex(&j->key, hex);
  /* no times here: the value must be the same on every computation */
  int at = snprintf(info, sizeof info,
                    "fitted by: %s\nfit: %s\nmethod: %s\nsamples: %zu\nrms: %.6g\nkey: %s\n"
                    "reel_version: %s\nframes:",
                    reel_node_label(n), what, methods[p->method], st.used, st.rms, hex,
                    reel_version());
  for (int i = 0; i < p->frames.n && at < (int)sizeof info - 16; i++)
    at += snprintf(info + at, sizeof info - (size_t)at, " %d", (int)p->frames.v[i]);
  if (reel_grade_set_info(g, info)) goto out;
  fprintf(stderr, "reel: %s: %s from %zu samples of %d frames: rms %.5f (%d iterations, %.2f s)\n",
          reel_node_label(n), what, st.used, p->frames.n, st.rms, st.iterations, secs);
  *out = &g->v;
  g = NULL;
  rc = 0;
out:
  reel_grade_unref(g);
  reel_gsamples_free(&s);
  return rc;
}

const reel_node_desc_t reel_node_matchgrade = {
    .name = "MatchGrade",
    .version = 1,
    .summary = "Fit a Grade (3D LUT on a log shaper, CDL, or matrix) from source/target frames",
    .doc = "Pairs the pixels of `source` and `target` at `frames` (inside both data windows and "
           "the mask's, up to `samples` per frame) and fits a Grade mapping one to the other. "
           "lut3d: a size^3 LUT whose lattice is spaced on the shaper, fitted by least squares "
           "with the weights of `interp` and a smoothness term on its departure from the identity, "
           "so entries without samples are filled smoothly and return to the identity far "
           "from the data (solved by conjugate gradients in double, coarse lattices first). "
           "cdl: slope, offset, power and saturation by Levenberg-Marquardt (OpenColorIO's "
           "no-clamp style, as .cc files apply). matrix: 3x3 and offset by linear least "
           "squares. The fit is deterministic; its key covers the frames' keys and every "
           "parameter, and the Grade is kept in the disk cache. The figures (samples, rms "
           "residual, time) go to stderr. Apply it with ApplyGrade; Write saves it as .cube, "
           ".cc, .ccc or .cdl (docs/grading.md).",
    .inputs = inputs,
    .ninputs = 3,
    .output = REEL_V_GRADE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(matchgrade_t),
    .flags = REEL_NF_CONSTANT | REEL_NF_DISK,
    .check = check,
    .clip = clip,
    .frames = frames,
    .eval = eval,
};
