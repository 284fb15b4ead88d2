/* Fitting a Grade to paired samples (grade.h), on the CPU in double.
 * 3D LUT: each sample spreads over the 8 lattice nodes around its shaper
 * code with trilinear weights; the nodes minimise the weighted squared
 * error plus `smooth` times a membrane term (squared differences of
 * neighbouring nodes) and `prior` times the squared distance, both on the
 * departure from the identity LUT, so cells without samples are filled
 * smoothly and without new extremes, and far from data the LUT returns to
 * the identity. The normal equations are solved by Jacobi-preconditioned
 * conjugate gradients, coarse lattices first (cascadic). CDL: Levenberg-
 * Marquardt on slope, offset, power, saturation. Matrix: linear least
 * squares, 3x3 plus offset. */
#include "error.h"
#include "grade.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int reel_gsamples_add(reel_gsamples_t *s, const float src[3], const float dst[3], float w) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 65536;
    float *a = realloc(s->src, sizeof(float) * 3 * cap);
    if (a) s->src = a;
    float *b = a ? realloc(s->dst, sizeof(float) * 3 * cap) : NULL;
    if (b) s->dst = b;
    float *c = b ? realloc(s->w, sizeof(float) * cap) : NULL;
    if (!c) {
      reel_error(REEL_EIO, "out of memory for %zu samples", cap);
      return -1;
    }
    s->w = c;
    s->cap = cap;
  }
  memcpy(s->src + 3 * s->n, src, sizeof(float) * 3);
  memcpy(s->dst + 3 * s->n, dst, sizeof(float) * 3);
  s->w[s->n++] = w;
  return 0;
}

void reel_gsamples_free(reel_gsamples_t *s) {
  free(s->src);
  free(s->dst);
  free(s->w);
  memset(s, 0, sizeof *s);
}

/* ---- small dense solves ---- */

/* Solves a x = b (n x n, row-major, n <= 16) in place by Gaussian
 * elimination with partial pivoting; nb right-hand sides in b (n x nb).
 * -1 when a pivot falls below tiny times the largest diagonal. */
static int solve(double *a, double *b, int n, int nb) {
  double big = 0;
  for (int i = 0; i < n; i++) big = fmax(big, fabs(a[i * n + i]));
  for (int k = 0; k < n; k++) {
    int p = k;
    for (int i = k + 1; i < n; i++)
      if (fabs(a[i * n + k]) > fabs(a[p * n + k])) p = i;
    if (!(fabs(a[p * n + k]) > 1e-12 * big)) return -1;
    if (p != k) {
      for (int j = 0; j < n; j++) {
        double t = a[k * n + j];
        a[k * n + j] = a[p * n + j], a[p * n + j] = t;
      }
      for (int j = 0; j < nb; j++) {
        double t = b[k * nb + j];
        b[k * nb + j] = b[p * nb + j], b[p * nb + j] = t;
      }
    }
    for (int i = k + 1; i < n; i++) {
      double f = a[i * n + k] / a[k * n + k];
      for (int j = k; j < n; j++) a[i * n + j] -= f * a[k * n + j];
      for (int j = 0; j < nb; j++) b[i * nb + j] -= f * b[k * nb + j];
    }
  }
  for (int k = n - 1; k >= 0; k--)
    for (int j = 0; j < nb; j++) {
      double v = b[k * nb + j];
      for (int i = k + 1; i < n; i++) v -= a[k * n + i] * b[i * nb + j];
      b[k * nb + j] = v / a[k * n + k];
    }
  return 0;
}

static int usable(const reel_gsamples_t *s, size_t i) {
  const float *a = s->src + 3 * i, *b = s->dst + 3 * i;
  return s->w[i] > 0 && isfinite(a[0]) && isfinite(a[1]) && isfinite(a[2]) && isfinite(b[0]) &&
         isfinite(b[1]) && isfinite(b[2]);
}

/* ---- matrix ---- */

static reel_grade_t *fit_matrix(const reel_gsamples_t *s, reel_gfit_stats_t *st) {
  double a[16] = {0}, b[12] = {0}, wsum = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (!usable(s, i)) continue;
    double x[4] = {s->src[3 * i], s->src[3 * i + 1], s->src[3 * i + 2], 1}, w = s->w[i];
    for (int r = 0; r < 4; r++) {
      for (int c = 0; c < 4; c++) a[r * 4 + c] += w * x[r] * x[c];
      for (int c = 0; c < 3; c++) b[r * 3 + c] += w * x[r] * s->dst[3 * i + c];
    }
    wsum += w;
    st->used++;
  }
  if (solve(a, b, 4, 3)) {
    reel_error(REEL_EUSER, "the source pixels do not vary enough in colour to fit a 3x3 "
                           "matrix (all grey, or one flat colour): add frames with more "
                           "colours, or fit method = \"cdl\"");
    return NULL;
  }
  reel_grade_t *g = reel_grade_new();
  reel_gop_t *op = g ? reel_grade_add(g, REEL_GOP_MATRIX, 0) : NULL;
  if (!op) {
    reel_grade_unref(g);
    return NULL;
  }
  for (int r = 0; r < 3; r++) {
    for (int c = 0; c < 3; c++) op->m[r * 3 + c] = b[c * 3 + r];
    op->off[r] = b[9 + r];
  }
  (void)wsum;
  return g;
}

/* ---- CDL ---- */

#define CDL_MAX_SAMPLES 131072
static const double LUMA[3] = {0.2126, 0.7152, 0.0722};

/* The model (CDL_NO_CLAMP) at one sample: outputs and, when J is given,
 * the 3 x 10 Jacobian (slope 0-2, offset 3-5, power 6-8, saturation 9). */
static void cdl_eval(const double *t, const float *x, double *out, double *J) {
  double v[3], dv[3][3], l = 0;
  for (int c = 0; c < 3; c++) {
    double y = x[c] * t[c] + t[3 + c], p = t[6 + c];
    if (y > 0) {
      double yp = pow(y, p), yd = y > 1e-6 ? y : 1e-6;
      v[c] = yp;
      double d = p * pow(yd, p - 1);
      dv[c][0] = d * x[c], dv[c][1] = d, dv[c][2] = yp * log(yd);
    } else {
      v[c] = y;
      dv[c][0] = x[c], dv[c][1] = 1, dv[c][2] = 0;
    }
    l += LUMA[c] * v[c];
  }
  double sat = t[9];
  for (int k = 0; k < 3; k++) {
    out[k] = l + sat * (v[k] - l);
    if (!J) continue;
    double *row = J + 10 * k;
    for (int j = 0; j < 3; j++) {
      double g = (1 - sat) * LUMA[j] + (j == k ? sat : 0);
      row[j] = g * dv[j][0], row[3 + j] = g * dv[j][1], row[6 + j] = g * dv[j][2];
    }
    row[9] = v[k] - l;
  }
}

static double cdl_cost(const double *t, const reel_gsamples_t *s, const size_t *idx, size_t n) {
  double c = 0, o[3];
  for (size_t k = 0; k < n; k++) {
    size_t i = idx[k];
    cdl_eval(t, s->src + 3 * i, o, NULL);
    for (int ch = 0; ch < 3; ch++) {
      double r = o[ch] - s->dst[3 * i + ch];
      c += s->w[i] * r * r;
    }
  }
  return c;
}

static void cdl_clamp(double *t) {
  for (int c = 0; c < 3; c++) {
    t[c] = fmax(t[c], 0);
    t[6 + c] = fmin(fmax(t[6 + c], 0.01), 100);
  }
  t[9] = fmax(t[9], 0);
}

static reel_grade_t *fit_cdl(const reel_gsamples_t *s, reel_gfit_stats_t *st) {
  /* a deterministic, evenly spread subset: 10 parameters need no more */
  size_t nu = 0;
  for (size_t i = 0; i < s->n; i++) nu += usable(s, i);
  size_t step = nu > CDL_MAX_SAMPLES ? (nu + CDL_MAX_SAMPLES - 1) / CDL_MAX_SAMPLES : 1, n = 0;
  size_t *idx = malloc(sizeof(size_t) * (nu / step + 1));
  if (!idx) {
    reel_error(REEL_EIO, "out of memory");
    return NULL;
  }
  for (size_t i = 0, u = 0; i < s->n; i++)
    if (usable(s, i) && u++ % step == 0) idx[n++] = i;
  st->used = n;
  double t[10] = {1, 1, 1, 0, 0, 0, 1, 1, 1, 1}, cost = cdl_cost(t, s, idx, n), mu = 1e-3;
  int it, done = 0;
  for (it = 0; it < 200 && !done; it++) {
    double JtJ[100] = {0}, Jtr[10] = {0}, J[30], o[3];
    for (size_t k = 0; k < n; k++) {
      size_t i = idx[k];
      double w = s->w[i];
      cdl_eval(t, s->src + 3 * i, o, J);
      for (int ch = 0; ch < 3; ch++) {
        const double *row = J + 10 * ch;
        double r = o[ch] - s->dst[3 * i + ch];
        for (int a = 0; a < 10; a++) {
          Jtr[a] += w * row[a] * r;
          for (int b = a; b < 10; b++) JtJ[a * 10 + b] += w * row[a] * row[b];
        }
      }
    }
    for (int a = 0; a < 10; a++)
      for (int b = 0; b < a; b++) JtJ[a * 10 + b] = JtJ[b * 10 + a];
    int improved = 0;
    for (int tries = 0; tries < 12 && !improved; tries++) {
      double m[100], d[10], tn[10];
      memcpy(m, JtJ, sizeof m);
      for (int a = 0; a < 10; a++) {
        m[a * 10 + a] += mu * (JtJ[a * 10 + a] + 1e-12);
        d[a] = -Jtr[a];
      }
      if (solve(m, d, 10, 1)) {
        mu *= 10;
        continue;
      }
      for (int a = 0; a < 10; a++) tn[a] = t[a] + d[a];
      cdl_clamp(tn);
      double cn = cdl_cost(tn, s, idx, n);
      if (cn < cost) {
        double gain = cost - cn;
        memcpy(t, tn, sizeof t);
        improved = 1;
        mu = fmax(mu * 0.3, 1e-9);
        cost = cn;
        /* converged: no relative progress, or an exact fit */
        done = gain <= 1e-10 * (cost + gain) || cost <= 1e-24 * (double)n;
      } else {
        mu *= 10;
      }
    }
    done |= !improved;
  }
  free(idx);
  st->iterations = it;
  reel_grade_t *g = reel_grade_new();
  reel_gop_t *op = g ? reel_grade_add(g, REEL_GOP_CDL, 0) : NULL;
  if (!op) {
    reel_grade_unref(g);
    return NULL;
  }
  for (int c = 0; c < 3; c++)
    op->slope[c] = t[c], op->offset[c] = t[3 + c], op->power[c] = t[6 + c];
  op->sat = t[9];
  return g;
}

/* ---- 3D LUT ---- */

typedef struct {
  const reel_gsamples_t *s;
  const reel_gfit_opts_t *o;
  reel_gop_t shaper; /* when o->shaper >= 0 */
  float *code;       /* per sample: lattice coordinates in [0, 1]^3 (NaN: unusable) */
} lut_ctx_t;

/* Identity output of lattice coordinate i of n along one axis. */
static double ident(const lut_ctx_t *c, int i, int n) {
  double v = (double)i / (n - 1);
  return c->o->shaper >= 0 ? reel_shaper_decode(&c->shaper, v) : v;
}

/* Corner k (bits r, g, b) of the cell holding coordinates u: node index
 * and weight, trilinear or (tetra) tetrahedral, as ApplyGrade will
 * interpolate; a tetrahedron leaves four of the eight weights 0. */
static void corners(const float *u, int n, int tetra, size_t node[8], double w[8], int cell[3]) {
  double f[3];
  for (int c = 0; c < 3; c++) {
    double p = u[c] * (n - 1);
    int i = (int)p;
    if (i > n - 2) i = n - 2;
    cell[c] = i;
    f[c] = p - i;
  }
  for (int k = 0; k < 8; k++) {
    int dr = k & 1, dg = k >> 1 & 1, db = k >> 2;
    node[k] = ((size_t)(cell[2] + db) * n + (size_t)(cell[1] + dg)) * n + (size_t)(cell[0] + dr);
    w[k] = (dr ? f[0] : 1 - f[0]) * (dg ? f[1] : 1 - f[1]) * (db ? f[2] : 1 - f[2]);
  }
  if (!tetra) return;
  /* the path 000 -> a -> b -> 111 along the axes in decreasing fraction */
  int ax[3] = {0, 1, 2};
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2 - i; j++)
      if (f[ax[j]] < f[ax[j + 1]]) {
        int t = ax[j];
        ax[j] = ax[j + 1], ax[j + 1] = t;
      }
  int a = 1 << ax[0], b = a | 1 << ax[1];
  for (int k = 0; k < 8; k++) w[k] = 0;
  w[0] = 1 - f[ax[0]], w[a] = f[ax[0]] - f[ax[1]], w[b] = f[ax[1]] - f[ax[2]], w[7] = f[ax[2]];
}

/* y = (alpha A + smooth L + prior I) x for three channels; A: 27 bands per
 * node (offsets dr, dg, db in -1..1, band (db+1) 9 + (dg+1) 3 + dr+1). */
static void matvec(const double *A, double alpha, double lam, double mu, int n, const double *x,
                   double *y) {
  for (int b = 0; b < n; b++)
    for (int g = 0; g < n; g++)
      for (int r = 0; r < n; r++) {
        size_t i = ((size_t)b * n + g) * n + r;
        double acc[3] = {0, 0, 0}, deg = 0;
        const double *Ai = A + 27 * i;
        /* most nodes of a large lattice hold no samples: no data row */
        for (int db = -1; db <= 1 && Ai[13] != 0; db++) {
          if (b + db < 0 || b + db >= n) continue;
          for (int dg = -1; dg <= 1; dg++) {
            if (g + dg < 0 || g + dg >= n) continue;
            for (int dr = -1; dr <= 1; dr++) {
              if (r + dr < 0 || r + dr >= n) continue;
              double a = Ai[(db + 1) * 9 + (dg + 1) * 3 + dr + 1];
              if (a == 0) continue;
              const double *xj = x + 3 * (i + ((ptrdiff_t)db * n + dg) * n + dr);
              acc[0] += a * xj[0], acc[1] += a * xj[1], acc[2] += a * xj[2];
            }
          }
        }
        double nb[3] = {0, 0, 0};
        const ptrdiff_t step[3] = {1, n, (ptrdiff_t)n * n};
        const int pos[3] = {r, g, b};
        for (int ax = 0; ax < 3; ax++)
          for (int sgn = -1; sgn <= 1; sgn += 2) {
            if (pos[ax] + sgn < 0 || pos[ax] + sgn >= n) continue;
            const double *xj = x + 3 * (i + sgn * step[ax]);
            nb[0] += xj[0], nb[1] += xj[1], nb[2] += xj[2];
            deg++;
          }
        for (int c = 0; c < 3; c++)
          y[3 * i + c] = alpha * acc[c] + (mu + lam * deg) * x[3 * i + c] - lam * nb[c];
      }
}

/* band[a][b]: the band of node a's row that holds corner b of a cell */
static unsigned char band[8][8];

static void init_bands(void) {
  for (int a = 0; a < 8; a++)
    for (int b = 0; b < 8; b++) {
      int db = (b >> 2) - (a >> 2), dg = (b >> 1 & 1) - (a >> 1 & 1), dr = (b & 1) - (a & 1);
      band[a][b] = (unsigned char)((db + 1) * 9 + (dg + 1) * 3 + dr + 1);
    }
}

/* One lattice of n: accumulates the normal equations from every stride-th
 * usable sample, starts from d (the departure from the identity, n^3 x 3,
 * filled by the caller) and refines it by PCG to relative residual tol. */
static int solve_level(const lut_ctx_t *c, int n, size_t stride, double tol, int maxit, double *d,
                       int *iters) {
  size_t m = (size_t)n * n * n;
  double *A = calloc(27 * m, sizeof(double)), *rhs = calloc(3 * m, sizeof(double));
  double *r = malloc(sizeof(double) * 3 * m), *z = malloc(sizeof(double) * 3 * m);
  double *p = malloc(sizeof(double) * 3 * m), *q = malloc(sizeof(double) * 3 * m);
  double *dg = malloc(sizeof(double) * m), *id = malloc(sizeof(double) * n);
  int rc = -1;
  if (!A || !rhs || !r || !z || !p || !q || !dg || !id) {
    reel_error(REEL_EIO, "out of memory for a %d^3 LUT fit", n);
    goto out;
  }
  for (int i = 0; i < n; i++) id[i] = ident(c, i, n);
  init_bands();
  double wsum = 0;
  for (size_t s = 0, u = 0; s < c->s->n; s++) {
    const float *uc = c->code + 3 * s;
    if (isnan(uc[0]) || u++ % stride) continue;
    size_t node[8];
    double w[8], sw = c->s->w[s], pred[3] = {0, 0, 0};
    int cell[3];
    corners(uc, n, c->o->tetra, node, w, cell);
    for (int k = 0; k < 8; k++) {
      pred[0] += w[k] * id[cell[0] + (k & 1)];
      pred[1] += w[k] * id[cell[1] + (k >> 1 & 1)];
      pred[2] += w[k] * id[cell[2] + (k >> 2)];
    }
    const float *t = c->s->dst + 3 * s;
    double res[3] = {t[0] - pred[0], t[1] - pred[1], t[2] - pred[2]};
    for (int a = 0; a < 8; a++) {
      double wa = sw * w[a];
      if (wa == 0) continue; /* a tetrahedron leaves four corners out */
      double *Aa = A + 27 * node[a];
      for (int b = 0; b < 8; b++) Aa[band[a][b]] += wa * w[b];
      for (int ch = 0; ch < 3; ch++) rhs[3 * node[a] + ch] += wa * res[ch];
    }
    wsum += sw;
  }
  size_t touched = 0;
  for (size_t i = 0; i < m; i++) touched += A[27 * i + 13] > 0;
  /* data weight normalised so that an average node with samples weighs 1 */
  double alpha = wsum > 0 ? (double)touched / wsum : 0, lam = c->o->smooth, mu = c->o->prior;
  for (size_t i = 0; i < 3 * m; i++) rhs[i] *= alpha;
  for (int b = 0; b < n; b++)
    for (int g = 0; g < n; g++)
      for (int rr = 0; rr < n; rr++) {
        size_t i = ((size_t)b * n + g) * n + rr;
        int deg = (rr > 0) + (rr < n - 1) + (g > 0) + (g < n - 1) + (b > 0) + (b < n - 1);
        dg[i] = 1 / (alpha * A[27 * i + 13] + lam * deg + mu);
      }
  /* PCG, three right-hand sides at once, each with its own step sizes */
  matvec(A, alpha, lam, mu, n, d, q);
  double rz[3] = {0}, bn[3] = {0};
  for (size_t i = 0; i < m; i++)
    for (int ch = 0; ch < 3; ch++) {
      size_t k = 3 * i + ch;
      r[k] = rhs[k] - q[k];
      z[k] = dg[i] * r[k];
      p[k] = z[k];
      rz[ch] += r[k] * z[k];
      bn[ch] += rhs[k] * rhs[k];
    }
  int it = 0, done[3];
  for (int ch = 0; ch < 3; ch++) done[ch] = !(bn[ch] > 0) || rz[ch] <= 0;
  for (; it < maxit && !(done[0] && done[1] && done[2]); it++) {
    matvec(A, alpha, lam, mu, n, p, q);
    double pq[3] = {0}, a[3];
    for (size_t k = 0; k < 3 * m; k++) pq[k % 3] += p[k] * q[k];
    for (int ch = 0; ch < 3; ch++) a[ch] = done[ch] || !(pq[ch] > 0) ? 0 : rz[ch] / pq[ch];
    double rn[3] = {0}, rzn[3] = {0};
    for (size_t i = 0; i < m; i++)
      for (int ch = 0; ch < 3; ch++) {
        size_t k = 3 * i + ch;
        d[k] += a[ch] * p[k];
        r[k] -= a[ch] * q[k];
        z[k] = dg[i] * r[k];
        rn[ch] += r[k] * r[k];
        rzn[ch] += r[k] * z[k];
      }
    double beta[3];
    for (int ch = 0; ch < 3; ch++) {
      if (!done[ch] && rn[ch] <= tol * tol * bn[ch]) done[ch] = 1;
      beta[ch] = done[ch] || !(rz[ch] > 0) ? 0 : rzn[ch] / rz[ch];
      rz[ch] = rzn[ch];
    }
    for (size_t k = 0; k < 3 * m; k++) p[k] = z[k] + beta[k % 3] * p[k];
  }
  *iters += it;
  rc = 0;
out:
  free(A), free(rhs), free(r), free(z), free(p), free(q), free(dg), free(id);
  return rc;
}

/* Trilinear resampling of a departure field from a lattice of nc to n. */
static void prolong(const double *dc, int nc, double *d, int n) {
  for (int b = 0; b < n; b++)
    for (int g = 0; g < n; g++)
      for (int r = 0; r < n; r++) {
        float u[3] = {(float)r / (n - 1), (float)g / (n - 1), (float)b / (n - 1)};
        size_t node[8];
        double w[8];
        int cell[3];
        corners(u, nc, 0, node, w, cell);
        double *o = d + 3 * (((size_t)b * n + g) * n + r);
        o[0] = o[1] = o[2] = 0;
        for (int k = 0; k < 8; k++)
          for (int ch = 0; ch < 3; ch++) o[ch] += w[k] * dc[3 * node[k] + ch];
      }
}

static reel_grade_t *fit_lut(const reel_gsamples_t *s, const reel_gfit_opts_t *o,
                             reel_gfit_stats_t *st) {
  lut_ctx_t c = {s, o, {0}, NULL};
  reel_grade_t *g = NULL;
  double *d = NULL, *dc = NULL;
  if (o->shaper >= 0) {
    c.shaper.kind = REEL_GOP_SHAPER;
    c.shaper.shaper = (reel_shaper_t)o->shaper;
    c.shaper.log2_min = o->log2_min, c.shaper.log2_max = o->log2_max;
    c.shaper.log2_grey = o->log2_grey;
  }
  if (!(c.code = malloc(sizeof(float) * 3 * (s->n ? s->n : 1)))) {
    reel_error(REEL_EIO, "out of memory for %zu samples", s->n);
    return NULL;
  }
  for (size_t i = 0; i < s->n; i++) {
    float *u = c.code + 3 * i;
    if (!usable(s, i)) {
      u[0] = NAN;
      continue;
    }
    st->used++;
    for (int ch = 0; ch < 3; ch++) {
      double x = s->src[3 * i + ch];
      double v = o->shaper >= 0 ? reel_shaper_encode(&c.shaper, x) : x;
      u[ch] = (float)(v > 0 ? (v < 1 ? v : 1) : 0);
    }
  }
  /* the lattices: n, then about half of it down to 9 or so */
  int sizes[8], nl = 0;
  for (int n = o->size; nl < 8; n = (n + 1) / 2) {
    sizes[nl++] = n;
    if (n <= 12) break;
  }
  int nc = 0;
  for (int l = nl - 1; l >= 0; l--) {
    int n = sizes[l];
    size_t m = (size_t)n * n * n;
    if (!(d = calloc(3 * m, sizeof(double)))) {
      reel_error(REEL_EIO, "out of memory for a %d^3 LUT fit", n);
      goto out;
    }
    if (dc) prolong(dc, nc, d, n);
    /* coarse lattices only start the fine one: fewer samples, looser tolerance */
    size_t stride = (size_t)1 << (2 * l);
    if (solve_level(&c, n, stride, l ? 1e-3 : 1e-5, l ? 200 : 400, d, &st->iterations)) goto out;
    free(dc);
    dc = d, nc = n, d = NULL;
  }
  int n = o->size;
  if (!(g = reel_grade_new())) goto out;
  if (o->shaper >= 0 &&
      !reel_grade_add_shaper(g, (reel_shaper_t)o->shaper, o->log2_min, o->log2_max, o->log2_grey))
    goto fail;
  reel_gop_t *op = reel_grade_add(g, REEL_GOP_LUT3D, n);
  if (!op) goto fail;
  for (int b = 0, k = 0; b < n; b++)
    for (int gg = 0; gg < n; gg++)
      for (int r = 0; r < n; r++, k += 3) {
        op->lut[k] = (float)(ident(&c, r, n) + dc[k]);
        op->lut[k + 1] = (float)(ident(&c, gg, n) + dc[k + 1]);
        op->lut[k + 2] = (float)(ident(&c, b, n) + dc[k + 2]);
      }
  goto out;
fail:
  reel_grade_unref(g);
  g = NULL;
out:
  free(c.code);
  free(d);
  free(dc);
  return g;
}

reel_grade_t *reel_grade_fit(const reel_gsamples_t *s, const reel_gfit_opts_t *o,
                             reel_gfit_stats_t *st) {
  reel_gfit_stats_t local;
  if (!st) st = &local;
  memset(st, 0, sizeof *st);
  size_t nu = 0;
  for (size_t i = 0; i < s->n; i++) nu += usable(s, i);
  if (nu < 64) {
    reel_error(REEL_EUSER, "only %zu usable sample%s (pixels inside both images, with weight "
                           "> 0 and finite values): check the mask, the frames and the data "
                           "windows",
               nu, nu == 1 ? "" : "s");
    return NULL;
  }
  if (o->method == REEL_GFIT_LUT3D && (o->size < 2 || o->size > REEL_LUT3D_MAX)) {
    reel_error(REEL_EUSER, "LUT size %d is outside 2-%d", o->size, REEL_LUT3D_MAX);
    return NULL;
  }
  reel_grade_t *g = o->method == REEL_GFIT_MATRIX ? fit_matrix(s, st)
                    : o->method == REEL_GFIT_CDL  ? fit_cdl(s, st)
                                                  : fit_lut(s, o, st);
  if (!g) return NULL;
  if (reel_grade_check(g, "fitted grade")) {
    reel_grade_unref(g);
    return NULL;
  }
  /* residual over every usable sample, as ApplyGrade will compute it */
  double e = 0, w = 0, out[3];
  for (size_t i = 0; i < s->n; i++) {
    if (!usable(s, i)) continue;
    double in[3] = {s->src[3 * i], s->src[3 * i + 1], s->src[3 * i + 2]};
    reel_grade_apply(g, o->tetra, in, out);
    for (int ch = 0; ch < 3; ch++) {
      double r = out[ch] - s->dst[3 * i + ch];
      e += s->w[i] * r * r;
    }
    w += 3 * s->w[i];
  }
  st->rms = w > 0 ? sqrt(e / w) : 0;
  return g;
}
