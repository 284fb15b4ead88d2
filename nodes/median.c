/* Median: the exact median of each channel over a square window of
 * (2r+1)^2 pixels, r = 1..15, in float (no quantisation).
 *
 * Algorithm: a selection network generated at run time per radius, after
 * Adams, "Fast median filters using separable sorting networks" (SIGGRAPH
 * 2021), sharing work down columns: a work-item computes a tile of T = 8 rows
 * of 16 pixels (float16 lanes). Each of the T + 2r window rows is sorted once
 * (Batcher's odd-even merge sort, in a loop); the tile's outputs share the
 * rows in the middle of their windows, so the rows common to the whole tile
 * are merged once, then each half of the tile merges its extra rows into
 * that, and so on down to single outputs. After every merge the list is cut
 * to the ranks that can still become the median given how many elements are
 * yet to come, and comparators whose results are unused are dropped. For
 * 11x11 this is about 490 min/max per output instead of the thousands of a
 * full sort; the merging network is straight-line code (2,700 min/max at
 * r = 5, 28,000 at r = 15, hence the long first build of large radii).
 *
 * Outside the data window the image is 0; a pixel outside it has at least
 * (r+1)(2r+1) zeros in its window, more than half, so its median is exactly
 * 0 and the data window does not grow. NaNs give an unspecified order. */
#include "filter_util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TILE 8 /* output rows per work-item; MEDIAN_BEGIN(TILE) in the kernel */

typedef struct {
  int radius;
} median_t;

static const reel_param_desc_t params[] = {
    REEL_PINT(median_t, radius, 1, 1, 15,
              "window radius r: the window is (2r+1) x (2r+1) pixels (r = 5 is 11x11)"),
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to filter"}};

/* ---- network generator ---- */

enum { LOAD, MIN, MAX };
typedef struct {
  int kind, a, b; /* LOAD: row a, column b; MIN/MAX: of variables a, b */
} var_t;

typedef struct {
  var_t *v;
  int n, cap, bad;
  int r, k;
  int *row[TILE + 30]; /* sorted window rows, made on first use */
  int out[TILE];
} net_t;

static int add(net_t *g, int kind, int a, int b) {
  if (g->n == g->cap) {
    int cap = g->cap ? 2 * g->cap : 4096;
    var_t *v = realloc(g->v, sizeof *v * (size_t)cap);
    if (!v) {
      g->bad = 1;
      return 0;
    }
    g->v = v;
    g->cap = cap;
  }
  g->v[g->n] = (var_t){kind, a, b};
  return g->n++;
}

/* Batcher's odd-even merge of sorted a and b into out (na + nb), any sizes:
 * merge the even- and odd-indexed elements separately, interleave, and fix
 * the one inversion each adjacent (odd, even) pair may hold. */
static void merge(net_t *g, const int *a, int na, const int *b, int nb, int *out) {
  if (!na || !nb) {
    memcpy(out, na ? a : b, sizeof *out * (size_t)(na + nb));
    return;
  }
  if (na == 1 && nb == 1) {
    out[0] = add(g, MIN, a[0], b[0]);
    out[1] = add(g, MAX, a[0], b[0]);
    return;
  }
  int n = na + nb, ae = (na + 1) / 2, be = (nb + 1) / 2, ne = ae + be;
  int *t = malloc(sizeof *t * (size_t)n * 2);
  if (!t) {
    g->bad = 1;
    memset(out, 0, sizeof *out * (size_t)n);
    return;
  }
  int *ea = t, *eb = t + ae, *oa = t + ne, *ob = oa + na / 2, *e = t + n, *o = e + ne;
  for (int i = 0; i < na; i++) (i & 1 ? oa : ea)[i / 2] = a[i];
  for (int i = 0; i < nb; i++) (i & 1 ? ob : eb)[i / 2] = b[i];
  merge(g, ea, ae, eb, be, e);
  merge(g, oa, na / 2, ob, nb / 2, o);
  int no = n - ne, at = 0;
  out[at++] = e[0];
  for (int i = 0; at < n; i++) {
    if (i < no && i + 1 < ne) {
      out[at++] = add(g, MIN, o[i], e[i + 1]);
      out[at++] = add(g, MAX, o[i], e[i + 1]);
    } else
      out[at++] = i < no ? o[i] : e[i + 1];
  }
  free(t);
}

static void sort(net_t *g, const int *x, int n, int *out) {
  if (n < 2) {
    memcpy(out, x, sizeof *out * (size_t)n);
    return;
  }
  int h = n / 2, t[64];
  sort(g, x, h, t);
  sort(g, x + h, n - h, t + h);
  merge(g, t, h, t + h, n - h, out);
}

/* Window row i of the tile (0..TILE+2r-1), sorted: LOAD variables of its
 * ranks, filled by the row-sorting loop that starts the kernel. */
static const int *row(net_t *g, int i) {
  if (!g->row[i] && (g->row[i] = malloc(sizeof(int) * (size_t)g->k)))
    for (int j = 0; j < g->k; j++) g->row[i][j] = add(g, LOAD, i, j);
  if (!g->row[i]) g->bad = 1;
  return g->row[i];
}

/* Merges cnt sorted lists (owned, freed here), two shortest first. Returns
 * the merged list (owned by the caller) and its length in *n. */
static int *merge_all(net_t *g, int **l, int *len, int cnt, int *n) {
  while (cnt > 1) {
    int i = 0, j = 1;
    if (len[j] < len[i]) i = 1, j = 0;
    for (int q = 2; q < cnt; q++) {
      if (len[q] < len[i]) j = i, i = q;
      else if (len[q] < len[j]) j = q;
    }
    int *m = malloc(sizeof *m * (size_t)(len[i] + len[j] + 1));
    if (!m) {
      g->bad = 1;
      break;
    }
    merge(g, l[i], len[i], l[j], len[j], m);
    free(l[i]);
    free(l[j]);
    l[i] = m;
    len[i] += len[j];
    l[j] = l[--cnt];
    len[j] = len[cnt];
  }
  for (int q = 1; q < cnt; q++) free(l[q]);
  *n = cnt ? len[0] : 0;
  return cnt ? l[0] : NULL;
}

/* Outputs a..b-1 of the tile. Their windows share rows b-1 .. a+2r (the
 * core). L: the sorted useful part of the parent's core (rows plo..phi),
 * `low`: how many elements of that core were cut off below L. */
static void tile(net_t *g, int a, int b, int plo, int phi, const int *L, int nL, int low) {
  int k = g->k, N = k * k, m = N / 2, lo = b - 1, hi = a + 2 * g->r, cnt = 0, n = 0;
  int *l[TILE + 32], len[TILE + 32], *all = NULL;
  if (nL && !(l[cnt] = malloc(sizeof(int) * (size_t)nL))) g->bad = 1;
  if (nL && l[cnt]) {
    memcpy(l[cnt], L, sizeof(int) * (size_t)nL);
    len[cnt++] = nL;
  }
  for (int i = lo; i <= hi && !g->bad; i++) {
    if (i >= plo && i <= phi) continue; /* already in L */
    const int *ri = row(g, i);
    if (!ri || !(l[cnt] = malloc(sizeof(int) * (size_t)k))) {
      g->bad = 1;
      break;
    }
    memcpy(l[cnt], ri, sizeof(int) * (size_t)k);
    len[cnt++] = k;
  }
  if (g->bad) {
    while (cnt) free(l[--cnt]);
    return;
  }
  all = merge_all(g, l, len, cnt, &n);
  /* ranks that can still be the median once the N - have others arrive */
  int have = hi >= lo ? (hi - lo + 1) * k : 0;
  int from = m - (N - have) - low, to = m - low;
  if (from < 0) from = 0;
  if (to > n - 1) to = n - 1;
  int nkeep = to >= from ? to - from + 1 : 0;
  if (b - a == 1) {
    if (nkeep == 1)
      g->out[a] = all[from];
    else
      g->bad = 1; /* cannot happen: a single window has all N elements */
  } else if (!g->bad) {
    int h = (a + b) / 2;
    tile(g, a, h, lo, hi, all + from, nkeep, low + from);
    tile(g, h, b, lo, hi, all + from, nkeep, low + from);
  }
  free(all);
}

static int put(reel_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int put(reel_buf_t *b, const char *fmt, ...) {
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  return len < 0 || len >= (int)sizeof line || reel_buf_put(b, line, (size_t)len) ? -1 : 0;
}

/* Appends g's variables marked live as statements "float16 <pfx>N = ...",
 * each load (format `load` of row, column) right before its first use. */
static int emit(reel_buf_t *b, const net_t *g, const char *live, char pfx, const char *load) {
  char *done = calloc((size_t)g->n + 1, 1);
  int rc = done ? 0 : -1;
  for (int i = 0; i < g->n && !rc; i++) {
    const var_t *v = &g->v[i];
    if (!live[i] || v->kind == LOAD) continue;
    for (int s = 0; s < 2 && !rc; s++) {
      int a = s ? v->b : v->a;
      if (g->v[a].kind != LOAD || done[a]) continue;
      done[a] = 1;
      rc = put(b, "  float16 %c%d = ", pfx, a) || put(b, load, g->v[a].a, g->v[a].b) ||
           put(b, ";\n");
    }
    if (!rc)
      rc = put(b, "  float16 %c%d = %s(%c%d, %c%d);\n", pfx, i, v->kind == MIN ? "MN" : "MX", pfx,
               v->a, pfx, v->b);
  }
  free(done);
  return rc;
}

/* OpenCL source of kernel median_r<r>: opencl/median.cl, a loop that sorts
 * the tile's window rows into R (one sorting network, so the code stays
 * small), then the merging network as straight-line code, with unused
 * comparators dropped. Malloc'd, or NULL with reel_error. */
static char *generate(int r) {
  int k = 2 * r + 1, nrows = TILE + 2 * r, sorted[32], x[32];
  net_t g = {.r = r, .k = k}, rs = {.r = r, .k = k};
  reel_buf_t b = {0};
  char *live = NULL;
  const char *pre = reel_cl_family_source("median");
  /* the row sort: all outputs used */
  for (int j = 0; j < k; j++) x[j] = add(&rs, LOAD, 0, j);
  sort(&rs, x, k, sorted);
  /* the merging network and what it uses */
  tile(&g, 0, TILE, 1, 0, NULL, 0, 0);
  if (g.bad || rs.bad || !pre || !(live = calloc((size_t)(g.n > rs.n ? g.n : rs.n) + 1, 1)))
    goto fail;
  if (reel_buf_put(&b, pre, strlen(pre)) ||
      put(&b, "\n__kernel void median_r%d(__global const float *src, int pw, int pplane,\n", r) ||
      put(&b, "    __global float *dst, int w, int h) {\n  MEDIAN_BEGIN(%d)\n", TILE) ||
      put(&b, "  float16 R[%d][%d];\n  for (int i = 0; i < %d; i++) {\n", nrows, k, nrows))
    goto fail;
  memset(live, 1, (size_t)rs.n);
  if (emit(&b, &rs, live, 'x', "LD(i + %d, %d)")) goto fail;
  for (int j = 0; j < k; j++)
    if (put(&b, "  R[i][%d] = x%d;\n", j, sorted[j])) goto fail;
  if (put(&b, "  }\n")) goto fail;
  memset(live, 0, (size_t)g.n);
  for (int t = 0; t < TILE; t++) live[g.out[t]] = 1;
  for (int i = g.n - 1; i >= 0; i--)
    if (live[i] && g.v[i].kind != LOAD) live[g.v[i].a] = live[g.v[i].b] = 1;
  if (emit(&b, &g, live, 'v', "R[%d][%d]")) goto fail;
  for (int t = 0; t < TILE; t++)
    if (put(&b, "  ST(%d, v%d);\n", t, g.out[t])) goto fail;
  if (reel_buf_put(&b, "}\n", 3)) goto fail;
  goto out;
fail:
  reel_buf_free(&b);
  reel_error(REEL_EIO, "out of memory generating the median network");
out:
  free(live);
  free(g.v);
  free(rs.v);
  for (int i = 0; i < TILE + 30; i++) free(g.row[i]);
  return (char *)b.p;
}

/* The generated source per radius, made once per process. */
static char *sources[16];
static pthread_mutex_t sources_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *source(int r) {
  pthread_mutex_lock(&sources_mu);
  if (!sources[r]) sources[r] = generate(r);
  const char *s = sources[r];
  pthread_mutex_unlock(&sources_mu);
  return s;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const median_t *p = pv;
  int r = p->radius, rc = -1;
  reel_image_t *src = reel_job_image(j, 0), *pad = NULL, *im = NULL;
  if (!src) return -1;
  if (!(im = reel_image_new_like(src))) return -1;
  if (im->mem) {
    int w = reel_image_w(src), h = reel_image_h(src);
    int pw = filter_round(w, 16) + 2 * r, ph = filter_round(h, TILE) + 2 * r;
    reel_box_t box = {src->data.x0 - r, src->data.y0 - r, src->data.x0 - r + pw,
                      src->data.y0 - r + ph};
    char name[32];
    snprintf(name, sizeof name, "median_r%d", r);
    const char *text = source(r);
    cl_kernel k = text ? reel_cl_kernel_gen(src->cl, text, name) : NULL;
    if (!k || !(pad = filter_pad(src, box))) goto out;
    int pplane = (int)pad->plane;
    size_t g[3] = {(size_t)(w + 15) / 16, (size_t)(h + TILE - 1) / TILE, (size_t)src->nch};
    size_t l[3] = {8, 1, 1};
    if (reel_cl_args(k, 6, REEL_ARG(pad->mem), REEL_ARG(pw), REEL_ARG(pplane), REEL_ARG(im->mem),
                     REEL_ARG(w), REEL_ARG(h)) ||
        reel_cl_run(src->cl, k, 3, g, l))
      goto out;
  }
  *out = &im->v;
  im = NULL;
  rc = 0;
out:
  if (rc) reel_error_prefix("%s:", reel_node_label(j->node));
  reel_image_unref(pad);
  reel_image_unref(im);
  return rc;
}

const reel_node_desc_t reel_node_median = {
    .name = "Median",
    .version = 1,
    .summary = "Exact median of each channel over a (2r+1) x (2r+1) window (r = 1..15)",
    .doc = "Removes dust, scratches and grain while keeping edges. Float and exact: the result "
           "is always one of the window's values. The window reads 0 outside the data window, "
           "which stays as it is (a pixel outside it has a majority of zeros). The first use of "
           "a radius on a machine builds its kernel: about 2 s for r = 5, 10 s for r = 8, a "
           "minute for r = 15 on two cores; PoCL keeps it in its kernel cache.",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(median_t),
    .kernels = "median conv",
    .eval = eval,
};
