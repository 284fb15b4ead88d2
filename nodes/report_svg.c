/* The Report page's two drawings, laid out here as inline SVG (no Graphviz):
 * the graph, its nodes in columns by depth from the sinks (the longest path
 * to a node nothing reads; sinks on the right) and ordered within a column
 * by a few barycentre sweeps (Sugiyama-style) to untangle edges; and the
 * training loss on a log axis, the per-step values drawn as a min-max band
 * per pixel column under a centred moving average. */
#include "error.h"
#include "node.h"
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the graph ---- */

#define BOX_H 38
#define ROW_GAP 18
#define COL_GAP 70
#define CHAR_W 7.2 /* 12 px sans-serif, a generous mean advance */

typedef struct {
  reel_node_t *n;
  int depth, col, row;
  double key; /* barycentre while ordering */
  int w, hgt, x, y;
  char l1[96], l2[160];
} gnode_t;

static int index_of(gnode_t *v, int nv, const reel_node_t *n) {
  for (int i = 0; i < nv; i++)
    if (v[i].n == n) return i;
  return -1;
}

static int by_col_key(const void *a, const void *b) {
  const gnode_t *x = *(gnode_t *const *)a, *y = *(gnode_t *const *)b;
  if (x->col != y->col) return x->col - y->col;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->row - y->row;
}

/* Orders each column by the mean row of its neighbours in the column before
 * (forward) or after (backward), then renumbers rows. */
static void sweep(gnode_t *v, int nv, gnode_t **order, int forward) {
  for (int i = 0; i < nv; i++) {
    double s = 0;
    int k = 0;
    if (forward) { /* the rows of i's inputs */
      for (int p = 0; p < reel_node_desc(v[i].n)->ninputs; p++) {
        int a = index_of(v, nv, reel_node_input(v[i].n, p));
        if (a >= 0) s += v[a].row, k++;
      }
    } else { /* the rows of the nodes that read i */
      for (int j = 0; j < nv; j++)
        for (int p = 0; p < reel_node_desc(v[j].n)->ninputs; p++)
          if (reel_node_input(v[j].n, p) == v[i].n) s += v[j].row, k++;
    }
    v[i].key = k ? s / k : v[i].row;
  }
  for (int i = 0; i < nv; i++) order[i] = &v[i];
  qsort(order, (size_t)nv, sizeof *order, by_col_key);
  for (int i = 0, row = 0; i < nv; i++) {
    if (i && order[i]->col != order[i - 1]->col) row = 0;
    order[i]->row = row++;
  }
}

void reel_report_graph_svg(reel_html_t *h, const reel_node_t *self) {
  reel_graph_t *g = reel_node_graph(self);
  int total = reel_graph_nnodes(g), nv = 0;
  gnode_t *v = calloc((size_t)(total ? total : 1), sizeof *v);
  gnode_t **order = calloc((size_t)(total ? total : 1), sizeof *order);
  if (!v || !order) {
    reel_error(REEL_EIO, "out of memory");
    h->bad = 1;
    goto out;
  }
  for (int i = 0; i < total; i++) {
    reel_node_t *n = reel_graph_node(g, i);
    if (n && reel_node_finished(n)) v[nv++].n = n;
  }
  /* depth from the sinks: 0 for a node nothing reads, else one more than
   * its deepest reader. Relaxed until stable: the graph has no cycles, so
   * at most nv passes (one, when nodes were made inputs first, as Lua does) */
  for (int changed = 1, pass = 0; changed && pass <= nv; pass++) {
    changed = 0;
    for (int i = nv - 1; i >= 0; i--)
      for (int p = 0; p < reel_node_desc(v[i].n)->ninputs; p++) {
        int a = index_of(v, nv, reel_node_input(v[i].n, p));
        if (a >= 0 && v[a].depth < v[i].depth + 1) {
          v[a].depth = v[i].depth + 1;
          changed = 1;
        }
      }
  }
  int maxd = 0;
  for (int i = 0; i < nv; i++) maxd = v[i].depth > maxd ? v[i].depth : maxd;
  int *rows = calloc((size_t)maxd + 1, sizeof *rows),
      *colw = calloc((size_t)maxd + 1, sizeof *colw);
  if (!rows || !colw) {
    free(rows);
    free(colw);
    reel_error(REEL_EIO, "out of memory");
    h->bad = 1;
    goto out;
  }
  for (int i = 0; i < nv; i++) {
    gnode_t *x = &v[i];
    x->col = maxd - x->depth;
    x->row = rows[x->col]++;
    snprintf(x->l1, sizeof x->l1, "%s", reel_node_type(x->n));
    if (reel_node_name(x->n))
      snprintf(x->l2, sizeof x->l2, "%s", reel_node_name(x->n));
    else
      snprintf(x->l2, sizeof x->l2, "line %d", reel_node_line(x->n));
    size_t len = strlen(x->l1) > strlen(x->l2) ? strlen(x->l1) : strlen(x->l2);
    if (len > 28) len = 28;
    x->w = (int)(len * CHAR_W) + 24;
    if (x->w < 90) x->w = 90;
    if (x->w > colw[x->col]) colw[x->col] = x->w;
    int nin = 0; /* room for the port labels of many inputs */
    for (int p = 0; p < reel_node_desc(x->n)->ninputs; p++) nin += reel_node_input(x->n, p) != NULL;
    x->hgt = 13 * (nin + 1) > BOX_H ? 13 * (nin + 1) : BOX_H;
  }
  for (int it = 0; it < 4; it++) {
    sweep(v, nv, order, 1);
    sweep(v, nv, order, 0);
  }
  /* columns stacked in row order and centred on the tallest */
  int height = 0, width = 8;
  for (int c = 0; c <= maxd; c++) rows[c] = 0; /* now: the column's height */
  for (int i = 0; i < nv; i++) rows[v[i].col] += v[i].hgt + ROW_GAP;
  for (int c = 0; c <= maxd; c++) height = rows[c] > height ? rows[c] : height;
  for (int c = 0; c <= maxd; c++) {
    int x = width, y = (height - rows[c]) / 2 + 4;
    width += colw[c] + COL_GAP;
    for (int i = 0; i < nv; i++) /* order[] is sorted by column, then row */
      if (order[i]->col == c) {
        order[i]->x = x + (colw[c] - order[i]->w) / 2;
        order[i]->y = y;
        y += order[i]->hgt + ROW_GAP;
      }
  }
  width -= COL_GAP - 8;
  height += 8 - ROW_GAP;
  free(rows);
  free(colw);
  reel_html_printf(h,
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graphsvg\" width=\"%d\" "
                   "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
                   "font-size=\"12\">\n",
                   width, height, width, height);
  reel_html_put(h, "<defs><marker id=\"arrow\" viewBox=\"0 0 8 8\" refX=\"8\" refY=\"4\" "
                   "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L8,4 "
                   "L0,8 z\" fill=\"#8a8a8a\"/></marker></defs>\n");
  for (int i = 0; i < nv; i++) { /* edges first, under the boxes */
    const reel_node_desc_t *d = reel_node_desc(v[i].n);
    int nin = 0;
    for (int p = 0; p < d->ninputs; p++) nin += reel_node_input(v[i].n, p) != NULL;
    for (int p = 0, k = 0; p < d->ninputs; p++) {
      int a = index_of(v, nv, reel_node_input(v[i].n, p));
      if (a < 0) continue;
      double x0 = v[a].x + v[a].w, y0 = v[a].y + v[a].hgt / 2.0;
      double x1 = v[i].x, y1 = v[i].y + v[i].hgt * (k + 1.0) / (nin + 1.0);
      double mx = (x0 + x1) / 2;
      k++;
      reel_html_printf(h,
                       "<path d=\"M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"none\" "
                       "stroke=\"#8a8a8a\" stroke-width=\"1.3\" marker-end=\"url(#arrow)\">"
                       "<title>",
                       x0, y0, mx, y0, mx, y1, x1, y1);
      reel_html_text(h, reel_node_label(v[a].n));
      reel_html_put(h, " \xe2\x86\x92 ");
      reel_html_text(h, d->inputs[p].name);
      reel_html_put(h, "</title></path>\n");
      if (nin > 1) {
        reel_html_printf(h,
                         "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" fill=\"#b0b0b0\" "
                         "text-anchor=\"end\">",
                         x1 - 4, y1 - 3);
        reel_html_text(h, d->inputs[p].name);
        reel_html_put(h, "</text>\n");
      }
    }
  }
  for (int i = 0; i < nv; i++) {
    gnode_t *x = &v[i];
    int me = x->n == self, sink = (reel_node_desc(x->n)->flags & REEL_NF_SINK) != 0;
    reel_html_printf(h, "<g class=\"gnode\" data-type=\"%s\"><title>", reel_node_type(x->n));
    reel_html_text(h, reel_node_label(x->n));
    reel_html_printf(h,
                     "</title><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"5\" "
                     "fill=\"%s\" stroke=\"%s\" stroke-width=\"%s\"/>",
                     x->x, x->y, x->w, x->hgt,
                     me     ? "#35507a"
                     : sink ? "#3d3d3d"
                            : "#333",
                     me     ? "#9cc3ff"
                     : sink ? "#d0d0d0"
                            : "#777",
                     sink ? "2" : "1");
    reel_html_printf(h,
                     "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-weight=\"bold\" "
                     "fill=\"#eee\">",
                     x->x + x->w / 2, x->y + x->hgt / 2 - 3);
    reel_html_text(h, x->l1);
    reel_html_printf(h,
                     "</text><text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\" "
                     "fill=\"#aaa\">",
                     x->x + x->w / 2, x->y + x->hgt / 2 + 11);
    char l2[160];
    snprintf(l2, sizeof l2, "%.28s%s", x->l2, strlen(x->l2) > 28 ? "\xe2\x80\xa6" : "");
    reel_html_text(h, l2);
    reel_html_put(h, "</text></g>\n");
  }
  reel_html_put(h, "</svg>\n");
out:
  free(v);
  free(order);
}

/* ---- the loss curve ---- */

#define PW 860 /* plot area */
#define PH 300
#define ML 64 /* margins */
#define MR 16
#define MT 14
#define MB 44

/* A "nice" step (1, 2 or 5 times a power of ten) near range / n. */
static double nice_step(double range, int n) {
  double raw = range / n, p = pow(10, floor(log10(raw))), f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static int read_loss(const char *path, double **step, double **loss, int *n) {
  FILE *f = fopen(path, "r");
  if (!f) {
    reel_error(REEL_EUSER, "cannot read '%s'", path);
    return -1;
  }
  char line[1024];
  int cs = -1, cl = -1, cap = 0;
  *n = 0;
  *step = *loss = NULL;
  if (fgets(line, sizeof line, f)) {
    int c = 0;
    for (char *s = strtok(line, ",\r\n"); s; s = strtok(NULL, ",\r\n"), c++) {
      if (!strcmp(s, "step")) cs = c;
      if (!strcmp(s, "loss")) cl = c;
    }
  }
  if (cs < 0 || cl < 0) {
    fclose(f);
    reel_error(REEL_EUSER, "'%s' has no header naming the columns step and loss", path);
    return -1;
  }
  while (fgets(line, sizeof line, f)) {
    double vs = NAN, vl = NAN;
    int c = 0;
    for (char *s = strtok(line, ",\r\n"); s; s = strtok(NULL, ",\r\n"), c++) {
      if (c == cs) vs = strtod(s, NULL);
      if (c == cl) vl = strtod(s, NULL);
    }
    if (!isfinite(vs) || !isfinite(vl) || vl <= 0) continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 1024;
      double *a = realloc(*step, sizeof *a * (size_t)cap),
             *b = a ? realloc(*loss, sizeof *b * (size_t)cap) : NULL;
      if (a) *step = a;
      if (!a || !b) {
        fclose(f);
        reel_error(REEL_EIO, "out of memory");
        return -1;
      }
      *loss = b;
    }
    (*step)[*n] = vs;
    (*loss)[(*n)++] = vl;
  }
  fclose(f);
  return 0;
}

int reel_report_loss_svg(reel_html_t *h, const char *csv_path) {
  double *st = NULL, *ls = NULL, *avg = NULL;
  int n = 0, rc = -1;
  if (read_loss(csv_path, &st, &ls, &n)) goto out;
  if (!n) {
    rc = 0;
    goto out;
  }
  if (!(avg = malloc(sizeof *avg * (size_t)n))) {
    reel_error(REEL_EIO, "out of memory");
    goto out;
  }
  /* centred moving average of the log loss (a geometric mean: the curve
   * is read on a log axis) over win steps, shorter at the ends */
  int win = n / 50 < 5 ? 5 : n / 50, half = win / 2;
  double run = 0;
  int lo = 0, hi = 0; /* current window [lo, hi) */
  for (int i = 0; i < n; i++) {
    while (hi < n && hi <= i + half) run += log(ls[hi++]);
    while (lo < i - half) run -= log(ls[lo++]);
    avg[i] = exp(run / (hi - lo));
  }
  double ymin = ls[0], ymax = ls[0], x0 = st[0], x1 = st[n - 1];
  for (int i = 0; i < n; i++) {
    ymin = ls[i] < ymin ? ls[i] : ymin;
    ymax = ls[i] > ymax ? ls[i] : ymax;
  }
  double d0 = floor(log10(ymin)), d1 = ceil(log10(ymax));
  if (d1 <= d0) d1 = d0 + 1;
  if (x1 <= x0) x1 = x0 + 1;
#define X(s) (ML + ((s)-x0) / (x1 - x0) * PW)
#define Y(l) (MT + (d1 - log10(l)) / (d1 - d0) * PH)
  reel_html_printf(h,
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"losssvg\" width=\"%d\" "
                   "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
                   "font-size=\"11\">\n",
                   ML + PW + MR, MT + PH + MB, ML + PW + MR, MT + PH + MB);
  /* grid: decades labelled, 2 and 5 faint */
  for (double d = d0; d <= d1; d++)
    for (int m = 1; m <= 9; m++) {
      double v = m * pow(10, d);
      if (log10(v) > d1 + 1e-9) break;
      if (m != 1 && m != 2 && m != 5) continue;
      double y = Y(v);
      reel_html_printf(h, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", ML,
                       ML + PW, y, y, m == 1 ? "#555" : "#383838");
      if (m == 1 || d1 - d0 <= 2)
        reel_html_printf(h,
                         "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#aaa\">%g</text>\n",
                         ML - 6, y + 4, v);
    }
  double xs = nice_step(x1 - x0, 8);
  for (double s = ceil(x0 / xs) * xs; s <= x1 + 1e-9; s += xs) {
    double x = X(s);
    reel_html_printf(h,
                     "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#383838\"/>"
                     "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#aaa\">%g</text>\n",
                     x, x, MT, MT + PH, x, MT + PH + 16, s);
  }
  /* per-step values: the min-max band of each pixel column (a polyline of
   * every step when there are fewer steps than pixels) */
  if (n <= PW) {
    reel_html_put(h, "<polyline class=\"raw\" fill=\"none\" stroke=\"#6f8fb8\" "
                     "stroke-width=\"1\" stroke-opacity=\"0.7\" points=\"");
    for (int i = 0; i < n; i++) reel_html_printf(h, "%.1f,%.1f ", X(st[i]), Y(ls[i]));
    reel_html_put(h, "\"/>\n");
  } else {
    double bmin[PW], bmax[PW];
    for (int b = 0; b < PW; b++) bmin[b] = INFINITY, bmax[b] = -INFINITY;
    for (int i = 0; i < n; i++) {
      int b = (int)((st[i] - x0) / (x1 - x0) * (PW - 1) + 0.5);
      b = b < 0 ? 0 : b >= PW ? PW - 1 : b;
      bmin[b] = ls[i] < bmin[b] ? ls[i] : bmin[b];
      bmax[b] = ls[i] > bmax[b] ? ls[i] : bmax[b];
    }
    reel_html_put(h, "<polygon class=\"raw\" fill=\"#6f8fb8\" fill-opacity=\"0.45\" "
                     "stroke=\"none\" points=\"");
    for (int b = 0; b < PW; b++)
      if (isfinite(bmax[b])) reel_html_printf(h, "%d,%.1f ", ML + b, Y(bmax[b]));
    for (int b = PW - 1; b >= 0; b--)
      if (isfinite(bmin[b])) reel_html_printf(h, "%d,%.1f ", ML + b, Y(bmin[b]));
    reel_html_put(h, "\"/>\n");
  }
  reel_html_put(h, "<polyline class=\"avg\" fill=\"none\" stroke=\"#ffb347\" "
                   "stroke-width=\"2\" points=\"");
  int every = n / (2 * PW) + 1;
  for (int i = 0; i < n; i += every) reel_html_printf(h, "%.1f,%.1f ", X(st[i]), Y(avg[i]));
  reel_html_printf(h, "%.1f,%.1f", X(st[n - 1]), Y(avg[n - 1]));
  reel_html_put(h, "\"/>\n");
#undef X
#undef Y
  reel_html_printf(h,
                   "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                   "stroke=\"#777\"/>\n"
                   "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#ccc\">step</text>\n"
                   "<text transform=\"translate(14,%d) rotate(-90)\" text-anchor=\"middle\" "
                   "fill=\"#ccc\">loss (log)</text>\n"
                   "<g font-size=\"11\"><rect x=\"%d\" y=\"%d\" width=\"14\" height=\"8\" "
                   "fill=\"#6f8fb8\" fill-opacity=\"0.6\"/><text x=\"%d\" y=\"%d\" "
                   "fill=\"#ccc\">per step</text><line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" "
                   "stroke=\"#ffb347\" stroke-width=\"2\"/><text x=\"%d\" y=\"%d\" "
                   "fill=\"#ccc\">moving average (%d steps)</text></g>\n</svg>\n",
                   ML, MT, PW, PH, ML + PW / 2, MT + PH + 36, MT + PH / 2, ML + PW - 300, MT + 8,
                   ML + PW - 282, MT + 16, ML + PW - 200, ML + PW - 186, MT + 12, MT + 12,
                   ML + PW - 180, MT + 16, win);
  rc = n;
out:
  free(st);
  free(ls);
  free(avg);
  return rc;
}
