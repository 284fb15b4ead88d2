/* The alignment solver: the pyramids of the two lumas (align_pyramid.c),
 * the coarse search on the top level (align_coarse.c), then ECC
 * (Evangelidis & Psarakis 2008, forward additive, with Huber weights) from
 * coarse to fine, its sums on the device (opencl/align.cl, align_ecc) and
 * the normal equations here in double. The warp lives on normalised
 * coordinates (region centred, half-size 1), so its eight entries are alike
 * in scale; the smaller models are linear subsets of them. The residual is
 * measured on the unnormalised full-resolution lumas. REEL_ALIGN_DEBUG=1
 * prints the progress per level on stderr. */
#include "align_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static int debug = -1;
#define DBG(...)                                                                                   \
  do {                                                                                             \
    if (debug < 0) debug = getenv("REEL_ALIGN_DEBUG") != NULL;                                     \
    if (debug) fprintf(stderr, __VA_ARGS__);                                                       \
  } while (0)

#define NSUM 66        /* as ALIGN_NSUM in opencl/align.cl */
#define BAND 32        /* rows per work item */
#define LOCALX 16      /* items of eight columns each */
#define HOST_MAX 20000 /* region pixels summed on the host */
#define ROBUST 1.0     /* Huber threshold in standard deviations of the error */
#define NKEEP 4        /* coarse candidates refined to the end on the top level */
#define QUICK 8        /* iterations per model every coarse candidate gets */

static int fail(reel_align_result_t *r, const char *why) {
  r->ok = 0;
  snprintf(r->why, sizeof r->why, "%s", why);
  return 0;
}

/* ---- ECC on one level ---- */

typedef struct {
  reel_cl_t *cl;
  cl_kernel k;
  cl_mem fix, mov, out;
  const reel_align_level_t *lv;
  size_t g[2];
  int items;
  float *host;
  reel_mat3_t nf, nf_inv, nm, nm_inv; /* normalisations */
  double sm;
} ecc_t;

static void ecc_close(ecc_t *e) {
  reel_cl_release(e->cl, e->fix);
  reel_cl_release(e->cl, e->mov);
  reel_cl_release(e->cl, e->out);
  free(e->host);
  memset(e, 0, sizeof *e);
}

static int ecc_open(ecc_t *e, reel_cl_t *cl, const reel_align_level_t *lv) {
  memset(e, 0, sizeof *e);
  e->cl = cl;
  e->lv = lv;
  reel_box_t b = lv->box;
  int bw = reel_box_w(b), bh = reel_box_h(b);
  e->g[0] = (size_t)((bw + 7) / 8 + LOCALX - 1) / LOCALX * LOCALX;
  e->g[1] = (size_t)(bh + BAND - 1) / BAND;
  e->items = (int)(e->g[0] * e->g[1]);
  size_t nf = (size_t)lv->fw * lv->fh, nm = 3 * (size_t)lv->mw * lv->mh;
  /* small levels are summed on the host: a device launch costs more */
  if ((size_t)bw * bh > HOST_MAX &&
      (!(e->k = reel_cl_kernel(cl, "align", "align_ecc")) ||
       !(e->fix = reel_cl_alloc(cl, sizeof(float) * nf)) ||
       !(e->mov = reel_cl_alloc(cl, sizeof(float) * nm)) ||
       !(e->out = reel_cl_alloc(cl, sizeof(float) * NSUM * (size_t)e->items)) ||
       reel_cl_upload(cl, e->fix, 0, lv->fix, sizeof(float) * nf) ||
       reel_cl_upload(cl, e->mov, 0, lv->mov, sizeof(float) * nm)))
    goto fail;
  if (e->k && !(e->host = malloc(sizeof(float) * NSUM * (size_t)e->items))) {
    reel_error(REEL_EIO, "out of memory");
    goto fail;
  }
  double cx = 0.5 * (b.x0 + b.x1), cy = 0.5 * (b.y0 + b.y1), st = 2.0 / (bw > bh ? bw : bh);
  double mx = 0.5 * lv->mw, my = 0.5 * lv->mh, sm = 0.5 * (lv->mw > lv->mh ? lv->mw : lv->mh);
  e->nf = (reel_mat3_t){{st, 0, -st * cx, 0, st, -st * cy, 0, 0, 1}};
  e->nf_inv = (reel_mat3_t){{1 / st, 0, cx, 0, 1 / st, cy, 0, 0, 1}};
  e->nm = (reel_mat3_t){{1 / sm, 0, -mx / sm, 0, 1 / sm, -my / sm, 0, 0, 1}};
  e->nm_inv = (reel_mat3_t){{sm, 0, mx, 0, sm, my, 0, 0, 1}};
  e->sm = sm;
  return 0;
fail:
  ecc_close(e);
  return -1;
}

void reel_align_ecc_host(const reel_align_level_t *lv, const float *m, const float *rob,
                         double *S) {
  size_t plane = (size_t)lv->mw * lv->mh;
  const float *gxp = lv->mov + plane, *gyp = lv->mov + 2 * plane;
  memset(S, 0, sizeof(double) * NSUM);
  for (int y = lv->box.y0; y < lv->box.y1; y++) {
    double uy = (y + 0.5 - m[10]) * m[11];
    for (int x = lv->box.x0; x < lv->box.x1; x++) {
      double t = lv->fix[(size_t)y * lv->fw + x], ux = (x + 0.5 - m[9]) * m[11];
      double den = m[6] * ux + m[7] * uy + m[8], a = 1 / den;
      double vx = (m[0] * ux + m[1] * uy + m[2]) * a, vy = (m[3] * ux + m[4] * uy + m[5]) * a;
      double qx = vx * m[14] + m[12] - 0.5, qy = vy * m[14] + m[13] - 0.5;
      double fx = floor(qx), fy = floor(qy), tx = qx - fx, ty = qy - fy;
      if (!(den > 0 && fx >= 0 && fy >= 0 && fx + 1 < lv->mw && fy + 1 < lv->mh) || isnan(t))
        continue;
      size_t o = (size_t)fy * lv->mw + (size_t)fx, r = (size_t)lv->mw;
      double w0 = (1 - tx) * (1 - ty), w1 = tx * (1 - ty), w2 = (1 - tx) * ty, w3 = tx * ty;
#define BIL(p) (w0 * (p)[o] + w1 * (p)[o + 1] + w2 * (p)[o + r] + w3 * (p)[o + r + 1])
      double iv = BIL(lv->mov), gx = BIL(gxp), gy = BIL(gyp);
#undef BIL
      if (isnan(iv) || isnan(gx) || isnan(gy)) continue;
      gx *= m[14] * a;
      gy *= m[14] * a;
      double err = fabs(rob[0] * (t - rob[2]) - (iv - rob[1]));
      double w = rob[3] > 0 && err > rob[3] ? rob[3] / err : 1;
      double gp = -(gx * vx + gy * vy);
      double J[8] = {gx * ux, gx * uy, gx, gy * ux, gy * uy, gy, gp * ux, gp * uy};
      S[0] += w, S[1] += w * iv, S[2] += w * iv * iv, S[3] += w * t, S[4] += w * t * t;
      S[5] += w * iv * t;
      for (int k = 0, h = 30; k < 8; k++) {
        S[6 + k] += w * J[k], S[14 + k] += w * J[k] * iv, S[22 + k] += w * J[k] * t;
        for (int l = k; l < 8; l++) S[h++] += w * J[k] * J[l];
      }
    }
  }
}

static reel_mat3_t unit(reel_mat3_t a) {
  if (a.m[8] != 0 && isfinite(a.m[8]))
    for (int i = 0; i < 9; i++) a.m[i] /= a.m[8];
  return a;
}

/* The kernel's packing of a normalised warp wn and the normalisations. */
static void packm(const ecc_t *e, const reel_mat3_t *wn, float m[16]) {
  memset(m, 0, sizeof(float) * 16);
  for (int i = 0; i < 9; i++) m[i] = (float)wn->m[i];
  m[9] = (float)e->nf_inv.m[2];
  m[10] = (float)e->nf_inv.m[5];
  m[11] = (float)e->nf.m[0];
  m[12] = (float)e->nm_inv.m[2];
  m[13] = (float)e->nm_inv.m[5];
  m[14] = (float)e->sm;
}

/* The 66 sums for the normalised warp wn, weighted by rob (see the
 * kernel; NULL: unweighted). */
static int ecc_sums(ecc_t *e, const reel_mat3_t *wn, const cl_float4 *rob, double *S) {
  const reel_align_level_t *lv = e->lv;
  cl_float16 m;
  cl_float4 r = rob ? *rob : (cl_float4){{0, 0, 0, 0}};
  packm(e, wn, m.s);
  if (!e->k) {
    reel_align_ecc_host(lv, m.s, r.s, S);
    return 0;
  }
  cl_int4 box = {{lv->box.x0, lv->box.y0, lv->box.x1, lv->box.y1}};
  int tw = lv->fw, iw = lv->mw, ih = lv->mh, band = BAND;
  size_t l[2] = {LOCALX, 1};
  if (reel_cl_args(e->k, 10, REEL_ARG(e->fix), REEL_ARG(tw), REEL_ARG(box), REEL_ARG(e->mov),
                   REEL_ARG(iw), REEL_ARG(ih), REEL_ARG(m), REEL_ARG(r), REEL_ARG(band),
                   REEL_ARG(e->out)) ||
      reel_cl_run(e->cl, e->k, 2, e->g, l) ||
      reel_cl_download(e->cl, e->out, 0, e->host, sizeof(float) * NSUM * (size_t)e->items))
    return -1;
  for (int k = 0; k < NSUM; k++) {
    const float *h = e->host + (size_t)k * e->items;
    double s = 0;
    for (int i = 0; i < e->items; i++) s += h[i];
    S[k] = s;
  }
  return 0;
}

/* Columns of the map from a model's parameters to the eight free entries
 * (h00 h01 h02 h10 h11 h12 h20 h21) of the normalised warp; returns P. */
static int model_map(int model, double A[8][8]) {
  memset(A, 0, sizeof(double) * 64);
  switch (model) {
  case REEL_XF_TRANSLATION: A[2][0] = A[5][1] = 1; return 2;
  case REEL_XF_SIMILARITY: /* h00 = h11 = 1 + a, h10 = -h01 = b */
    A[0][0] = A[4][0] = 1;
    A[3][1] = 1, A[1][1] = -1;
    A[2][2] = A[5][3] = 1;
    return 4;
  case REEL_XF_AFFINE:
    for (int i = 0; i < 6; i++) A[i][i] = 1;
    return 6;
  default:
    for (int i = 0; i < 8; i++) A[i][i] = 1;
    return 8;
  }
}

/* Solves the n x n system g x = b (Gaussian elimination, partial pivots).
 * 0, or -1 when singular. */
static int solve(int n, double g[8][8], const double *b, double *x) {
  double a[8][9];
  for (int i = 0; i < n; i++) {
    memcpy(a[i], g[i], sizeof(double) * (size_t)n);
    a[i][n] = b[i];
  }
  double scale = 0;
  for (int i = 0; i < n; i++) scale = fmax(scale, fabs(a[i][i]));
  for (int c = 0; c < n; c++) {
    int piv = c;
    for (int r = c + 1; r < n; r++)
      if (fabs(a[r][c]) > fabs(a[piv][c])) piv = r;
    if (!(fabs(a[piv][c]) > 1e-12 * scale)) return -1;
    if (piv != c)
      for (int k = 0; k <= n; k++) {
        double t = a[c][k];
        a[c][k] = a[piv][k];
        a[piv][k] = t;
      }
    for (int r = c + 1; r < n; r++) {
      double f = a[r][c] / a[c][c];
      for (int k = c; k <= n; k++) a[r][k] -= f * a[c][k];
    }
  }
  for (int r = n - 1; r >= 0; r--) {
    double s = a[r][n];
    for (int k = r + 1; k < n; k++) s -= a[r][k] * x[k];
    x[r] = s / a[r][r];
  }
  return 0;
}

/* One ECC update from the sums: the change of the eight entries, and the
 * correlation at the current warp. 0, or 1 with *why. */
static int ecc_step(const double *S, int model, double delta[8], double *rho, cl_float4 *fit,
                    const char **why) {
  double n = S[0];
  if (n < 64) {
    *why = "the pictures hardly overlap in the analysis region";
    return 1;
  }
  double mi = S[1] / n, mt = S[3] / n;
  double vi = S[2] - n * mi * mi, vt = S[4] - n * mt * mt, corr = S[5] - n * mi * mt;
  if (!(vi > 0 && vt > 0)) {
    *why = "a picture is flat in the analysis region";
    return 1;
  }
  *rho = corr / sqrt(vi * vt);
  double A[8][8], ji[8], jt[8], hz[8][8];
  int P = model_map(model, A);
  for (int k = 0; k < 8; k++) {
    ji[k] = S[14 + k] - mi * S[6 + k];
    jt[k] = S[22 + k] - mt * S[6 + k];
  }
  for (int k = 0, h = 30; k < 8; k++)
    for (int l = k; l < 8; l++, h++) hz[k][l] = hz[l][k] = S[h] - S[6 + k] * S[6 + l] / n;
  /* the model's normal equations: G = A^T Hz A, projections A^T j */
  double G[8][8], ai[8] = {0}, at[8] = {0}, gi[8], e[8], dp[8];
  for (int a = 0; a < P; a++) {
    for (int k = 0; k < 8; k++) ai[a] += A[k][a] * ji[k], at[a] += A[k][a] * jt[k];
    for (int b = 0; b < P; b++) {
      double s = 0;
      for (int k = 0; k < 8; k++)
        for (int l = 0; l < 8; l++) s += A[k][a] * hz[k][l] * A[l][b];
      G[a][b] = s;
    }
  }
  if (solve(P, G, ai, gi)) {
    *why = "the analysis region has too little texture";
    return 1;
  }
  double ln = vi, ld = corr;
  for (int a = 0; a < P; a++) ln -= ai[a] * gi[a], ld -= at[a] * gi[a];
  if (!(ld > 0)) {
    *why = "the pictures do not correlate in the analysis region";
    return 1;
  }
  double lam = ln / ld, var = (lam * lam * vt - 2 * lam * corr + vi) / n;
  *fit = (cl_float4){{(float)lam, (float)mi, (float)mt, (float)(ROBUST * sqrt(fmax(var, 0)))}};
  for (int a = 0; a < P; a++) e[a] = lam * at[a] - ai[a];
  if (solve(P, G, e, dp)) {
    *why = "the analysis region has too little texture";
    return 1;
  }
  for (int k = 0; k < 8; k++) {
    delta[k] = 0;
    for (int a = 0; a < P; a++) delta[k] += A[k][a] * dp[a];
  }
  return 0;
}

/* Largest move of the region's corners (in moving pixels of the level)
 * between two normalised warps; infinite when one is behind the horizon. */
static double moved(const ecc_t *e, const reel_mat3_t *a, const reel_mat3_t *b) {
  static const double us[4][2] = {{-1, -1}, {1, -1}, {1, 1}, {-1, 1}};
  double worst = 0;
  for (int i = 0; i < 4; i++) {
    double ax, ay, bx, by;
    if (!(reel_mat3_apply(a, us[i][0], us[i][1], &ax, &ay) > 0) ||
        !(reel_mat3_apply(b, us[i][0], us[i][1], &bx, &by) > 0))
      return INFINITY;
    worst = fmax(worst, hypot(ax - bx, ay - by) * e->sm);
  }
  return worst;
}

/* ECC iterations on one level. w: fixed pixels -> moving pixels of the
 * level, updated. 0, 1 with *why (no usable answer), -1 (device). */
static int ecc_level(ecc_t *e, int model, int maxit, double tol, reel_mat3_t *w, double *rho,
                     int *iters, const char **why) {
  reel_mat3_t wn = unit(reel_mat3_mul(reel_mat3_mul(e->nm, *w), e->nf_inv));
  double S[NSUM], delta[8];
  reel_box_t b = e->lv->box;
  double span = reel_box_w(b) > reel_box_h(b) ? reel_box_w(b) : reel_box_h(b);
  cl_float4 fit = {{0, 0, 0, 0}}; /* the first iteration is unweighted */
  for (int it = 0; it < maxit; it++) {
    if (ecc_sums(e, &wn, &fit, S)) return -1;
    int rc = ecc_step(S, model, delta, rho, &fit, why);
    if (rc) return rc;
    reel_mat3_t next = wn;
    for (int k = 0; k < 8; k++) next.m[k] += delta[k];
    double d = moved(e, &wn, &next);
    wn = next;
    (*iters)++;
    if (!(d < span)) {
      *why = "the estimate ran away, so the pictures may not match";
      return 1;
    }
    if (d < tol) break;
  }
  *w = unit(reel_mat3_mul(reel_mat3_mul(e->nm_inv, wn), e->nf));
  return 0;
}

/* The correlation at w on one level (no update), and how many pixels took
 * part. *rho is NaN when under 64 did or a picture is flat there. */
static int ecc_rho(ecc_t *e, const reel_mat3_t *w, double *rho, double *n) {
  reel_mat3_t wn = unit(reel_mat3_mul(reel_mat3_mul(e->nm, *w), e->nf_inv));
  double S[NSUM];
  if (ecc_sums(e, &wn, NULL, S)) return -1;
  *n = S[0];
  *rho = NAN;
  if (S[0] >= 64) {
    double mi = S[1] / S[0], mt = S[3] / S[0];
    double vi = S[2] - S[0] * mi * mi, vt = S[4] - S[0] * mt * mt;
    if (vi > 0 && vt > 0) *rho = (S[5] - S[0] * mi * mt) / sqrt(vi * vt);
  }
  return 0;
}

static reel_mat3_t scale_by(const reel_mat3_t *w, double s) { /* level coordinates times s */
  reel_mat3_t d = {{s, 0, 0, 0, s, 0, 0, 0, 1}}, di = {{1 / s, 0, 0, 0, 1 / s, 0, 0, 0, 1}};
  return reel_mat3_mul(reel_mat3_mul(d, *w), di);
}

/* Raster warp (fixed raster -> moving raster) <-> absolute moving -> fixed. */
static reel_mat3_t to_abs(const reel_mat3_t *w, const reel_align_luma_t *mv,
                          const reel_align_luma_t *fx) {
  reel_mat3_t inv;
  if (reel_mat3_invert(*w, &inv)) inv = reel_mat3_identity();
  return reel_mat3_mul(reel_mat3_mul(reel_mat3_translate(fx->display.x0, fx->display.y0), inv),
                       reel_mat3_translate(-mv->display.x0, -mv->display.y0));
}

static int from_abs(const reel_mat3_t *m, const reel_align_luma_t *mv, const reel_align_luma_t *fx,
                    reel_mat3_t *w) {
  reel_mat3_t r =
      reel_mat3_mul(reel_mat3_mul(reel_mat3_translate(-fx->display.x0, -fx->display.y0), *m),
                    reel_mat3_translate(mv->display.x0, mv->display.y0));
  return reel_mat3_invert(r, w);
}

/* The moving format must land as a convex quadrilateral of sane size. */
static int sane(const reel_mat3_t *m, const reel_align_luma_t *mv, const reel_align_luma_t *fx) {
  double c[8];
  if (reel_xf_corners(m, mv->display, c)) return 0;
  double area = 0;
  int sign = 0;
  for (int i = 0; i < 4; i++) {
    int j = (i + 1) % 4, k = (i + 2) % 4;
    double cr = (c[2 * j] - c[2 * i]) * (c[2 * k + 1] - c[2 * j + 1]) -
                (c[2 * j + 1] - c[2 * i + 1]) * (c[2 * k] - c[2 * j]);
    int s = cr > 0 ? 1 : -1;
    if (sign && s != sign) return 0;
    sign = s;
    area += c[2 * i] * c[2 * j + 1] - c[2 * j] * c[2 * i + 1];
  }
  double ratio = fabs(area) / 2 / ((double)fx->w * fx->h);
  return ratio > 1.0 / 64 && ratio < 64;
}

int reel_align_solve(reel_cl_t *cl, const reel_align_params_t *p, const reel_align_luma_t *mv,
                     const reel_align_luma_t *fx, reel_align_result_t *r) {
  reel_align_pyramid_t py;
  ecc_t e = {0};
  memset(r, 0, sizeof *r);
  r->residual = NAN;
  double t0 = now();
  const char *why = NULL;
  int rc = reel_align_pyramid(p, mv, fx, REEL_ALIGN_MAXLEV, &py, &why);
  if (rc) return rc > 0 ? fail(r, why) : -1;
  DBG("align: build %.1f ms, %d levels\n", 1e3 * (now() - t0), py.n);
  int top = py.n - 1, it = 0;
  /* the first guess maps format onto format, each axis stretched */
  reel_mat3_t w = {{(double)mv->w / fx->w, 0, 0, 0, (double)mv->h / fx->h, 0, 0, 0, 1}};
  w = scale_by(&w, 1.0 / (1 << top));
  reel_mat3_t *cands = NULL;
  int nc = reel_align_coarse(&py.lv[top], p, &w, &cands);
  if (nc < 0) goto err;
  DBG("align: coarse %.1f ms, %d candidates\n", 1e3 * (now() - t0), nc);
  /* Every candidate gets a few iterations on the top level, through the
   * models up to the one asked for (a homography from an affine solve); the
   * best few by correlation get the rest, and the best of those goes down.
   * The coarse search's own score says little under a strong perspective,
   * so none is dropped unrefined. */
  t0 = now();
  double rho = NAN, score[NKEEP];
  reel_mat3_t kept[NKEEP];
  int nk = 0, first = p->model < REEL_XF_AFFINE ? p->model : REEL_XF_AFFINE;
  if (ecc_open(&e, cl, &py.lv[top])) goto err_c;
  for (int i = 0; i < nc; i++) {
    reel_mat3_t c = cands[i];
    int k = 0;
    for (int mdl = first; !k && mdl <= p->model; mdl++)
      k = ecc_level(&e, mdl, QUICK, p->tolerance, &c, &rho, &it, &why);
    if (k < 0) goto err_c;
    if (k) DBG("align: candidate %d: %s\n", i, why);
    if (k || !(ecc_rho(&e, &c, &rho, &(double){0}) == 0 && isfinite(rho))) continue;
    int at;
    if (nk < NKEEP)
      at = nk++;
    else if (rho > score[NKEEP - 1])
      at = NKEEP - 1;
    else
      continue;
    kept[at] = c, score[at] = rho;
    for (int j = at; j > 0 && score[j] > score[j - 1]; j--) {
      reel_mat3_t tw = kept[j];
      double ts = score[j];
      kept[j] = kept[j - 1], score[j] = score[j - 1];
      kept[j - 1] = tw, score[j - 1] = ts;
    }
  }
  free(cands);
  double best = -2;
  rc = 1;
  for (int i = 0; i < nk; i++) {
    reel_mat3_t c = kept[i];
    int k = 0;
    for (int mdl = first; !k && mdl <= p->model; mdl++)
      k = ecc_level(&e, mdl, p->iterations, p->tolerance, &c, &rho, &it, &why);
    if (k < 0) goto err;
    if (!k && ecc_rho(&e, &c, &rho, &(double){0})) goto err;
    DBG("align: kept %d: quick rho %.4f, %s rho %.5f\n", i, score[i], k ? why : "ok", rho);
    if (!k && rho > best) best = rho, w = c, rc = 0;
  }
  DBG("align: top level %.1f ms, %d iterations\n", 1e3 * (now() - t0), it);
  for (int l = top - 1; !rc && l >= 0; l--) {
    ecc_close(&e);
    w = scale_by(&w, 2);
    if (ecc_open(&e, cl, &py.lv[l])) goto err;
    t0 = now();
    int it0 = it;
    /* on the level below the top a homography starts from an affine solve */
    if (p->model == REEL_XF_HOMOGRAPHY && l == top - 1)
      rc = ecc_level(&e, REEL_XF_AFFINE, p->iterations, p->tolerance, &w, &rho, &it, &why);
    if (!rc) rc = ecc_level(&e, p->model, p->iterations, p->tolerance, &w, &rho, &it, &why);
    if (rc < 0) goto err;
    DBG("align: level %d (%dx%d): %d iterations, rho %.6f, %.1f ms\n", l, py.lv[l].fw, py.lv[l].fh,
        it - it0, rho, 1e3 * (now() - t0));
  }
  r->iterations = it;
  if (rc) {
    fail(r, why ? why : "no hypothesis of the coarse search converged");
  } else {
    double n, valid = 0;
    const reel_align_level_t *l0 = &py.raw;
    ecc_close(&e);
    if (ecc_open(&e, cl, l0) || ecc_rho(&e, &w, &rho, &n)) goto err;
    for (int y = l0->box.y0; y < l0->box.y1; y++)
      for (int x = l0->box.x0; x < l0->box.x1; x++)
        valid += !isnan(l0->fix[(size_t)y * l0->fw + x]);
    r->m = to_abs(&w, mv, fx);
    r->residual = 1 - rho;
    r->coverage = valid > 0 ? n / valid : 0;
    r->ok = 1;
    if (!isfinite(rho))
      fail(r, "the pictures do not overlap");
    else if (!sane(&r->m, mv, fx))
      fail(r, "the estimate folds or collapses the picture");
  }
  ecc_close(&e);
  reel_align_pyramid_free(&py);
  return 0;
err_c:
  free(cands);
err:
  ecc_close(&e);
  reel_align_pyramid_free(&py);
  return -1;
}

int reel_align_measure(reel_cl_t *cl, const reel_align_params_t *p, const reel_align_luma_t *mv,
                       const reel_align_luma_t *fx, const reel_mat3_t *m, double *residual) {
  reel_align_pyramid_t py;
  ecc_t e;
  reel_mat3_t w;
  double rho, n;
  const char *why;
  *residual = NAN;
  int rc = reel_align_pyramid(p, mv, fx, 0, &py, &why);
  if (rc) return rc > 0 ? 0 : -1;
  rc = -1;
  if (from_abs(m, mv, fx, &w) == 0) {
    if (ecc_open(&e, cl, &py.raw)) goto out;
    rc = ecc_rho(&e, &w, &rho, &n);
    ecc_close(&e);
    if (!rc) *residual = 1 - rho;
  } else {
    rc = 0;
  }
out:
  reel_align_pyramid_free(&py);
  return rc;
}
