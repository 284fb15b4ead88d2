/* Report: the QC page of a restoration run, one self-contained HTML file
 * (images as base64 data: URIs, style and script inline): provenance, the
 * graph, the dataset, the loss curve and contact sheets from the model's run
 * directory, and for each held-out frame source | baseline | ML | reference
 * with a wipe, measured against the reference by Compare's code
 * (nodes/compare.h). Written like Write (temporary file + rename); the
 * result records size, mtime and inode, so an unchanged page is skipped. */
#include "report.h"
#include "compare.h"
#include "nn/model.h"
#include "framepath.h"
#include "node.h"
#include "record.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  const char *path;
  reel_list_t frames;
  const char *title;
  int space, thumb, format, quality, mkdirs;
} report_t;

static const char *const spaces[] = {"srgb", "ycbcr", "linear", NULL};
static const char *const formats[] = {"jpeg", "png", NULL};

static const reel_param_desc_t params[] = {
    {"path", REEL_P_STRING, 1, offsetof(report_t, path), {0}, NULL, 1, 0, NULL,
     "the .html file written: one self-contained page", REEL_PF_STATIC | REEL_PF_REQUIRED},
    {"frames", REEL_P_LIST, 1, offsetof(report_t, frames), {0}, NULL, 1, 0, NULL,
     "held-out frames shown side by side and measured against the reference",
     REEL_PF_STATIC | REEL_PF_REQUIRED},
    REEL_PSTR(report_t, title, NULL, "page title (default: \"QC report\" and the graph file)"),
    REEL_PENUM(report_t, space, spaces, "srgb",
               "how the images become display sRGB for thumbnails and metrics: srgb: R, G, B "
               "sRGB-encoded; ycbcr: Y, Cb, Cr (Rec.709 full range of sRGB-encoded values); "
               "linear: scene-linear Rec.709 R, G, B (through the sRGB curve)"),
    {"thumb", REEL_P_INT, 1, offsetof(report_t, thumb), {640}, NULL, 64, 4096, NULL,
     "thumbnail width in pixels (dataset thumbnails: 3/8 of it); narrower images keep their "
     "size",
     REEL_PF_STATIC},
    REEL_PENUM(report_t, format, formats, "jpeg",
               "thumbnail encoding: jpeg (small; 4:2:0 chroma) or png (lossless, about 5x "
               "larger)"),
    {"quality", REEL_P_INT, 1, offsetof(report_t, quality), {90}, NULL, 1, 100, NULL,
     "JPEG quality of the thumbnails", REEL_PF_STATIC},
    REEL_PBOOL(report_t, mkdirs, 1, "create a missing output directory"),
};

enum { SOURCE, ML, BASELINE, REFERENCE, MODEL, DATASET, NPORTS };
static const reel_port_desc_t inputs[] = {
    {"source", REEL_V_IMAGE, 0, "the faded or degraded source"},
    {"ml", REEL_V_IMAGE, 1, "the ML result (Infer)"},
    {"baseline", REEL_V_IMAGE, 1, "a baseline correction (the MatchGrade result)"},
    {"reference", REEL_V_IMAGE, 1, "the truth or reference the metrics are measured against"},
    {"model", REEL_V_MODEL, 1,
     "the trained Model: its provenance, and loss.csv and contact sheets from its run_dir"},
    {"dataset", REEL_V_IMAGE, 1,
     "the training frames (e.g. a FrameHold of them): every frame shown as a thumbnail"},
};

/* The order of the side-by-side thumbnails, their roles and labels. */
static const int shown[] = {SOURCE, BASELINE, ML, REFERENCE};
#define NSHOWN 4
static const char *const label[] = {"source", "ML", "baseline", "reference"};
#define MAX_DATASET 500

static int check(reel_node_t *n, const void *pv) {
  const report_t *p = pv;
  const char *dot = strrchr(p->path, '.');
  if (!dot || (strcasecmp(dot, ".html") && strcasecmp(dot, ".htm"))) {
    reel_node_error(n, REEL_EUSER, "path '%s' should end in .html (the page is HTML)", p->path);
    return -1;
  }
  if (!p->frames.n) {
    reel_node_error(n, REEL_EUSER, "frames is empty: give the held-out frames to show");
    return -1;
  }
  for (int i = 0; i < p->frames.n; i++)
    if (p->frames.v[i] != (int)p->frames.v[i]) {
      reel_node_error(n, REEL_EUSER, "frames: %g is not a whole frame number", p->frames.v[i]);
      return -1;
    }
  return 0;
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const report_t *p = pv;
  if (reel_check_frame_list(n, &p->frames, in, REFERENCE + 1)) return -1;
  const reel_clip_t *d = &in[DATASET];
  if (d->type != REEL_V_NONE && !d->constant && d->last - d->first >= MAX_DATASET) {
    reel_node_error(n, REEL_EUSER,
                    "'dataset' has %d frames; the page shows each: give the training frames "
                    "(a FrameHold { frames = ... } of them), at most %d",
                    d->last - d->first + 1, MAX_DATASET);
    return -1;
  }
  memset(out, 0, sizeof *out);
  out->type = REEL_V_RECORD;
  out->constant = 1;
  return 0;
}

/* The held-out frames of the four image ports, the model, then every
 * dataset frame; eval finds them again through j->req. */
static int frames(reel_node_t *n, const void *pv, int frame, reel_reqs_t *q) {
  const report_t *p = pv;
  for (int i = 0; i < p->frames.n; i++)
    for (int port = SOURCE; port <= REFERENCE; port++)
      if (reel_node_input_clip(n, port) && reel_reqs_add(q, port, (int)p->frames.v[i])) return -1;
  if (reel_node_input_clip(n, MODEL) && reel_reqs_add(q, MODEL, REEL_FRAME_CONST)) return -1;
  const reel_clip_t *d = reel_node_input_clip(n, DATASET);
  if (d && d->constant) return reel_reqs_add(q, DATASET, REEL_FRAME_CONST);
  for (int f = d ? d->first : 1; d && f <= d->last; f++)
    if (reel_reqs_add(q, DATASET, f)) return -1;
  return 0;
}

/* The page shows the whole graph: what it draws enters the key. */
static int key(reel_job_t *j, const void *pv, reel_hasher_t *hs) {
  reel_html_t h = {0};
  reel_report_graph_svg(&h, j->node);
  if (!h.bad) {
    reel_hash_bytes(hs, h.b.p, h.b.n);
    reel_hash_str(hs, reel_node_file(j->node));
  }
  reel_html_free(&h);
  return h.bad ? -1 : 0;
}

/* What one page is made of. */
typedef struct {
  reel_job_t *j;
  const report_t *p;
  int nf;            /* held-out frames */
  reel_image_t **im; /* [nf][REFERENCE + 1], NULL where unconnected */
  reel_model_t *model;
  reel_image_t **ds; /* dataset frames */
  int *ds_frame, nds;
  float **rgb;    /* display R'G'B' per held-out image, [nf][REFERENCE + 1] */
  int w, h;       /* their size (the first image's) */
  double (*met)[3][REEL_CMP_N]; /* [nf + 1]: source, baseline, ML against the reference; the
                                   last entry is the mean over the frames */
  int have[3];                  /* which of the three are connected */
  char tmp[4200]; /* thumbnail scratch file */
} page_t;

static void embed_thumb(page_t *g, reel_html_t *h, const float *rgb, int w, int hh, int tw,
                        const char *attrs) {
  reel_buf_t b = {0};
  int ow, oh;
  if (h->bad) return;
  if (reel_report_thumb(rgb, w, hh, tw, formats[g->p->format], g->p->quality, g->tmp, &b, &ow,
                        &oh)) {
    reel_error_prefix("%s:", reel_node_label(g->j->node));
    h->bad = 1;
  } else {
    char a[600];
    snprintf(a, sizeof a, "width=\"%d\" height=\"%d\" %s", ow, oh, attrs);
    reel_html_img(h, g->p->format ? "image/png" : "image/jpeg", b.p, b.n, a);
  }
  reel_buf_free(&b);
}

/* "Infer 'name'" or "Infer, line 12": what feeds port. */
static void source_of(const reel_node_t *n, int port, char *out, size_t cap) {
  const reel_node_t *s = reel_node_input(n, port);
  if (!s)
    snprintf(out, cap, "-");
  else if (reel_node_name(s))
    snprintf(out, cap, "%s '%s'", reel_node_type(s), reel_node_name(s));
  else
    snprintf(out, cap, "%s, line %d", reel_node_type(s), reel_node_line(s));
}

static void section_dataset(page_t *g, reel_html_t *h) {
  if (!g->nds) return;
  int tw = g->p->thumb * 3 / 8 < 64 ? 64 : g->p->thumb * 3 / 8;
  char from[256];
  source_of(g->j->node, DATASET, from, sizeof from);
  reel_html_printf(h,
                   "<section id=\"dataset\"><h2>Dataset</h2><p class=\"note\">%d training "
                   "frame%s from ",
                   g->nds, g->nds == 1 ? "" : "s");
  reel_html_text(h, from);
  reel_html_printf(h, ".</p><div class=\"row dataset\" style=\"--dthumb:%dpx\">\n", tw);
  for (int i = 0; i < g->nds && !h->bad; i++) {
    int w, hh;
    float *rgb = reel_report_display(g->j->node, g->ds[i], g->p->space, "dataset", &w, &hh);
    if (!rgb) {
      h->bad = 1;
      break;
    }
    char alt[128];
    char cap[64];
    if (g->ds_frame[i] == REEL_FRAME_CONST)
      snprintf(cap, sizeof cap, "a still");
    else
      snprintf(cap, sizeof cap, "frame %d", g->ds_frame[i]);
    snprintf(alt, sizeof alt, "alt=\"dataset, %s\"", cap);
    reel_html_put(h, "<figure>");
    embed_thumb(g, h, rgb, w, hh, tw, alt);
    reel_html_printf(h, "<figcaption>%s</figcaption></figure>\n", cap);
    free(rgb);
  }
  reel_html_put(h, "</div></section>\n");
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The run directory named by the model's provenance ("run_dir: PATH"). */
static int run_dir(const reel_model_t *m, char *out, size_t cap) {
  const char *s = m && m->info ? m->info : "";
  for (; *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : s + strlen(s))
    if (!strncmp(s, "run_dir: ", 9)) {
      snprintf(out, cap, "%.*s", (int)strcspn(s + 9, "\n"), s + 9);
      return out[0] ? 0 : -1;
    }
  return -1;
}

/* Contact sheets: the first and the last three, embedded as they are. */
static void contact_sheets(reel_html_t *h, const char *dir) {
  char path[4400];
  snprintf(path, sizeof path, "%s/contact", dir);
  DIR *d = opendir(path);
  char **names = NULL;
  int n = 0, cap = 0;
  for (struct dirent *e; d && (e = readdir(d));) {
    size_t l = strlen(e->d_name);
    if (strncmp(e->d_name, "step-", 5) || l < 10 || strcmp(e->d_name + l - 4, ".png")) continue;
    if (n == cap) {
      char **nn = realloc(names, sizeof *nn * (size_t)(cap = cap ? cap * 2 : 64));
      if (!nn) break;
      names = nn;
    }
    if (!(names[n] = strdup(e->d_name))) break;
    n++;
  }
  if (d) closedir(d);
  if (!n) {
    reel_html_put(h, "<p class=\"note\">No contact sheets in ");
    reel_html_text(h, path);
    reel_html_put(h, ".</p>\n");
  } else {
    qsort(names, (size_t)n, sizeof *names, by_name); /* step-%08d: by name is by step */
    reel_html_printf(h,
                     "<p class=\"note\">%d contact sheet%s (input | output | target, then "
                     "preview input | output when Train has a preview); the first and the "
                     "last %s:</p><div class=\"row contact\">\n",
                     n, n == 1 ? "" : "s", n > 4 ? "three" : "ones");
  }
  for (int i = 0; i < n && !h->bad; i++) {
    if (i > 0 && i < n - 3) continue;
    reel_buf_t b = {0};
    snprintf(path, sizeof path, "%s/contact/%s", dir, names[i]);
    long step = strtol(names[i] + 5, NULL, 10);
    if (reel_report_read_file(path, (size_t)32 << 20, &b) || b.n < 24 ||
        memcmp(b.p, "\x89PNG\r\n\x1a\n", 8)) {
      reel_html_put(h, "<p class=\"note\">Skipped ");
      reel_html_text(h, path);
      reel_html_put(h, ": not a readable PNG.</p>\n");
      reel_error_clear();
    } else {
      /* small sheets (64-pixel patches) shown at least 160 pixels high, pixel for pixel */
      unsigned pw = (unsigned)b.p[16] << 24 | (unsigned)b.p[17] << 16 | b.p[18] << 8 | b.p[19];
      unsigned ph = (unsigned)b.p[20] << 24 | (unsigned)b.p[21] << 16 | b.p[22] << 8 | b.p[23];
      unsigned k = ph && ph < 160 ? (160 + ph - 1) / ph : 1;
      char alt[128];
      snprintf(alt, sizeof alt, "style=\"width:%upx\" alt=\"contact sheet, step %ld\"", pw * k,
               step);
      reel_html_put(h, "<figure>");
      reel_html_img(h, "image/png", b.p, b.n, alt);
      reel_html_printf(h, "<figcaption>step %ld</figcaption></figure>\n", step);
    }
    reel_buf_free(&b);
  }
  if (n) reel_html_put(h, "</div>\n");
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
}

static void section_training(page_t *g, reel_html_t *h) {
  if (!g->model) return;
  char dir[4096], csv[4200];
  reel_html_put(h, "<section id=\"training\"><h2>Training</h2>\n");
  if (run_dir(g->model, dir, sizeof dir)) {
    reel_html_put(h, "<p class=\"note\">The model names no run directory (run_dir): no loss "
                     "curve or contact sheets.</p></section>\n");
    return;
  }
  struct stat st;
  if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
    reel_html_put(h, "<p class=\"note\">The run directory ");
    reel_html_text(h, dir);
    reel_html_put(h, " is gone: no loss curve or contact sheets.</p></section>\n");
    return;
  }
  reel_html_put(h, "<p>Run directory: <code>");
  reel_html_text(h, dir);
  reel_html_put(h, "</code></p>\n<h3>Loss</h3>\n<div class=\"loss\">");
  snprintf(csv, sizeof csv, "%s/loss.csv", dir);
  int steps = reel_report_loss_svg(h, csv);
  if (steps <= 0) {
    reel_html_put(h, "<p class=\"note\">No loss curve: ");
    reel_html_text(h, steps < 0 ? reel_error_get() : "loss.csv has no steps");
    reel_html_put(h, "</p>");
    reel_error_clear();
  }
  reel_html_put(h, "</div>\n<h3>Contact sheets</h3>\n");
  contact_sheets(h, dir);
  reel_html_put(h, "</section>\n");
}

static void section_frames(page_t *g, reel_html_t *h) {
  reel_html_put(h, "<section id=\"frames\"><h2>Held-out frames</h2>\n");
  for (int i = 0; i < g->nf && !h->bad; i++) {
    int f = (int)g->p->frames.v[i], n = 0;
    reel_html_printf(h,
                     "<div class=\"frame\" id=\"frame-%d\"><h3>Frame %d</h3>"
                     "<div class=\"row\">\n",
                     f, f);
    for (int k = 0; k < NSHOWN; k++) {
      int port = shown[k];
      float *rgb = g->rgb[i * (REFERENCE + 1) + port];
      if (!rgb) continue;
      char attrs[256], from[256];
      snprintf(attrs, sizeof attrs, "alt=\"%s, frame %d\" data-role=\"%s\" data-label=\"%s\"",
               label[port], f, inputs[port].name, label[port]);
      source_of(g->j->node, port, from, sizeof from);
      reel_html_put(h, "<figure>");
      embed_thumb(g, h, rgb, g->w, g->h, g->p->thumb, attrs);
      reel_html_printf(h, "<figcaption><b>%s</b> \xc2\xb7 ", label[port]);
      reel_html_text(h, from);
      reel_html_put(h, "</figcaption></figure>\n");
      n++;
    }
    reel_html_put(h, "</div>\n");
    if (n >= 2) { /* first pair: ML (else the baseline, else the reference) over the source */
      const float *const *r = (const float *const *)g->rgb + i * (REFERENCE + 1);
      const char *top = r[ML] ? "ml" : r[BASELINE] ? "baseline" : "reference";
      reel_html_printf(h,
                       "<div class=\"wipe\" data-roles=\"ml baseline source reference\" "
                       "data-top=\"%s\" data-bottom=\"source\"></div>\n",
                       top);
    }
    reel_html_put(h, "</div>\n");
  }
  reel_html_put(h, "</section>\n");
}

/* ---- metrics ---- */

static const struct {
  int idx, higher;
  const char *name, *head, *fmt;
} cols[] = {
    {REEL_CMP_PSNR, 1, "psnr", "PSNR (dB) \xe2\x86\x91", "%.3f"},
    {REEL_CMP_PSNR_CHROMA, 1, "psnr_chroma", "chroma PSNR (dB) \xe2\x86\x91", "%.3f"},
    {REEL_CMP_DE_MEAN, 0, "de2000_mean", "\316\224E00 mean \xe2\x86\x93", "%.4f"},
    {REEL_CMP_DE_P95, 0, "de2000_p95", "\316\224E00 p95 \xe2\x86\x93", "%.4f"},
    {REEL_CMP_SSIM, 1, "ssim", "SSIM \xe2\x86\x91", "%.5f"},
};
#define NCOLS 5
static const int candidates[] = {SOURCE, BASELINE, ML};

/* One block of rows (a frame, or the mean): v[k][REEL_CMP_N] for each
 * candidate k present (have[k]); the best per column marked. */
static void metric_rows(reel_html_t *h, const char *frame, double v[3][REEL_CMP_N],
                        const int have[3]) {
  int nhave = have[0] + have[1] + have[2], first = 1;
  for (int k = 0; k < 3; k++) {
    if (!have[k]) continue;
    int port = candidates[k];
    reel_html_printf(h, "<tr class=\"%s%s\" data-frame=\"%s\" data-image=\"%s\">",
                     first ? "first" : "", strcmp(frame, "mean") ? "" : " mean", frame,
                     inputs[port].name);
    if (first) reel_html_printf(h, "<td class=\"frame\" rowspan=\"%d\">%s</td>", nhave, frame);
    reel_html_printf(h, "<td class=\"what\">%s</td>", label[port]);
    for (int c = 0; c < NCOLS; c++) {
      double x = v[k][cols[c].idx];
      int best = nhave > 1 && !isnan(x);
      for (int o = 0; o < 3 && best; o++)
        if (o != k && have[o] && !isnan(v[o][cols[c].idx]))
          best = cols[c].higher ? x >= v[o][cols[c].idx] : x <= v[o][cols[c].idx];
      char txt[64];
      if (isnan(x))
        snprintf(txt, sizeof txt, "\xe2\x80\x93");
      else if (isinf(x))
        snprintf(txt, sizeof txt, "%s\xe2\x88\x9e", x < 0 ? "-" : "");
      else
        snprintf(txt, sizeof txt, cols[c].fmt, x);
      reel_html_printf(h, "<td%s data-metric=\"%s\" data-value=\"%.10g\">%s</td>",
                       best ? " class=\"best\"" : "", cols[c].name, x, txt);
    }
    reel_html_put(h, "</tr>\n");
    first = 0;
  }
}

/* Measures source, baseline and ML against the reference at each held-out
 * frame with reel_compare_metrics, on display R'G'B' uploaded to the device,
 * into g->met (NULL without a reference). 0 / -1. */
static int measure(page_t *g) {
  if (!g->rgb[REFERENCE]) return 0;
  if (!(g->met = calloc((size_t)g->nf + 1, sizeof *g->met))) {
    reel_node_error(g->j->node, REEL_EIO, "out of memory");
    return -1;
  }
  reel_cl_t *cl = g->im[0]->cl;
  reel_box_t box = {0, 0, g->w, g->h};
  int rc = 0;
  for (int k = 0; k < 3; k++) g->have[k] = g->rgb[candidates[k]] != NULL;
  for (int i = 0; i < g->nf && !rc; i++) {
    float **r = g->rgb + i * (REFERENCE + 1);
    reel_image_t *ref = reel_image_new(cl, 3, NULL, box, box), *cand = NULL;
    if (!ref || reel_image_upload(ref, r[REFERENCE])) rc = -1;
    for (int k = 0; k < 3 && !rc; k++) {
      if (!g->have[k]) continue;
      if (!(cand = reel_image_new(cl, 3, NULL, box, box)) ||
          reel_image_upload(cand, r[candidates[k]]) ||
          reel_compare_metrics(cand, ref, box, g->met[i][k])) {
        reel_error_prefix("%s: frame %d, '%s' against 'reference':", reel_node_label(g->j->node),
                          (int)g->p->frames.v[i], inputs[candidates[k]].name);
        rc = -1;
      }
      reel_image_unref(cand);
      for (int m = 0; m < REEL_CMP_N && !rc; m++) g->met[g->nf][k][m] += g->met[i][k][m] / g->nf;
    }
    reel_image_unref(ref);
  }
  return rc;
}

static void section_metrics(page_t *g, reel_html_t *h) {
  reel_html_put(h, "<section id=\"metrics\"><h2>Metrics</h2>\n");
  if (!g->met) {
    reel_html_put(h, "<p class=\"note\">No reference connected: nothing to measure "
                     "against.</p></section>\n");
    return;
  }
  reel_html_printf(h,
                   "<p class=\"note\">Against the reference, over the whole frame, by "
                   "Compare's code (<code>reel compare</code> gives the same numbers). "
                   "\xe2\x86\x91 higher is better, \xe2\x86\x93 lower is better; the best "
                   "of each column within a frame is highlighted. The last block is the "
                   "mean over the %d held-out frame%s.</p>\n",
                   g->nf, g->nf == 1 ? "" : "s");
  reel_html_put(h, "<table class=\"metrics\"><thead><tr><th>frame</th><th>image</th>");
  for (int c = 0; c < NCOLS; c++) reel_html_printf(h, "<th>%s</th>", cols[c].head);
  reel_html_put(h, "</tr></thead><tbody>\n");
  for (int i = 0; i < g->nf; i++) {
    char fr[32];
    snprintf(fr, sizeof fr, "%d", (int)g->p->frames.v[i]);
    metric_rows(h, fr, g->met[i], g->have);
  }
  metric_rows(h, "mean", g->met[g->nf], g->have);
  reel_html_put(h, "</tbody></table></section>\n");
}

/* One line of the means for the top of the page. */
static void summary(page_t *g, reel_html_t *h) {
  if (!g->met) return;
  static const int show[] = {REEL_CMP_PSNR_CHROMA, REEL_CMP_DE_MEAN};
  static const char *const what[] = {"chroma PSNR", "\316\224E00 mean"};
  reel_html_printf(h, "<dt>summary</dt><dd class=\"summary\">mean of %d frame%s:", g->nf,
                   g->nf == 1 ? "" : "s");
  for (int s = 0; s < 2; s++) {
    reel_html_printf(h, "%s %s", s ? ";" : "", what[s]);
    for (int k = 0, first = 1; k < 3; k++) {
      if (!g->have[k]) continue;
      reel_html_printf(h, "%s %s %.2f", first ? "" : ",", label[candidates[k]],
                       g->met[g->nf][k][show[s]]);
      first = 0;
    }
    reel_html_put(h, s ? "" : " dB");
  }
  reel_html_put(h, "</dd>\n");
}

/* ---- the page ---- */

static void head(page_t *g, reel_html_t *h) {
  reel_node_t *n = g->j->node;
  const report_t *p = g->p;
  char title[1024], when[64], keyhex[REEL_KEY_HEX], lineage[2048] = "";
  const char *file = reel_node_file(n), *base = strrchr(file, '/');
  snprintf(title, sizeof title, "%s%s", p->title ? p->title : "QC report: ",
           p->title ? ""
           : base   ? base + 1
                    : file);
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tmv);
  reel_key_hex(&g->j->key, keyhex);
  reel_node_lineage(n, lineage, sizeof lineage);
  reel_html_put(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width\">\n<title>");
  reel_html_text(h, title);
  reel_html_printf(h, "</title>\n<meta name=\"generator\" content=\"reel %s\">\n<style>\n",
                   reel_version());
  reel_html_put(h, reel_report_css);
  reel_html_printf(h, "</style></head>\n<body style=\"--thumb:%dpx\"><main>\n<h1>", p->thumb);
  reel_html_text(h, title);
  reel_html_put(h, "</h1>\n<nav><a href=\"#graph\">graph</a>");
  if (g->nds) reel_html_put(h, "<a href=\"#dataset\">dataset</a>");
  if (g->model) reel_html_put(h, "<a href=\"#training\">training</a>");
  reel_html_put(h, "<a href=\"#frames\">held-out frames</a><a href=\"#metrics\">metrics</a>"
                   "</nav>\n<section id=\"provenance\"><dl class=\"prov\">\n<dt>graph</dt><dd>");
  reel_html_text(h, file);
  reel_html_put(h, "</dd>\n<dt>report</dt><dd>");
  reel_html_text(h, reel_node_label(n));
  reel_html_printf(h,
                   "</dd>\n<dt>date</dt><dd>%s</dd>\n<dt>reel</dt><dd>%s</dd>\n"
                   "<dt>key</dt><dd>%s</dd>\n<dt>lineage</dt><dd>",
                   when, reel_version(), keyhex);
  reel_html_text(h, lineage);
  reel_html_put(h, "</dd>\n<dt>held-out frames</dt><dd>");
  for (int i = 0; i < g->nf; i++) reel_html_printf(h, "%s%d", i ? " " : "", (int)p->frames.v[i]);
  reel_html_printf(h, "</dd>\n<dt>display</dt><dd>space = \"%s\" (%dx%d)</dd>\n", spaces[p->space],
                   g->w, g->h);
  summary(g, h);
  if (g->model) {
    const reel_model_t *m = g->model;
    const char *size = reel_model_size(m);
    reel_html_printf(h,
                     "<dt>model</dt><dd>%s U-Net, %s, %zu parameters, %lld steps, loss "
                     "%.6g</dd>\n",
                     size ? size : "custom", m->arch.mode == REEL_NN_CHROMA ? "chroma" : "rgb",
                     m->nparams, (long long)m->steps, m->loss);
  }
  reel_html_put(h, "</dl>\n");
  if (g->model) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f && !reel_model_describe(g->model, f) && !fclose(f)) {
      reel_html_put(h, "<details><summary>model information (as <code>reel model "
                       "info</code>)</summary><pre>");
      reel_html_text(h, text);
      reel_html_put(h, "</pre></details>\n");
    } else if (f)
      fclose(f);
    free(text);
  }
  reel_html_put(h, "</section>\n");
}

/* The page in two parts: head (with the date) and body (everything that
 * follows from the inputs: its hash is what --verify compares). */
static int build(page_t *g, reel_html_t *hd, reel_html_t *body) {
  reel_node_t *n = g->j->node;
  const report_t *p = g->p;
  int rc = -1;
  g->nf = p->frames.n;
  g->im = calloc((size_t)g->nf * (REFERENCE + 1), sizeof *g->im);
  g->rgb = calloc((size_t)g->nf * (REFERENCE + 1), sizeof *g->rgb);
  g->ds = calloc((size_t)g->j->nin + 1, sizeof *g->ds);
  g->ds_frame = calloc((size_t)g->j->nin + 1, sizeof *g->ds_frame);
  if (!g->im || !g->rgb || !g->ds || !g->ds_frame) {
    reel_node_error(n, REEL_EIO, "out of memory");
    return -1;
  }
  /* the inputs in the order of the frames callback: the k-th request of an
   * image port is its k-th held-out frame */
  int seen[REFERENCE + 1] = {0};
  for (int i = 0; i < g->j->nin; i++) {
    int port = g->j->req[i].port;
    if (port == MODEL) {
      g->model = reel_model_cast(g->j->in[i]);
    } else if (port == DATASET) {
      if (!(g->ds[g->nds] = reel_job_image(g->j, i))) return -1;
      g->ds_frame[g->nds++] = g->j->req[i].frame;
    } else if (!(g->im[seen[port]++ * (REFERENCE + 1) + port] = reel_job_image(g->j, i))) {
      return -1;
    }
  }
  for (int i = 0; i < g->nf * (REFERENCE + 1); i++) {
    if (!g->im[i]) continue;
    int w, h, port = i % (REFERENCE + 1);
    if (!(g->rgb[i] = reel_report_display(n, g->im[i], p->space, inputs[port].name, &w, &h)))
      return -1;
    if (i == 0) {
      g->w = w;
      g->h = h;
    } else if (w != g->w || h != g->h) {
      reel_node_error(n, REEL_EUSER, "'%s' at frame %d is %dx%d, 'source' %dx%d: add a Reformat",
                      inputs[port].name, (int)p->frames.v[i / (REFERENCE + 1)], w, h, g->w, g->h);
      return -1;
    }
  }
  if (measure(g)) return -1;
  head(g, hd);
  reel_html_put(body, "<section id=\"graph\"><h2>Graph</h2><div class=\"graph\">");
  reel_report_graph_svg(body, n);
  reel_html_put(body, "</div><p class=\"note\">Data flows left to right, in columns by depth "
                      "from the outputs; bold boxes are sinks, the blue one is this report. "
                      "Hover a box for its Lua line.</p></section>\n");
  section_dataset(g, body);
  section_training(g, body);
  section_frames(g, body);
  section_metrics(g, body);
  reel_html_put(body, "</main>\n<script>\n");
  reel_html_put(body, reel_report_js);
  reel_html_put(body, "</script>\n</body></html>\n");
  if (!hd->bad && !body->bad) rc = 0;
  return rc;
}

static void page_clear(page_t *g) {
  for (int i = 0; g->rgb && i < g->nf * (REFERENCE + 1); i++) free(g->rgb[i]);
  free(g->rgb);
  free(g->met);
  free(g->im);
  free(g->ds);
  free(g->ds_frame);
}

static void content_hash(const reel_html_t *body, char out[REEL_KEY_HEX]) {
  reel_key_t k = reel_key_of(body->b.p, body->b.n);
  reel_key_hex(&k, out);
}

static int write_file(reel_node_t *n, const char *path, const reel_html_t *a,
                      const reel_html_t *b) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
  FILE *f = fopen(tmp, "wb");
  int ok = f && fwrite(a->b.p, 1, a->b.n, f) == a->b.n && fwrite(b->b.p, 1, b->b.n, f) == b->b.n;
  ok = f && !fflush(f) && !fsync(fileno(f)) && ok;
  if (f && fclose(f)) ok = 0;
  if (ok && !rename(tmp, path)) return 0;
  reel_node_error(n, REEL_EIO, "cannot write '%s': %s", path, strerror(errno));
  unlink(tmp);
  return -1;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const report_t *p = pv;
  page_t g = {.j = j, .p = p};
  reel_html_t hd = {0}, body = {0};
  reel_record_t *rec = NULL;
  char content[REEL_KEY_HEX];
  int rc = -1;
  if (p->mkdirs && reel_mkdirs_for(p->path)) {
    reel_node_error(j->node, REEL_EIO, "cannot create the directory of '%s': %s", p->path,
                    strerror(errno));
    return -1;
  }
  snprintf(g.tmp, sizeof g.tmp, "%s.thumb-%d.%s", p->path, (int)getpid(),
           p->format ? "png" : "jpg");
  if (build(&g, &hd, &body) || write_file(j->node, p->path, &hd, &body)) goto out;
  content_hash(&body, content);
  if (!(rec = reel_record_new()) || reel_record_file(rec, p->path) ||
      reel_meta_set(&rec->kv, "content", content)) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    goto out;
  }
  fprintf(stderr, "reel: %s: wrote %s (%.1f MB)\n", reel_node_label(j->node), p->path,
          (double)(hd.b.n + body.b.n) / 1048576.0);
  *out = &rec->v;
  rec = NULL;
  rc = 0;
out:
  if (rec) reel_value_unref(&rec->v);
  page_clear(&g);
  reel_html_free(&hd);
  reel_html_free(&body);
  return rc;
}

static int valid(reel_job_t *j, const void *pv, reel_value_t *cached) {
  return reel_record_file_valid(reel_record_cast(cached));
}

/* --verify: the page rebuilt from fresh inputs must match the one written,
 * apart from its date. */
static int verify(reel_job_t *j, const void *pv, reel_value_t *cached) {
  const report_t *p = pv;
  reel_record_t *r = reel_record_cast(cached);
  page_t g = {.j = j, .p = p};
  reel_html_t hd = {0}, body = {0};
  char now[REEL_KEY_HEX];
  int rc = -1;
  snprintf(g.tmp, sizeof g.tmp, "%s.thumb-%d.%s", p->path, (int)getpid(),
           p->format ? "png" : "jpg");
  if (r && !build(&g, &hd, &body)) {
    content_hash(&body, now);
    const char *was = reel_meta_get(&r->kv, "content");
    if (was && !strcmp(was, now))
      rc = 0;
    else
      reel_node_error(j->node, REEL_EINTERNAL,
                      "--verify: '%s' was written from different inputs than the graph gives "
                      "now. The key misses something the page depends on; please report this "
                      "with the graph file",
                      p->path);
  }
  page_clear(&g);
  reel_html_free(&hd);
  reel_html_free(&body);
  return rc;
}

const reel_node_desc_t reel_node_report = {
    .name = "Report",
    .version = 1,
    .summary = "A self-contained HTML QC page of a restoration run: graph, training, "
               "held-out frames with wipes, metrics",
    .doc = "One .html file with everything embedded (images as data: URIs, no external "
           "files): provenance (graph file, date, reel version, key, model information); the "
           "whole graph as a picture; the dataset frames; the loss curve (log axis, moving "
           "average) and the first and last contact sheets from the model's run directory; "
           "for each held-out frame the source, baseline, ML result and reference side by "
           "side and a wipe between any two of them; and a table of PSNR, chroma PSNR, mean "
           "and 95th-percentile CIEDE2000 and SSIM of source, baseline and ML against the "
           "reference per frame and their mean, the best of each column highlighted, computed "
           "by Compare's code on the display sRGB images. Rendered like a Write (`reel "
           "render`, or `reel report` for the Report nodes only); an unchanged page is "
           "skipped. docs/report.md explains how to read it.",
    .inputs = inputs,
    .ninputs = NPORTS,
    .output = REEL_V_RECORD,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(report_t),
    .flags = REEL_NF_SINK | REEL_NF_DISK | REEL_NF_CONSTANT,
    .kernels = "reduce",
    .check = check,
    .clip = clip,
    .frames = frames,
    .key = key,
    .eval = eval,
    .valid = valid,
    .verify = verify,
};
