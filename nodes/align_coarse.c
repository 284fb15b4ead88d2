/* The coarse stage of alignment, on the host at the pyramid's coarsest
 * level: for rotation and scale hypotheses about the region's centre, the
 * translation from phase correlation (Kuglin & Hines 1975: the peak of the
 * inverse FFT of the normalised cross-power spectrum, refined to sub-pixel
 * by a parabola through its neighbours), each result scored by the
 * zero-mean normalised correlation of the two lumas. Radix-2 FFT. */
#include "align_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* In-place radix-2 FFT of n complex values (re, im interleaved) spaced
 * `stride` complex values apart; sign -1 forward, +1 inverse (unscaled). */
static void fft1(double *a, int n, int stride, int sign) {
  for (int i = 1, j = 0; i < n; i++) {
    int bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      double *p = a + 2 * (size_t)i * stride, *q = a + 2 * (size_t)j * stride, t;
      t = p[0], p[0] = q[0], q[0] = t;
      t = p[1], p[1] = q[1], q[1] = t;
    }
  }
  for (int len = 2; len <= n; len <<= 1) {
    double ang = sign * 2 * M_PI / len, wr = cos(ang), wi = sin(ang);
    for (int i = 0; i < n; i += len) {
      double cr = 1, ci = 0;
      for (int k = 0; k < len / 2; k++) {
        double *p = a + 2 * (size_t)(i + k) * stride,
               *q = a + 2 * (size_t)(i + k + len / 2) * stride;
        double xr = q[0] * cr - q[1] * ci, xi = q[0] * ci + q[1] * cr;
        q[0] = p[0] - xr, q[1] = p[1] - xi;
        p[0] += xr, p[1] += xi;
        double t = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = t;
      }
    }
  }
}

static void fft2(double *a, int nx, int ny, int sign) {
  for (int y = 0; y < ny; y++) fft1(a + 2 * (size_t)y * nx, nx, 1, sign);
  for (int x = 0; x < nx; x++) fft1(a + 2 * (size_t)x, ny, nx, sign);
}

static int pow2(int n) {
  int p = 1;
  while (p < n) p <<= 1;
  return p;
}

/* Bilinear luma of the moving level at continuous point (x, y); NaN when a
 * tap is outside or invalid. */
static double sample(const reel_align_level_t *lv, double x, double y) {
  double qx = x - 0.5, qy = y - 0.5, fx = floor(qx), fy = floor(qy);
  if (!(fx >= 0 && fy >= 0 && fx + 1 < lv->mw && fy + 1 < lv->mh)) return NAN;
  int j = (int)fx, i = (int)fy;
  double tx = qx - fx, ty = qy - fy;
  const float *p = lv->mov + (size_t)i * lv->mw + j;
  size_t r = (size_t)lv->mw;
  return (1 - ty) * ((1 - tx) * p[0] + tx * p[1]) + ty * ((1 - tx) * p[r] + tx * p[r + 1]);
}

double reel_align_zncc(const reel_align_level_t *lv, const reel_mat3_t *w) {
  double n = 0, si = 0, sii = 0, st = 0, stt = 0, sit = 0;
  for (int y = lv->box.y0; y < lv->box.y1; y++)
    for (int x = lv->box.x0; x < lv->box.x1; x++) {
      double t = lv->fix[(size_t)y * lv->fw + x], u, v;
      if (isnan(t) || !(reel_mat3_apply(w, x + 0.5, y + 0.5, &u, &v) > 0)) continue;
      double i = sample(lv, u, v);
      if (isnan(i)) continue;
      n++, si += i, sii += i * i, st += t, stt += t * t, sit += i * t;
    }
  if (n < 16) return NAN;
  double vi = sii - si * si / n, vt = stt - st * st / n, c = sit - si * st / n;
  return vi > 0 && vt > 0 ? c / sqrt(vi * vt) : NAN;
}

/* The region's pixels (from the fixed level, or the moving one through w)
 * into a zero-padded complex array: mean removed, invalid pixels 0, a Hann
 * window over the region; then its FFT. */
static void spectrum(const reel_align_level_t *lv, const reel_mat3_t *w, const double *win_x,
                     const double *win_y, double *a, int nx, int ny) {
  reel_box_t b = lv->box;
  int bw = reel_box_w(b), bh = reel_box_h(b);
  double sum = 0;
  int cnt = 0;
  memset(a, 0, sizeof(double) * 2 * (size_t)nx * ny);
  for (int y = 0; y < bh; y++)
    for (int x = 0; x < bw; x++) {
      double v, u, t;
      if (!w) {
        v = lv->fix[(size_t)(y + b.y0) * lv->fw + x + b.x0];
      } else {
        v = reel_mat3_apply(w, x + b.x0 + 0.5, y + b.y0 + 0.5, &u, &t) > 0 ? sample(lv, u, t) : NAN;
      }
      a[2 * ((size_t)y * nx + x)] = v;
      if (!isnan(v)) sum += v, cnt++;
    }
  double mean = cnt ? sum / cnt : 0;
  for (int y = 0; y < bh; y++)
    for (int x = 0; x < bw; x++) {
      double *v = &a[2 * ((size_t)y * nx + x)];
      *v = isnan(*v) ? 0 : (*v - mean) * win_x[x] * win_y[y];
    }
  fft2(a, nx, ny, -1);
}

/* The shift d with fixed(x) ~ moving(x - d), from two spectra. */
static void correlate(const double *ft, double *fm, int nx, int ny, double *dx, double *dy) {
  size_t n = (size_t)nx * ny;
  for (size_t i = 0; i < n; i++) {
    double ar = ft[2 * i], ai = ft[2 * i + 1], br = fm[2 * i], bi = -fm[2 * i + 1];
    double r = ar * br - ai * bi, im = ar * bi + ai * br, mag = sqrt(r * r + im * im) + 1e-12;
    fm[2 * i] = r / mag;
    fm[2 * i + 1] = im / mag;
  }
  fft2(fm, nx, ny, +1);
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (fm[2 * i] > fm[2 * best]) best = i;
  int px = (int)(best % nx), py = (int)(best / nx);
#define AT(x, y) fm[2 * ((size_t)(((y) + ny) % ny) * nx + (size_t)(((x) + nx) % nx))]
  double c = AT(px, py), l = AT(px - 1, py), r = AT(px + 1, py), u = AT(px, py - 1),
         d = AT(px, py + 1);
#undef AT
  double ox = l - 2 * c + r < 0 ? 0.5 * (l - r) / (l - 2 * c + r) : 0;
  double oy = u - 2 * c + d < 0 ? 0.5 * (u - d) / (u - 2 * c + d) : 0;
  *dx = (px > nx / 2 ? px - nx : px) + fmax(-0.5, fmin(0.5, ox));
  *dy = (py > ny / 2 ? py - ny : py) + fmax(-0.5, fmin(0.5, oy));
}

typedef struct {
  reel_mat3_t w;
  double score;
} cand_t;

static int by_score(const void *a, const void *b) {
  double x = ((const cand_t *)a)->score, y = ((const cand_t *)b)->score;
  return (x < y) - (x > y);
}

int reel_align_coarse(const reel_align_level_t *lv, const reel_align_params_t *p,
                      const reel_mat3_t *w, reel_mat3_t **out) {
  reel_box_t b = lv->box;
  int bw = reel_box_w(b), bh = reel_box_h(b);
  int nx = pow2(bw + bw / 2), ny = pow2(bh + bh / 2), nc = 0;
  /* hypotheses: rotations about 8 degrees apart, scales about 8% apart */
  int rot = p->model == REEL_XF_TRANSLATION ? 0 : (int)ceil(p->search_rotate / 8.0);
  int scl = p->model == REEL_XF_TRANSLATION || p->search_scale <= 1.0001
                ? 0
                : (int)ceil(log(p->search_scale) / log(1.08));
  double *ft = malloc(sizeof(double) * 2 * (size_t)nx * ny);
  double *fm = malloc(sizeof(double) * 2 * (size_t)nx * ny);
  double *wx = malloc(sizeof(double) * (size_t)(bw + bh));
  cand_t *c = malloc(sizeof(cand_t) * 2 * (size_t)(2 * rot + 1) * (size_t)(2 * scl + 1));
  *out = malloc(sizeof(reel_mat3_t) * 2 * (size_t)(2 * rot + 1) * (size_t)(2 * scl + 1));
  if (!ft || !fm || !wx || !c || !*out) {
    free(ft), free(fm), free(wx), free(c), free(*out);
    *out = NULL;
    reel_error(REEL_EIO, "out of memory for the coarse search");
    return -1;
  }
  double *wy = wx + bw;
  for (int x = 0; x < bw; x++) wx[x] = 0.5 - 0.5 * cos(2 * M_PI * (x + 0.5) / bw);
  for (int y = 0; y < bh; y++) wy[y] = 0.5 - 0.5 * cos(2 * M_PI * (y + 0.5) / bh);
  spectrum(lv, NULL, wx, wy, ft, nx, ny);
  double cx = 0.5 * (b.x0 + b.x1), cy = 0.5 * (b.y0 + b.y1);
  for (int ks = -scl; ks <= scl; ks++)
    for (int kr = -rot; kr <= rot; kr++) {
      double s = scl ? pow(p->search_scale, (double)ks / scl) : 1;
      double th = rot ? p->search_rotate * M_PI / 180 * kr / rot : 0;
      /* fixed point x samples the moving picture at w(c + s R (x - c)) */
      reel_mat3_t h = {{s * cos(th), -s * sin(th), 0, s * sin(th), s * cos(th), 0, 0, 0, 1}};
      h.m[2] = cx - h.m[0] * cx - h.m[1] * cy;
      h.m[5] = cy - h.m[3] * cx - h.m[4] * cy;
      reel_mat3_t wh = reel_mat3_mul(*w, h), wd;
      double dx, dy;
      spectrum(lv, &wh, wx, wy, fm, nx, ny);
      correlate(ft, fm, nx, ny, &dx, &dy);
      wd = reel_mat3_mul(wh, reel_mat3_translate(-dx, -dy));
      c[nc++] = (cand_t){wd, reel_align_zncc(lv, &wd)};
      c[nc++] = (cand_t){wh, reel_align_zncc(lv, &wh)};
    }
  for (int i = 0; i < nc; i++)
    if (isnan(c[i].score)) c[i].score = -2;
  qsort(c, (size_t)nc, sizeof *c, by_score);
  for (int i = 0; i < nc; i++) (*out)[i] = c[i].w;
  free(ft), free(fm), free(wx), free(c);
  return nc;
}
