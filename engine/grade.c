/* Grade values (grade.h): the chain of operations, its checks, its
 * evaluation in double on the CPU (the reference for the kernel, and how
 * Write bakes a Grade) and on the device (a kernel generated per chain,
 * opencl/lut.cl), and the serialisation the disk cache stores. LUT lookups
 * follow OpenColorIO's CPU path: normalise by the domain, clamp to the
 * table, interpolate linearly (1D), trilinearly or tetrahedrally (3D). */
#include "grade.h"
#include "error.h"
#include "image.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the value class ---- */

static void destroy(reel_value_t *v) {
  reel_grade_t *g = (reel_grade_t *)v;
  for (int i = 0; i < g->nops; i++) free(g->op[i].lut);
  free(g->info);
  free(g);
}

static size_t lut_floats(const reel_gop_t *op) {
  size_t n = (size_t)op->size;
  if (op->kind == REEL_GOP_LUT1D) return 3 * n;
  if (op->kind == REEL_GOP_LUT3D) return 3 * n * n * n;
  return 0;
}

static size_t bytes(const reel_value_t *v) {
  const reel_grade_t *g = (const reel_grade_t *)v;
  size_t b = sizeof *g + (g->info ? strlen(g->info) : 0);
  for (int i = 0; i < g->nops; i++) b += lut_floats(&g->op[i]) * sizeof(float);
  return b;
}

#define FORMAT 1

static int save(const reel_value_t *v, reel_buf_t *out) {
  const reel_grade_t *g = (const reel_grade_t *)v;
  if (reel_buf_u32(out, FORMAT) || reel_buf_u32(out, (uint32_t)g->nops)) return -1;
  for (int i = 0; i < g->nops; i++) {
    const reel_gop_t *op = &g->op[i];
    const double d[] = {op->lo[0],     op->lo[1],     op->lo[2],     op->hi[0],     op->hi[1],
                        op->hi[2],     op->log2_min,  op->log2_max,  op->log2_grey, op->slope[0],
                        op->slope[1],  op->slope[2],  op->offset[0], op->offset[1], op->offset[2],
                        op->power[0],  op->power[1],  op->power[2],  op->sat,       op->m[0],
                        op->m[1],      op->m[2],      op->m[3],      op->m[4],      op->m[5],
                        op->m[6],      op->m[7],      op->m[8],      op->off[0],    op->off[1],
                        op->off[2]};
    if (reel_buf_u32(out, (uint32_t)op->kind) || reel_buf_u32(out, (uint32_t)op->size) ||
        reel_buf_u32(out, (uint32_t)op->shaper) || reel_buf_u32(out, (uint32_t)op->clamp))
      return -1;
    for (size_t k = 0; k < sizeof d / sizeof d[0]; k++)
      if (reel_buf_f64(out, d[k])) return -1;
    size_t n = lut_floats(op);
    unsigned char *x = n ? reel_buf_grow(out, 4 * n) : NULL;
    if (n && !x) return -1;
    for (size_t k = 0; k < n; k++, x += 4) {
      uint32_t u;
      memcpy(&u, &op->lut[k], 4);
      x[0] = (unsigned char)u, x[1] = (unsigned char)(u >> 8);
      x[2] = (unsigned char)(u >> 16), x[3] = (unsigned char)(u >> 24);
    }
  }
  return reel_buf_str(out, g->info);
}

static reel_value_t *load(reel_rd_t *in) {
  uint32_t fmt = reel_rd_u32(in), nops = reel_rd_u32(in);
  if (in->bad || fmt != FORMAT || nops > REEL_GRADE_MAXOPS) return NULL;
  reel_grade_t *g = reel_grade_new();
  if (!g) return NULL;
  for (uint32_t i = 0; i < nops; i++) {
    uint32_t kind = reel_rd_u32(in), size = reel_rd_u32(in);
    if (in->bad || kind > REEL_GOP_MATRIX ||
        (kind == REEL_GOP_LUT1D && (size < 2 || size > REEL_LUT1D_MAX)) ||
        (kind == REEL_GOP_LUT3D && (size < 2 || size > REEL_LUT3D_MAX)))
      goto bad;
    reel_gop_t *op = reel_grade_add(g, (reel_gop_kind_t)kind, (int)size);
    if (!op) goto bad;
    op->shaper = reel_rd_u32(in) ? REEL_SHAPER_ACESCCT : REEL_SHAPER_LOG2;
    op->clamp = reel_rd_u32(in) != 0;
    double *d[] = {&op->lo[0],     &op->lo[1],     &op->lo[2],     &op->hi[0],    &op->hi[1],
                   &op->hi[2],     &op->log2_min,  &op->log2_max,  &op->log2_grey, &op->slope[0],
                   &op->slope[1],  &op->slope[2],  &op->offset[0], &op->offset[1], &op->offset[2],
                   &op->power[0],  &op->power[1],  &op->power[2],  &op->sat,       &op->m[0],
                   &op->m[1],      &op->m[2],      &op->m[3],      &op->m[4],      &op->m[5],
                   &op->m[6],      &op->m[7],      &op->m[8],      &op->off[0],    &op->off[1],
                   &op->off[2]};
    for (size_t k = 0; k < sizeof d / sizeof d[0]; k++) *d[k] = reel_rd_f64(in);
    size_t n = lut_floats(op);
    const unsigned char *x = n ? reel_rd_take(in, 4 * n) : NULL;
    if (in->bad) goto bad;
    for (size_t k = 0; k < n; k++, x += 4) {
      uint32_t u = (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 |
                   (uint32_t)x[3] << 24;
      memcpy(&op->lut[k], &u, 4);
    }
  }
  g->info = reel_rd_strdup(in);
  if (in->bad || reel_grade_check(g, "cached grade")) goto bad;
  if (g->info && !*g->info) {
    free(g->info);
    g->info = NULL;
  }
  return &g->v;
bad:
  reel_grade_unref(g);
  return NULL;
}

const reel_value_class_t reel_grade_class = {REEL_V_GRADE, "Grade", destroy, bytes, save, load};

/* value.c keeps the classes of the core types; later types add themselves
 * when the library is loaded. */
void reel_value_register(const reel_value_class_t *cls);
__attribute__((constructor)) static void register_class(void) {
  reel_value_register(&reel_grade_class);
}

/* ---- building ---- */

reel_grade_t *reel_grade_new(void) {
  reel_grade_t *g = calloc(1, sizeof *g);
  if (!g) {
    reel_error(REEL_EIO, "out of memory");
    return NULL;
  }
  reel_value_init(&g->v, &reel_grade_class);
  return g;
}

reel_grade_t *reel_grade_cast(reel_value_t *v) {
  return v && v->cls == &reel_grade_class ? (reel_grade_t *)v : NULL;
}

reel_gop_t *reel_grade_add(reel_grade_t *g, reel_gop_kind_t kind, int size) {
  if (g->nops >= REEL_GRADE_MAXOPS) {
    reel_error(REEL_EUSER, "a grade holds at most %d operations", REEL_GRADE_MAXOPS);
    return NULL;
  }
  reel_gop_t *op = &g->op[g->nops];
  memset(op, 0, sizeof *op);
  op->kind = kind;
  for (int c = 0; c < 3; c++) {
    op->hi[c] = 1;
    op->slope[c] = op->power[c] = 1;
    op->m[4 * c] = 1;
  }
  op->sat = 1;
  op->log2_min = -6.5, op->log2_max = 6.5, op->log2_grey = 0.18;
  if (kind == REEL_GOP_LUT1D || kind == REEL_GOP_LUT3D) {
    int max = kind == REEL_GOP_LUT1D ? REEL_LUT1D_MAX : REEL_LUT3D_MAX;
    if (size < 2 || size > max) {
      reel_error(REEL_EUSER, "%s size %d is outside 2-%d",
                 kind == REEL_GOP_LUT1D ? "1D LUT" : "3D LUT", size, max);
      return NULL;
    }
    op->size = size;
    if (!(op->lut = malloc(lut_floats(op) * sizeof(float)))) {
      reel_error(REEL_EIO, "out of memory for a LUT of %d entries per axis", size);
      return NULL;
    }
    double s = 1.0 / (size - 1);
    if (kind == REEL_GOP_LUT1D)
      for (int i = 0; i < size; i++)
        for (int c = 0; c < 3; c++) op->lut[3 * i + c] = (float)(i * s);
    else
      for (int b = 0, k = 0; b < size; b++)
        for (int gg = 0; gg < size; gg++)
          for (int r = 0; r < size; r++, k += 3) {
            op->lut[k] = (float)(r * s);
            op->lut[k + 1] = (float)(gg * s);
            op->lut[k + 2] = (float)(b * s);
          }
  }
  g->nops++;
  return op;
}

reel_gop_t *reel_grade_add_shaper(reel_grade_t *g, reel_shaper_t s, double log2_min,
                                  double log2_max, double log2_grey) {
  reel_gop_t *op = reel_grade_add(g, REEL_GOP_SHAPER, 0);
  if (op) {
    op->shaper = s;
    op->log2_min = log2_min, op->log2_max = log2_max, op->log2_grey = log2_grey;
  }
  return op;
}

int reel_grade_set_info(reel_grade_t *g, const char *text) {
  char *s = text ? strdup(text) : NULL;
  if (text && !s) {
    reel_error(REEL_EIO, "out of memory");
    return -1;
  }
  free(g->info);
  g->info = s;
  return 0;
}

void reel_grade_describe(const reel_grade_t *g, char *out, size_t cap) {
  size_t at = 0;
  out[0] = 0;
  if (!g->nops) snprintf(out, cap, "identity");
  for (int i = 0; i < g->nops && at < cap; i++) {
    const reel_gop_t *op = &g->op[i];
    const char *sep = i ? " -> " : "";
    int k = 0;
    switch (op->kind) {
    case REEL_GOP_SHAPER:
      k = op->shaper == REEL_SHAPER_ACESCCT
              ? snprintf(out + at, cap - at, "%sshaper acescct", sep)
              : snprintf(out + at, cap - at, "%sshaper log2 [%g, %g] stops @ %g", sep, op->log2_min,
                         op->log2_max, op->log2_grey);
      break;
    case REEL_GOP_LUT1D:
      k = snprintf(out + at, cap - at, "%s1D LUT %d", sep, op->size);
      break;
    case REEL_GOP_LUT3D:
      k = snprintf(out + at, cap - at, "%s3D LUT %d^3", sep, op->size);
      break;
    case REEL_GOP_CDL:
      k = snprintf(out + at, cap - at,
                   "%sCDL slope %.6g %.6g %.6g offset %.6g %.6g %.6g power %.6g %.6g %.6g sat %.6g",
                   sep, op->slope[0], op->slope[1], op->slope[2], op->offset[0], op->offset[1],
                   op->offset[2], op->power[0], op->power[1], op->power[2], op->sat);
      break;
    case REEL_GOP_MATRIX:
      k = snprintf(out + at, cap - at, "%smatrix", sep);
      break;
    }
    if (k < 0) break;
    at += (size_t)k;
  }
}

static int finite_all(const double *d, int n) {
  for (int i = 0; i < n; i++)
    if (!isfinite(d[i])) return 0;
  return 1;
}

int reel_grade_check(const reel_grade_t *g, const char *what) {
  for (int i = 0; i < g->nops; i++) {
    const reel_gop_t *op = &g->op[i];
    int n = i + 1;
    switch (op->kind) {
    case REEL_GOP_LUT1D:
    case REEL_GOP_LUT3D:
      for (int c = 0; c < 3; c++)
        if (!isfinite(op->lo[c]) || !isfinite(op->hi[c]) || !(op->hi[c] > op->lo[c])) {
          reel_error(REEL_EUSER, "%s: operation %d: the input domain [%g, %g] is empty", what, n,
                     op->lo[c], op->hi[c]);
          return -1;
        }
      for (size_t k = 0; k < lut_floats(op); k++)
        if (!isfinite(op->lut[k])) {
          reel_error(REEL_EUSER, "%s: operation %d: LUT entry %zu is not a finite number", what, n,
                     k / 3);
          return -1;
        }
      break;
    case REEL_GOP_SHAPER:
      if (op->shaper == REEL_SHAPER_LOG2 &&
          (!(op->log2_max > op->log2_min) || !(op->log2_grey > 0) ||
           !finite_all(&op->log2_min, 1) || !finite_all(&op->log2_max, 1))) {
        reel_error(REEL_EUSER, "%s: operation %d: log2 shaper needs max > min and grey > 0", what,
                   n);
        return -1;
      }
      break;
    case REEL_GOP_CDL:
      if (!finite_all(op->slope, 3) || !finite_all(op->offset, 3) || !finite_all(op->power, 3) ||
          !finite_all(&op->sat, 1)) {
        reel_error(REEL_EUSER, "%s: operation %d: CDL values must be finite numbers", what, n);
        return -1;
      }
      break;
    case REEL_GOP_MATRIX:
      if (!finite_all(op->m, 9) || !finite_all(op->off, 3)) {
        reel_error(REEL_EUSER, "%s: operation %d: matrix values must be finite numbers", what, n);
        return -1;
      }
      break;
    }
  }
  return 0;
}

/* ---- the shapers ---- */

/* ACES S-2016-001 */
#define CCT_BRK 0.0078125
#define CCT_A 10.5402377416545
#define CCT_B 0.0729055341958355

double reel_shaper_encode(const reel_gop_t *op, double x) {
  if (op->shaper == REEL_SHAPER_ACESCCT)
    return x < CCT_BRK ? CCT_A * x + CCT_B : (log2(x) + 9.72) / 17.52;
  /* as color_encode: log2 of tiny or negative values is that of 1e-30 */
  double l = log2(x > 1e-30 ? x : 1e-30);
  return (l - log2(op->log2_grey) - op->log2_min) / (op->log2_max - op->log2_min);
}

double reel_shaper_decode(const reel_gop_t *op, double v) {
  if (op->shaper == REEL_SHAPER_ACESCCT)
    return v < CCT_A * CCT_BRK + CCT_B ? (v - CCT_B) / CCT_A : exp2(v * 17.52 - 9.72);
  return op->log2_grey * exp2(op->log2_min + v * (op->log2_max - op->log2_min));
}

/* lut_shaper's floats (opencl/lut.cl): log2 scale and offset, the toe's
 * break, slope and offset. */
void reel_shaper_pack(const reel_gop_t *op, float e[5]) {
  double r = op->log2_max - op->log2_min;
  double log2c[5] = {1 / r, -(log2(op->log2_grey) + op->log2_min) / r, -FLT_MAX, 0, 0};
  double cct[5] = {1 / 17.52, 9.72 / 17.52, CCT_BRK, CCT_A, CCT_B};
  const double *s = op->shaper == REEL_SHAPER_ACESCCT ? cct : log2c;
  for (int i = 0; i < 5; i++) e[i] = (float)s[i];
}

/* ---- evaluation in double ---- */

/* Normalised, clamped position in a table of n entries: index i in
 * [0, n - 2] and fraction f in [0, 1]. NaN goes to 0. */
static void locate(double x, double lo, double hi, int n, int *i, double *f) {
  double t = (x - lo) / (hi - lo);
  t = t > 0 ? (t < 1 ? t : 1) : 0;
  double p = t * (n - 1);
  int k = (int)p;
  if (k > n - 2) k = n - 2;
  *i = k;
  *f = p - k;
}

static void lut3d(const reel_gop_t *op, int tetra, const double in[3], double out[3]) {
  int n = op->size, i[3];
  double f[3];
  for (int c = 0; c < 3; c++) locate(in[c], op->lo[c], op->hi[c], n, &i[c], &f[c]);
  const float *t = op->lut;
#define AT(dr, dg, db, c)                                                                          \
  ((double)t[3 * (((size_t)(i[2] + (db)) * n + (i[1] + (dg))) * n + (i[0] + (dr))) + (c)])
  for (int c = 0; c < 3; c++) {
    if (!tetra) {
      double c00 = AT(0, 0, 0, c) + f[0] * (AT(1, 0, 0, c) - AT(0, 0, 0, c));
      double c10 = AT(0, 1, 0, c) + f[0] * (AT(1, 1, 0, c) - AT(0, 1, 0, c));
      double c01 = AT(0, 0, 1, c) + f[0] * (AT(1, 0, 1, c) - AT(0, 0, 1, c));
      double c11 = AT(0, 1, 1, c) + f[0] * (AT(1, 1, 1, c) - AT(0, 1, 1, c));
      double c0 = c00 + f[1] * (c10 - c00), c1 = c01 + f[1] * (c11 - c01);
      out[c] = c0 + f[2] * (c1 - c0);
      continue;
    }
    /* the tetrahedron of the cell that holds the point, by the order of
     * the fractions (Kasson et al. 1995) */
    double fr = f[0], fg = f[1], fb = f[2], v000 = AT(0, 0, 0, c), v111 = AT(1, 1, 1, c);
    if (fr >= fg && fg >= fb)
      out[c] = v000 + fr * (AT(1, 0, 0, c) - v000) + fg * (AT(1, 1, 0, c) - AT(1, 0, 0, c)) +
               fb * (v111 - AT(1, 1, 0, c));
    else if (fr >= fb && fb >= fg)
      out[c] = v000 + fr * (AT(1, 0, 0, c) - v000) + fb * (AT(1, 0, 1, c) - AT(1, 0, 0, c)) +
               fg * (v111 - AT(1, 0, 1, c));
    else if (fb >= fr && fr >= fg)
      out[c] = v000 + fb * (AT(0, 0, 1, c) - v000) + fr * (AT(1, 0, 1, c) - AT(0, 0, 1, c)) +
               fg * (v111 - AT(1, 0, 1, c));
    else if (fg >= fr && fr >= fb)
      out[c] = v000 + fg * (AT(0, 1, 0, c) - v000) + fr * (AT(1, 1, 0, c) - AT(0, 1, 0, c)) +
               fb * (v111 - AT(1, 1, 0, c));
    else if (fg >= fb && fb >= fr)
      out[c] = v000 + fg * (AT(0, 1, 0, c) - v000) + fb * (AT(0, 1, 1, c) - AT(0, 1, 0, c)) +
               fr * (v111 - AT(0, 1, 1, c));
    else
      out[c] = v000 + fb * (AT(0, 0, 1, c) - v000) + fg * (AT(0, 1, 1, c) - AT(0, 0, 1, c)) +
               fr * (v111 - AT(0, 1, 1, c));
  }
#undef AT
}

static void cdl(const reel_gop_t *op, const double in[3], double out[3]) {
  double v[3];
  for (int c = 0; c < 3; c++) {
    double y = in[c] * op->slope[c] + op->offset[c];
    if (op->clamp) y = y > 0 ? (y < 1 ? y : 1) : 0;
    v[c] = op->power[c] != 1 && y > 0 ? pow(y, op->power[c]) : y;
  }
  double l = 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  for (int c = 0; c < 3; c++) {
    double y = l + op->sat * (v[c] - l);
    out[c] = op->clamp ? (y > 0 ? (y < 1 ? y : 1) : 0) : y;
  }
}

void reel_grade_apply(const reel_grade_t *g, int tetra, const double in[3], double out[3]) {
  double v[3] = {in[0], in[1], in[2]}, t[3];
  for (int i = 0; i < g->nops; i++) {
    const reel_gop_t *op = &g->op[i];
    switch (op->kind) {
    case REEL_GOP_SHAPER:
      for (int c = 0; c < 3; c++) v[c] = reel_shaper_encode(op, v[c]);
      break;
    case REEL_GOP_LUT1D:
      for (int c = 0; c < 3; c++) {
        int k;
        double f;
        locate(v[c], op->lo[c], op->hi[c], op->size, &k, &f);
        v[c] = op->lut[3 * k + c] + f * ((double)op->lut[3 * k + 3 + c] - op->lut[3 * k + c]);
      }
      break;
    case REEL_GOP_LUT3D:
      lut3d(op, tetra, v, t);
      memcpy(v, t, sizeof v);
      break;
    case REEL_GOP_CDL:
      cdl(op, v, t);
      memcpy(v, t, sizeof v);
      break;
    case REEL_GOP_MATRIX:
      for (int r = 0; r < 3; r++)
        t[r] = op->m[3 * r] * v[0] + op->m[3 * r + 1] * v[1] + op->m[3 * r + 2] * v[2] + op->off[r];
      memcpy(v, t, sizeof v);
      break;
    }
  }
  memcpy(out, v, sizeof v);
}

/* ---- evaluation on the device ---- */

static int put(reel_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int put(reel_buf_t *b, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (k < 0 || k >= (int)sizeof line) {
    reel_error(REEL_EINTERNAL, "ApplyGrade kernel source: a line is too long");
    return -1;
  }
  return reel_buf_put(b, line, (size_t)k);
}

/* Copies q floats of P from `at` into the private array Q. */
static int load_q(reel_buf_t *b, int at, int q) {
  /* element by element, as the fused pointwise chains do (engine/eval.c):
   * a loop here becomes a vector load that keeps PoCL from vectorizing the
   * loop over pixels */
  int rc = put(b, "    const float Q[%d] = {", q);
  for (int k = 0; k < q && !rc; k++) rc = put(b, "%sP[%d]", k ? ", " : "", at + k);
  return rc || put(b, "};\n");
}

/* Kernel source for g's chain, and its tables (R, G, B floats) and
 * parameters (floats). The source depends only on the kinds of the
 * operations, the interpolation and a CDL's clamping, so grades of one
 * shape (any sizes and values) share one compiled kernel. */
static int generate(const reel_grade_t *g, int tetra, reel_buf_t *src, reel_buf_t *tab,
                    reel_buf_t *par) {
  const char *fam[2] = {reel_cl_family_source("color"), reel_cl_family_source("lut")};
  if (!fam[0] || !fam[1]) {
    reel_error(REEL_EINTERNAL, "kernel families color and lut are not built in");
    return -1;
  }
  int rc =
      reel_buf_put(src, fam[0], strlen(fam[0])) || reel_buf_put(src, "\n", 1) ||
      reel_buf_put(src, fam[1], strlen(fam[1])) ||
      put(src, "\n__kernel void applygrade(__global const float *restrict src, "
               "__global float *restrict dst, int plane, int ir, int ig, int ib, "
               "__global const float *restrict T, __global const float *restrict P) {\n"
               "  int i = get_global_id(0);\n  if (i >= plane) return;\n"
               "  float px[16];\n  px[0] = src[(size_t)ir * plane + i];\n"
               "  px[1] = src[(size_t)ig * plane + i];\n  px[2] = src[(size_t)ib * plane + i];\n");
  for (int k = 3; k < 16 && !rc; k++) rc = put(src, "  px[%d] = 0.0f;\n", k);
  for (int o = 0; o < g->nops && !rc; o++) {
    const reel_gop_t *op = &g->op[o];
    int at = (int)(par->n / sizeof(float)), t = (int)(tab->n / sizeof(float));
    float q[16];
    int nq = 0;
    rc |= put(src, "  {\n");
    switch (op->kind) {
    case REEL_GOP_SHAPER:
      reel_shaper_pack(op, q);
      nq = 5;
      rc |= load_q(src, at, nq) || put(src, "    lut_shaper(px, Q);\n");
      break;
    case REEL_GOP_LUT1D:
    case REEL_GOP_LUT3D: {
      int three = op->kind == REEL_GOP_LUT3D;
      /* domain, then size and table offset (exact in float below 2^24) */
      for (int c = 0; c < 3; c++)
        q[c] = (float)op->lo[c], q[3 + c] = (float)(1 / (op->hi[c] - op->lo[c]));
      q[6] = (float)op->size, q[7] = (float)t;
      nq = 8;
      size_t ne = three ? (size_t)op->size * op->size * op->size : (size_t)op->size;
      if (reel_buf_put(tab, op->lut, ne * 3 * sizeof(float))) return -1;
      rc |= load_q(src, at, nq) || put(src, "    lut_%s(px, T + (int)Q[7], (int)Q[6], Q);\n",
                                       three ? (tetra ? "3d_tet" : "3d_tri") : "1d");
      break;
    }
    case REEL_GOP_CDL: /* cdl_pw's layout: channels 0-2, slope, offset, power, sat, style */
      for (int c = 0; c < 3; c++)
        q[c] = (float)op->slope[c], q[3 + c] = (float)op->offset[c], q[6 + c] = (float)op->power[c];
      q[9] = (float)op->sat;
      nq = 10;
      rc |= put(src, "    const float Q[14] = {0.0f, 1.0f, 2.0f");
      for (int k = 0; k < 10 && !rc; k++) rc = put(src, ", P[%d]", at + k);
      rc |= put(src, ", %s};\n    cdl_pw(px, Q);\n", op->clamp ? "1.0f" : "0.0f");
      break;
    case REEL_GOP_MATRIX:
      for (int k = 0; k < 9; k++) q[k] = (float)op->m[k];
      for (int k = 0; k < 3; k++) q[9 + k] = (float)op->off[k];
      nq = 12;
      rc |= load_q(src, at, nq) || put(src, "    lut_matrix(px, Q);\n");
      break;
    }
    rc |= put(src, "  }\n") || reel_buf_put(par, q, sizeof(float) * (size_t)nq);
  }
  rc = rc || put(src, "  dst[(size_t)ir * plane + i] = px[0];\n  dst[(size_t)ig * plane + i] = "
                      "px[1];\n  dst[(size_t)ib * plane + i] = px[2];\n}\n") ||
       reel_buf_put(src, "", 1);
  /* buffers may not be empty */
  float zero[4] = {0};
  if (!rc && !tab->n) rc = reel_buf_put(tab, zero, sizeof zero);
  if (!rc && !par->n) rc = reel_buf_put(par, zero, sizeof zero);
  return rc ? -1 : 0;
}

int reel_grade_apply_image(const reel_grade_t *g, int tetra, const reel_image_t *src,
                           const int idx[3], reel_image_t *dst) {
  if (!src->mem || !g->nops) return 0;
  reel_cl_t *cl = src->cl;
  reel_buf_t s = {0}, tab = {0}, par = {0};
  cl_mem tb = NULL, pb = NULL;
  int rc = -1;
  if (generate(g, tetra, &s, &tab, &par)) goto out;
  cl_kernel k = reel_cl_kernel_gen(cl, (const char *)s.p, "applygrade");
  if (!k || !(tb = reel_cl_alloc(cl, tab.n)) || !(pb = reel_cl_alloc(cl, par.n)) ||
      reel_cl_upload(cl, tb, 0, tab.p, tab.n) || reel_cl_upload(cl, pb, 0, par.p, par.n))
    goto out;
  int plane = (int)src->plane;
  size_t global = src->plane;
  if (reel_cl_args(k, 8, REEL_ARG(src->mem), REEL_ARG(dst->mem), REEL_ARG(plane),
                   REEL_ARG(idx[0]), REEL_ARG(idx[1]), REEL_ARG(idx[2]), REEL_ARG(tb),
                   REEL_ARG(pb)) ||
      reel_cl_run(cl, k, 1, &global, NULL))
    goto out;
  rc = 0;
out:
  if (tb) reel_cl_release(cl, tb);
  if (pb) reel_cl_release(cl, pb);
  reel_buf_free(&s);
  reel_buf_free(&tab);
  reel_buf_free(&par);
  return rc;
}
