/* Sync: the frame offset between two sources of the same footage (a
 * reference that starts earlier, a dropped or doubled frame), from luma
 * thumbnails. Each frame becomes a 96x72 thumbnail (opencl/align.cl,
 * align_thumb); b's are registered onto a's (an affine fit of the two
 * clips' mean pictures with the alignment solver, so a different framing
 * does not read as motion), then each is normalised (zero mean, unit norm)
 * with its clip's mean picture taken out, so what is compared is what moves.
 * A frame pair's score is the mean of the correlations of those pictures
 * and of their changes from the frame before; the offset is the one with
 * the best mean score, the per-frame path a Viterbi walk over offsets that
 * pays `penalty` per frame of change. Constant: one answer for the clips. */
#include "align_util.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  double search[2];
  double penalty;
  int min_overlap;
} sync_t;

static const reel_param_desc_t params[] = {
    REEL_PVEC(sync_t, search, 2, -1e6, 1e6,
              "offsets to try {lo, hi}, counted from the clips' first frames lined up (their "
              "numbers may differ): b's frame f is compared with a's frame f + offset",
              -48, 48),
    REEL_PNUM(sync_t, penalty, 0.3, 0, 10,
              "score a frame-by-frame path pays for each frame its offset changes by (a dropped "
              "frame): higher keeps one offset through weak stretches"),
    REEL_PINT(sync_t, min_overlap, 8, 2, 100000, "fewest frames an offset must overlap to count"),
};

static const reel_port_desc_t inputs[] = {
    {"a", REEL_V_IMAGE, 0, "one source (the reference)"},
    {"b", REEL_V_IMAGE, 0, "the other (the source)"},
};

#define TW 96
#define TH 72
#define TN (TW * TH)
#define MAXBYTES ((size_t)1 << 30)

/* The offsets searched are base + search: base lines up the first frames. */
static int base_of(const reel_clip_t *a, const reel_clip_t *b) { return a->first - b->first; }

/* a's frames that some offset compares with b's */
static void a_range(const sync_t *p, const reel_clip_t *a, const reel_clip_t *b, int *lo, int *hi) {
  *lo = b->first + base_of(a, b) + (int)p->search[0];
  *hi = b->last + base_of(a, b) + (int)p->search[1];
  if (*lo < a->first) *lo = a->first;
  if (*hi > a->last) *hi = a->last;
}

static int check(reel_node_t *n, const void *pv) {
  const sync_t *p = pv;
  const reel_clip_t *a = reel_node_input_clip(n, 0), *b = reel_node_input_clip(n, 1);
  if (p->search[0] > p->search[1] || p->search[0] != floor(p->search[0]) ||
      p->search[1] != floor(p->search[1])) {
    reel_node_error(n, REEL_EUSER, "search {%g, %g}: give whole frames {lo, hi} with lo <= hi",
                    p->search[0], p->search[1]);
    return -1;
  }
  if (!a || !b) return 0;
  if (a->constant || b->constant) {
    reel_node_error(n, REEL_EUSER, "both inputs must be clips (frame sequences), not stills");
    return -1;
  }
  int lo, hi;
  a_range(p, a, b, &lo, &hi);
  size_t frames = (size_t)(hi >= lo ? hi - lo + 1 : 0) + (size_t)(b->last - b->first + 1);
  size_t each[2] = {(size_t)reel_box_w(a->display) * reel_box_h(a->display) * a->nch,
                    (size_t)reel_box_w(b->display) * reel_box_h(b->display) * b->nch};
  if (frames * (each[0] > each[1] ? each[0] : each[1]) * sizeof(float) > MAXBYTES) {
    reel_node_error(n, REEL_EUSER,
                    "Sync holds every frame it compares at once (%zu frames here): give it "
                    "thumbnails, e.g. reel.Reformat { clip, width = 64, height = 48, resize = "
                    "\"distort\", filter = \"box\" } on each input (reel sync does)",
                    frames);
    return -1;
  }
  return 0;
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const sync_t *p = pv;
  memset(out, 0, sizeof *out);
  out->constant = 1;
  out->nch = 1;
  snprintf(out->ch[0], REEL_CHNAME, "score");
  int rows = in[1].type != REEL_V_NONE ? in[1].last - in[1].first + 1 : 1;
  out->display = (reel_box_t){0, 0, (int)(p->search[1] - p->search[0]) + 1, rows};
  return 0;
}

static int frames(reel_node_t *n, const void *pv, int frame, reel_reqs_t *q) {
  const reel_clip_t *a = reel_node_input_clip(n, 0), *b = reel_node_input_clip(n, 1);
  int lo, hi;
  a_range(pv, a, b, &lo, &hi);
  for (int f = lo; f <= hi; f++)
    if (reel_reqs_add(q, 0, f)) return -1;
  for (int f = b->first; f <= b->last; f++)
    if (reel_reqs_add(q, 1, f)) return -1;
  return 0;
}

/* The thumbnail of an image: mean lumas of a TW x TH grid over its format. */
static int thumb(reel_job_t *j, const reel_image_t *im, cl_mem buf, float *out) {
  int c0 = reel_image_find_channel(im, "R"), c1 = reel_image_find_channel(im, "G"),
      c2 = reel_image_find_channel(im, "B");
  cl_float4 wt = {{0.2126f, 0.7152f, 0.0722f, 0}};
  if (c0 < 0 || c1 < 0 || c2 < 0) {
    c0 = c1 = c2 = 0;
    wt = (cl_float4){{1, 0, 0, 0}};
  }
  memset(out, 0, sizeof(float) * TN);
  if (im->mem) {
    reel_cl_t *cl = im->cl;
    cl_kernel k = reel_cl_kernel(cl, "align", "align_thumb");
    int sw = reel_image_w(im), sh = reel_image_h(im), dw = reel_box_w(im->display),
        dh = reel_box_h(im->display), tw = TW, th = TH;
    int ox = im->display.x0 - im->data.x0, oy = im->display.y0 - im->data.y0;
    size_t g[2] = {TW, TH}, l[2] = {TW, 1};
    if (!k ||
        reel_cl_args(k, 14, REEL_ARG(im->mem), REEL_ARG(sw), REEL_ARG(sh), REEL_ARG(c0),
                     REEL_ARG(c1), REEL_ARG(c2), REEL_ARG(wt), REEL_ARG(dw), REEL_ARG(dh),
                     REEL_ARG(ox), REEL_ARG(oy), REEL_ARG(buf), REEL_ARG(tw), REEL_ARG(th)) ||
        reel_cl_run(cl, k, 2, g, l) || reel_cl_download(cl, buf, 0, out, sizeof(float) * TN))
      return -1;
  }
  return 0;
}

/* Zero mean and unit norm over the valid cells (NaN ones become 0). */
static void unit(float *v) {
  double s = 0, ss = 0;
  int n = 0;
  for (int i = 0; i < TN; i++)
    if (!isnan(v[i])) s += v[i], n++;
  for (int i = 0; i < TN; i++) {
    v[i] = isnan(v[i]) || !n ? 0.0f : v[i] - (float)(s / n);
    ss += (double)v[i] * v[i];
  }
  for (int i = 0; i < TN; i++) v[i] = ss > 1e-12 ? (float)(v[i] / sqrt(ss)) : 0.0f;
}

static void mean_of(const float *t, int n, float *mean) {
  for (int i = 0; i < TN; i++) {
    double s = 0;
    for (int f = 0; f < n; f++) s += t[(size_t)f * TN + i];
    mean[i] = (float)(s / n);
  }
}

/* b's thumbnails resampled onto a's grid through m (b -> a, thumbnail
 * pixels), bilinear; cells whose source falls outside are NaN in both. */
static void register_b(float *ta, int na, float *tb, int nb, const reel_mat3_t *m) {
  reel_mat3_t inv;
  int *src = malloc(sizeof(int) * TN);
  float *wt = malloc(sizeof(float) * 4 * TN), *row = malloc(sizeof(float) * TN);
  if (!src || !wt || !row || reel_mat3_invert(*m, &inv)) goto out;
  for (int i = 0; i < TN; i++) {
    double x, y;
    src[i] = -1;
    if (!(reel_mat3_apply(&inv, i % TW + 0.5, i / TW + 0.5, &x, &y) > 0)) continue;
    double fx = floor(x - 0.5), fy = floor(y - 0.5), tx = x - 0.5 - fx, ty = y - 0.5 - fy;
    if (fx < 0 || fy < 0 || fx + 1 >= TW || fy + 1 >= TH) continue;
    src[i] = (int)fy * TW + (int)fx;
    wt[4 * i] = (float)((1 - tx) * (1 - ty)), wt[4 * i + 1] = (float)(tx * (1 - ty));
    wt[4 * i + 2] = (float)((1 - tx) * ty), wt[4 * i + 3] = (float)(tx * ty);
  }
  for (int f = 0; f < nb; f++) {
    float *t = tb + (size_t)f * TN;
    for (int i = 0; i < TN; i++) {
      int o = src[i];
      const float *w = wt + 4 * i;
      row[i] =
          o < 0 ? NAN : w[0] * t[o] + w[1] * t[o + 1] + w[2] * t[o + TW] + w[3] * t[o + TW + 1];
    }
    memcpy(t, row, sizeof(float) * TN);
  }
  for (int f = 0; f < na; f++)
    for (int i = 0; i < TN; i++)
      if (src[i] < 0) ta[(size_t)f * TN + i] = NAN;
out:
  free(src), free(wt), free(row);
}

/* Signatures of a clip's n thumbnails (NaN: cells that do not count): each
 * normalised, minus the clip's mean, renormalised (sig), and the change
 * from the frame before, normalised (dif; the first frame has none). */
static void signatures(float *t, int n, float *sig, float *dif) {
  float mean[TN];
  for (int f = 0; f < n; f++) unit(t + (size_t)f * TN);
  mean_of(t, n, mean);
  for (int f = 0; f < n; f++) {
    float *s = sig + (size_t)f * TN, *d = dif + (size_t)f * TN;
    double nd = 0;
    for (int i = 0; i < TN; i++) {
      s[i] = t[(size_t)f * TN + i] - mean[i];
      d[i] = f ? t[(size_t)f * TN + i] - t[(size_t)(f - 1) * TN + i] : 0.0f;
      nd += (double)d[i] * d[i];
    }
    unit(s);
    /* a still (or a doubled frame) has no change to compare */
    if (nd < 1e-8)
      memset(d, 0, sizeof(float) * TN);
    else
      unit(d);
  }
}

/* The affine map from b's thumbnails to a's, fitted on the mean pictures:
 * framing, scale and letterbox differences. Identity when it cannot tell. */
static int fit_framing(reel_job_t *j, const float *ta, int na, const float *tb, int nb,
                       reel_mat3_t *m) {
  reel_align_luma_t la = {TW, TH, {0, 0, TW, TH}, malloc(sizeof(float) * TN)};
  reel_align_luma_t lb = {TW, TH, {0, 0, TW, TH}, malloc(sizeof(float) * TN)};
  reel_align_params_t p = {.model = REEL_XF_AFFINE,
                           .iterations = 50,
                           .tolerance = 0.01,
                           .search_scale = 1.1,
                           .borders = 1,
                           .black = 0.04,
                           .normalize = 4};
  reel_align_result_t r;
  int rc = -1;
  *m = reel_mat3_identity();
  if (la.px && lb.px) {
    mean_of(ta, na, la.px);
    mean_of(tb, nb, lb.px);
    rc = reel_align_solve(reel_job_cl(j), &p, &lb, &la, &r);
    if (!rc && r.ok && r.residual < 0.5) *m = r.m;
  }
  free(la.px), free(lb.px);
  return rc;
}

static double dot(const float *a, const float *b) {
  double s = 0;
  for (int i = 0; i < TN; i++) s += (double)a[i] * b[i];
  return s;
}

/* How far the best offset's mean score stands above the runner-up (two or
 * more frames away), against its height above the median offset: 0 to 1. */
static double confidence(const double *g, int nd, int best) {
  double second = -INFINITY, *sorted = malloc(sizeof(double) * (size_t)nd);
  int ns = 0;
  if (!sorted) return 0;
  for (int k = 0; k < nd; k++) {
    if (isnan(g[k])) continue;
    sorted[ns++] = g[k];
    if (abs(k - best) >= 2 && g[k] > second) second = g[k];
  }
  for (int a = 1; a < ns; a++)
    for (int b = a; b > 0 && sorted[b] < sorted[b - 1]; b--) {
      double x = sorted[b];
      sorted[b] = sorted[b - 1], sorted[b - 1] = x;
    }
  double median = sorted[ns / 2], top = g[best];
  free(sorted);
  double conf = !isfinite(second) ? 1 : top - median > 1e-9 ? (top - second) / (top - median) : 0;
  return top > 0 ? fmin(1, fmax(0, conf)) : 0;
}

/* The frame-by-frame path (Viterbi over the nd offsets of score, paying
 * penalty per frame of change) as segments "first-last:+offset,..." of b's
 * frames (b0 the first). from: nb * nd scratch. 0 / -1 (out of memory). */
static int segments(const double *score, int nb, int nd, double penalty, int lo, int b0, int *from,
                    char *seg, size_t cap) {
  double *acc = malloc(sizeof(double) * 2 * (size_t)nd);
  int *offs = malloc(sizeof(int) * (size_t)nb);
  if (!acc || !offs) {
    free(acc), free(offs);
    return -1;
  }
  double *prev = acc, *cur = acc + nd;
  for (int k = 0; k < nd; k++) prev[k] = isnan(score[k]) ? -1e9 : score[k];
  for (int f = 1; f < nb; f++) {
    for (int k = 0; k < nd; k++) {
      int arg = k;
      double v = prev[k];
      for (int m = 0; m < nd; m++)
        if (prev[m] - penalty * abs(m - k) > v) v = prev[m] - penalty * abs(m - k), arg = m;
      double s = score[(size_t)f * nd + k];
      cur[k] = v + (isnan(s) ? -1e9 : s);
      from[(size_t)f * nd + k] = arg;
    }
    double *x = prev;
    prev = cur, cur = x;
  }
  int k = 0;
  for (int m = 1; m < nd; m++)
    if (prev[m] > prev[k]) k = m;
  for (int f = nb - 1; f >= 0; f--) {
    offs[f] = lo + k;
    if (f) k = from[(size_t)f * nd + k];
  }
  size_t at = 0;
  seg[0] = 0;
  for (int f = 0; f < nb && at + 64 < cap;) {
    int e = f;
    while (e + 1 < nb && offs[e + 1] == offs[f]) e++;
    at +=
        (size_t)snprintf(seg + at, cap - at, "%s%d-%d:%+d", at ? "," : "", b0 + f, b0 + e, offs[f]);
    f = e + 1;
  }
  free(acc), free(offs);
  return 0;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const sync_t *p = pv;
  reel_node_t *node = j->node;
  int na = 0, nb = 0, nd = (int)(p->search[1] - p->search[0]) + 1;
  int lo =
      base_of(reel_node_input_clip(node, 0), reel_node_input_clip(node, 1)) + (int)p->search[0];
  int a0 = INT_MAX, b0 = INT_MAX, rc = -1;
  for (int i = 0; i < j->nin; i++) {
    if (j->req[i].port == 0)
      na++, a0 = j->req[i].frame < a0 ? j->req[i].frame : a0;
    else
      nb++, b0 = j->req[i].frame < b0 ? j->req[i].frame : b0;
  }
  size_t cells = (size_t)(na + nb) * TN;
  float *t = malloc(sizeof(float) * cells * 3), *sa, *da, *sb, *db;
  double *score = malloc(sizeof(double) * (size_t)nb * nd), *g = calloc((size_t)nd, sizeof *g);
  int *cnt = calloc((size_t)nd, sizeof *cnt), *from = malloc(sizeof(int) * (size_t)nb * nd);
  reel_image_t *im = NULL;
  cl_mem buf = NULL;
  if (!t || !score || !g || !cnt || !from) {
    reel_node_error(node, REEL_EIO, "out of memory");
    goto out;
  }
  sa = t + cells, da = sa + (size_t)na * TN, sb = da + (size_t)na * TN, db = sb + (size_t)nb * TN;
  for (int i = 0; i < j->nin; i++) {
    reel_image_t *x = reel_job_image(j, i);
    if (!x) goto out;
    if (!buf && !(buf = reel_cl_alloc(x->cl, sizeof(float) * TN))) goto out;
    int at = j->req[i].port == 0 ? j->req[i].frame - a0 : na + j->req[i].frame - b0;
    if (thumb(j, x, buf, t + (size_t)at * TN)) goto out;
  }
  reel_mat3_t frame_map;
  if (fit_framing(j, t, na, t + (size_t)na * TN, nb, &frame_map)) goto out;
  register_b(t, na, t + (size_t)na * TN, nb, &frame_map);
  signatures(t, na, sa, da);
  signatures(t + (size_t)na * TN, nb, sb, db);
  /* score[f][k]: b's frame b0 + f against a's frame b0 + f + lo + k */
  for (int f = 0; f < nb; f++)
    for (int k = 0; k < nd; k++) {
      int fa = b0 + f + lo + k - a0;
      double *s = &score[(size_t)f * nd + k];
      *s = NAN;
      if (fa < 0 || fa >= na) continue;
      *s = dot(sa + (size_t)fa * TN, sb + (size_t)f * TN);
      if (f > 0 && fa > 0) *s = 0.5 * (*s + dot(da + (size_t)fa * TN, db + (size_t)f * TN));
      g[k] += *s;
      cnt[k]++;
    }
  int best = -1;
  for (int k = 0; k < nd; k++) {
    g[k] = cnt[k] >= p->min_overlap ? g[k] / cnt[k] : NAN;
    if (!isnan(g[k]) && (best < 0 || g[k] > g[best])) best = k;
  }
  if (best < 0) {
    reel_node_error(node, REEL_EUSER,
                    "no offset in {%g, %g} overlaps %d frames of both clips: widen search or "
                    "lower min_overlap",
                    p->search[0], p->search[1], p->min_overlap);
    goto out;
  }
  double top = g[best], conf = confidence(g, nd, best);
  char seg[4096];
  if (segments(score, nb, nd, p->penalty, lo, b0, from, seg, sizeof seg)) {
    reel_node_error(node, REEL_EIO, "out of memory");
    goto out;
  }
  /* the picture: one row per frame of b, one column per offset */
  const char *names[1] = {"score"};
  reel_box_t box = {0, 0, nd, nb};
  float *px = malloc(sizeof(float) * (size_t)nb * nd);
  if (!px || !(im = reel_image_new(reel_job_cl(j), 1, names, box, box))) {
    free(px);
    goto out;
  }
  for (size_t i = 0; i < (size_t)nb * nd; i++) px[i] = isnan(score[i]) ? 0.0f : (float)score[i];
  int up = reel_image_upload(im, px);
  free(px);
  if (up) goto out;
  char v[64];
  snprintf(v, sizeof v, "%d", lo + best);
  if (reel_meta_set(&im->meta, "reel:sync_offset", v)) goto out;
  snprintf(v, sizeof v, "%.4f", conf);
  if (reel_meta_set(&im->meta, "reel:sync_confidence", v)) goto out;
  snprintf(v, sizeof v, "%.4f", top);
  if (reel_meta_set(&im->meta, "reel:sync_score", v) ||
      reel_meta_set(&im->meta, "reel:sync_segments", seg))
    goto out;
  *out = &im->v;
  im = NULL;
  rc = 0;
out:
  if (buf) reel_cl_release(reel_job_cl(j), buf);
  reel_image_unref(im);
  free(t), free(score), free(g), free(cnt), free(from);
  return rc;
}

const reel_node_desc_t reel_node_sync = {
    .name = "Sync",
    .version = 1,
    .summary = "Find the frame offset between two sources of the same footage",
    .doc = "Attaches reel:sync_offset (b's frame f shows what a shows at frame f + offset), "
           "reel:sync_confidence (0 to 1: how far the best offset stands above the runner-up, "
           "against its height above the median), reel:sync_score (its mean correlation) and "
           "reel:sync_segments (b's frames with their offsets, \"1-48:+12,49-107:+13\": a "
           "change is a dropped or doubled frame) to a picture of the scores (one row per "
           "frame of b, one column per offset). Holds every frame it compares at once: feed "
           "it thumbnails (reel sync does). To line a up: TimeOffset { a, offset = -offset }.",
    .inputs = inputs,
    .ninputs = 2,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(sync_t),
    .flags = REEL_NF_CONSTANT,
    .kernels = "align",
    .check = check,
    .clip = clip,
    .frames = frames,
    .eval = eval,
};
