/* The alignment solver's pictures (align_util.h): lumas masked (black
 * borders: pixels connected to the edge within `black` of the picture's
 * black level, grown by 2 px), reduced into a pyramid ([1 3 3 1] / 8, so
 * level l's coordinates are level 0's / 2^l; full resolution stays
 * unblurred, as a blur biases the estimate where the pictures differ in
 * scale) and contrast-normalised in local windows on every level; the
 * moving picture as planes of luma and central-difference gradients. */
#include "align_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void reel_align_pyramid_free(reel_align_pyramid_t *py) {
  if (py->n && py->raw.fix != py->lv[0].fix) {
    free(py->raw.fix);
    free(py->raw.mov);
  }
  for (int l = 0; l < py->n; l++) {
    free(py->lv[l].fix);
    free(py->lv[l].mov);
  }
  memset(py, 0, sizeof *py);
}

static int by_value(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* Black borders: flood fill from the edge through pixels at most `black`
 * above the picture's black level (its darkest 0.5%, so a lifted or
 * range-limited black counts), or already invalid, then grown by 2
 * pixels; all set to NaN. */
static int mask_borders(float *px, int w, int h, double black) {
  size_t n = (size_t)w * h, head = 0, tail = 0, step = n / 65536 + 1, ns = 0;
  float *smp = malloc(sizeof(float) * (n / step + 1));
  unsigned char *m = calloc(n, 2);
  int *q = malloc(sizeof(int) * n);
  if (!m || !q || !smp) {
    free(m), free(q), free(smp);
    return -1;
  }
  for (size_t i = 0; i < n; i += step)
    if (!isnan(px[i])) smp[ns++] = px[i];
  if (ns) {
    qsort(smp, ns, sizeof *smp, by_value);
    black += smp[ns / 200];
  }
  free(smp);
#define DARK(i) (isnan(px[i]) || px[i] <= black)
#define SEED(i)                                                                                    \
  do {                                                                                             \
    size_t i_ = (i);                                                                               \
    if (!m[i_] && DARK(i_)) m[i_] = 1, q[tail++] = (int)i_;                                        \
  } while (0)
  for (int x = 0; x < w; x++) {
    SEED((size_t)x);
    SEED((size_t)(h - 1) * w + x);
  }
  for (int y = 0; y < h; y++) {
    SEED((size_t)y * w);
    SEED((size_t)y * w + w - 1);
  }
  while (head < tail) {
    int i = q[head++], x = i % w, y = i / w;
    if (x > 0) SEED((size_t)i - 1);
    if (x + 1 < w) SEED((size_t)i + 1);
    if (y > 0) SEED((size_t)i - w);
    if (y + 1 < h) SEED((size_t)i + w);
  }
#undef SEED
#undef DARK
  /* grow by 2: a 5x5 max, separably, as running counts */
  unsigned char *g = m + n;
  for (int y = 0; y < h; y++) {
    const unsigned char *row = m + (size_t)y * w;
    int cnt = 0;
    for (int x = -2; x < w; x++) {
      if (x + 2 < w) cnt += row[x + 2];
      if (x - 3 >= 0) cnt -= row[x - 3];
      if (x >= 0) g[(size_t)y * w + x] = cnt > 0;
    }
  }
  int *cnt = q; /* the queue is done with: per-column counts */
  memset(cnt, 0, sizeof(int) * (size_t)w);
  for (int y = -2; y < h; y++) {
    if (y + 2 < h)
      for (int x = 0; x < w; x++) cnt[x] += g[(size_t)(y + 2) * w + x];
    if (y - 3 >= 0)
      for (int x = 0; x < w; x++) cnt[x] -= g[(size_t)(y - 3) * w + x];
    if (y >= 0)
      for (int x = 0; x < w; x++)
        if (cnt[x]) px[(size_t)y * w + x] = NAN;
  }
  free(m), free(q);
  return 0;
}

/* Level l+1 from level l: [1 3 3 1] / 8 around each pair, NaN spreading. */
static void down2(const float *in, int w, int h, float *out, float *tmp, int ow, int oh) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < ow; x++) {
      const float *r = in + (size_t)y * w;
      int a = 2 * x - 1, d = 2 * x + 2;
      tmp[(size_t)y * ow + x] =
          a >= 0 && d < w ? (r[a] + 3.0f * r[a + 1] + 3.0f * r[a + 2] + r[d]) * 0.125f : NAN;
    }
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++) {
      int a = 2 * y - 1, d = 2 * y + 2;
      const float *c = tmp + x;
      out[(size_t)y * ow + x] = a >= 0 && d < h
                                    ? (c[(size_t)a * ow] + 3.0f * c[(size_t)(a + 1) * ow] +
                                       3.0f * c[(size_t)(a + 2) * ow] + c[(size_t)d * ow]) *
                                          0.125f
                                    : NAN;
    }
}

/* Planes luma, d/dx, d/dy (central differences). */
static void pack(const float *in, int w, int h, float *out) {
  size_t n = (size_t)w * h;
  memcpy(out, in, sizeof(float) * n);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      size_t i = (size_t)y * w + x;
      out[n + i] = x > 0 && x + 1 < w ? 0.5f * (in[i + 1] - in[i - 1]) : NAN;
      out[2 * n + i] = y > 0 && y + 1 < h ? 0.5f * (in[i + w] - in[i - w]) : NAN;
    }
}

/* Local contrast normalisation: each valid pixel minus the mean of the
 * pixels in the (2r+1)^2 box around it, divided by their standard deviation
 * (at least 0.01), so a grade that differs from region to region (colour,
 * fade, flicker) looks alike in both pictures. Box sums run separably. */
static int normalize(float *px, int w, int h, int r) {
  const float eps2 = 1e-4f; /* (0.01)^2: about the noise of an 8-bit source */
  size_t n = (size_t)w * h;
  float *s1 = malloc(sizeof(float) * 3 * n);
  double *col = malloc(sizeof(double) * 3 * (size_t)w);
  if (!s1 || !col) {
    free(s1), free(col);
    return -1;
  }
  float *s2 = s1 + n, *cn = s2 + n;
  for (int y = 0; y < h; y++) { /* running sums along each row */
    const float *row = px + (size_t)y * w;
    double a = 0, b = 0, c = 0;
    for (int x = -r; x < w; x++) {
      int in = x + r, out = x - r - 1;
      if (in < w && row[in] == row[in]) a += row[in], b += (double)row[in] * row[in], c++;
      if (out >= 0 && row[out] == row[out]) a -= row[out], b -= (double)row[out] * row[out], c--;
      if (x >= 0) {
        size_t i = (size_t)y * w + x;
        s1[i] = (float)a, s2[i] = (float)b, cn[i] = (float)c;
      }
    }
  }
  /* then down each column, a row at a time (vector loops); row y's result
   * overwrites px, whose rows the row sums no longer need */
  double *c1 = col, *c2 = col + w, *c3 = col + 2 * (size_t)w;
  memset(col, 0, sizeof(double) * 3 * (size_t)w);
  for (int y = -r; y < h; y++) {
    int in = y + r, out = y - r - 1;
    if (in < h) {
      const float *a = s1 + (size_t)in * w, *b = s2 + (size_t)in * w, *c = cn + (size_t)in * w;
      for (int x = 0; x < w; x++) c1[x] += a[x], c2[x] += b[x], c3[x] += c[x];
    }
    if (out >= 0) {
      const float *a = s1 + (size_t)out * w, *b = s2 + (size_t)out * w, *c = cn + (size_t)out * w;
      for (int x = 0; x < w; x++) c1[x] -= a[x], c2[x] -= b[x], c3[x] -= c[x];
    }
    if (y < 0) continue;
    float *row = px + (size_t)y * w;
    /* NaN stays NaN; so does a pixel whose window is not whole (at an edge
     * of the picture or of its valid part): the two pictures' windows would
     * hold different things there */
    float full = (float)((2 * r + 1) * (2 * r + 1));
    for (int x = 0; x < w; x++) {
      float k = (float)c3[x], mean = (float)c1[x] / k, var = (float)c2[x] / k - mean * mean;
      row[x] = k < full ? NAN : (row[x] - mean) / sqrtf((var > 0 ? var : 0) + eps2);
    }
  }
  free(col);
  free(s1);
  return 0;
}

/* The region in fixed raster pixels (the box is in absolute pixels). */
static reel_box_t region(const reel_align_params_t *p, const reel_align_luma_t *fx) {
  reel_box_t r = {0, 0, fx->w, fx->h};
  if (p->box[0] || p->box[1] || p->box[2] || p->box[3]) {
    reel_box_t b = {
        (int)lround(p->box[0]) - fx->display.x0, (int)lround(p->box[1]) - fx->display.y0,
        (int)lround(p->box[2]) - fx->display.x0, (int)lround(p->box[3]) - fx->display.y0};
    r = reel_box_intersect(r, b);
  }
  return r;
}

int reel_align_pyramid(const reel_align_params_t *p, const reel_align_luma_t *mv,
                       const reel_align_luma_t *fx, int maxlev, reel_align_pyramid_t *py,
                       const char **why) {
  memset(py, 0, sizeof *py);
  reel_box_t b = region(p, fx);
  if (reel_box_w(b) < 8 || reel_box_h(b) < 8 || mv->w < 8 || mv->h < 8) {
    *why = "the analysis region (box) or a picture is under 8x8 pixels";
    return 1;
  }
  int levels = p->levels;
  if (!levels)
    while (levels < REEL_ALIGN_MAXLEV - 1 &&
           (reel_box_w(b) < reel_box_h(b) ? reel_box_w(b) : reel_box_h(b)) >> (levels + 1) >= 40)
      levels++;
  while (levels > 0 && (reel_box_w(b) >> levels < 8 || reel_box_h(b) >> levels < 8 ||
                        mv->w >> levels < 8 || mv->h >> levels < 8))
    levels--;
  if (levels > maxlev) levels = maxlev;
  size_t big = (size_t)(fx->w > mv->w ? fx->w : mv->w) * (fx->h > mv->h ? fx->h : mv->h);
  float *tmp = malloc(sizeof(float) * big), *raw = malloc(sizeof(float) * big);
  float *cur = malloc(sizeof(float) * (size_t)mv->w * mv->h);
  int rc = -1;
  if (!tmp || !raw || !cur) goto oom;
  for (int l = 0; l <= levels; l++) {
    reel_align_level_t *lv = &py->lv[l];
    lv->fw = fx->w >> l, lv->fh = fx->h >> l, lv->mw = mv->w >> l, lv->mh = mv->h >> l;
    int s = 1 << l;
    lv->box = (reel_box_t){(b.x0 + s - 1) / s, (b.y0 + s - 1) / s, b.x1 / s, b.y1 / s};
    if (!(lv->fix = malloc(sizeof(float) * (size_t)lv->fw * lv->fh)) ||
        !(lv->mov = malloc(sizeof(float) * 3 * (size_t)lv->mw * lv->mh)))
      goto oom;
    py->n = l + 1;
  }
  /* fixed: level 0 from the raw luma, the others from the one above; then
   * each normalised (the unnormalised full resolution kept aside) */
  size_t nf = (size_t)fx->w * fx->h, nm = (size_t)mv->w * mv->h;
  py->raw = py->lv[0];
  memcpy(py->lv[0].fix, fx->px, sizeof(float) * nf);
  if (p->borders && mask_borders(py->lv[0].fix, fx->w, fx->h, p->black)) goto oom;
  for (int l = 1; l <= levels; l++)
    down2(py->lv[l - 1].fix, py->lv[l - 1].fw, py->lv[l - 1].fh, py->lv[l].fix, tmp, py->lv[l].fw,
          py->lv[l].fh);
  if (p->normalize) {
    if (!(py->raw.fix = malloc(sizeof(float) * nf)) ||
        !(py->raw.mov = malloc(sizeof(float) * 3 * nm)))
      goto oom;
    memcpy(py->raw.fix, py->lv[0].fix, sizeof(float) * nf);
    for (int l = 0; l <= levels; l++)
      if (normalize(py->lv[l].fix, py->lv[l].fw, py->lv[l].fh, p->normalize)) goto oom;
  }
  /* moving: the same, each level as planes with its gradients; cur holds
   * the level's luma */
  memcpy(cur, mv->px, sizeof(float) * nm);
  if (p->borders && mask_borders(cur, mv->w, mv->h, p->black)) goto oom;
  if (p->normalize) pack(cur, mv->w, mv->h, py->raw.mov);
  /* the moving picture's windows cover what the fixed one's do, as far as
   * the formats tell (a reference at a lower resolution) */
  int rm = (int)lround(p->normalize * sqrt((double)nm / (double)nf));
  rm = rm < 1 ? 1 : rm;
  for (int l = 0; l <= levels; l++) {
    reel_align_level_t *lv = &py->lv[l];
    if (l) {
      down2(cur, py->lv[l - 1].mw, py->lv[l - 1].mh, raw, tmp, lv->mw, lv->mh);
      memcpy(cur, raw, sizeof(float) * (size_t)lv->mw * lv->mh);
    }
    memcpy(raw, cur, sizeof(float) * (size_t)lv->mw * lv->mh);
    if (p->normalize && normalize(raw, lv->mw, lv->mh, rm)) goto oom;
    pack(raw, lv->mw, lv->mh, lv->mov);
  }
  rc = 0;
  goto out;
oom:
  reel_error(REEL_EIO, "out of memory for the alignment pyramid");
  reel_align_pyramid_free(py);
out:
  free(tmp);
  free(raw);
  free(cur);
  return rc;
}
