/* The pieces of the Report node's page (nodes/report*.c): a text buffer
 * that remembers a failed append, HTML escaping and base64, the graph
 * picture and the loss curve as inline SVG, and the page's style and
 * script. Only the Report node uses them. */
#ifndef REEL_REPORT_H
#define REEL_REPORT_H

#include "buf.h"
#include "image.h"
#include "reel.h"

#include <stddef.h>

/* Appends never fail midway: the first failure sets bad (with reel_error)
 * and later appends do nothing; check bad once at the end. */
typedef struct {
  reel_buf_t b;
  int bad;
} reel_html_t;

void reel_html_free(reel_html_t *h);
void reel_html_raw(reel_html_t *h, const char *s, size_t n);
void reel_html_put(reel_html_t *h, const char *s);
void reel_html_printf(reel_html_t *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with & < > " ' escaped, for text and attribute values. */
void reel_html_text(reel_html_t *h, const char *s);
void reel_html_base64(reel_html_t *h, const void *p, size_t n);
/* <img src="data:MIME;base64,..." ATTRS> */
void reel_html_img(reel_html_t *h, const char *mime, const void *p, size_t n, const char *attrs);

/* The graph of `self` as an inline <svg>: every finished node as a box
 * (type, and the name or the Lua line) in a column by its depth from the
 * sinks (sinks on the right), edges from output to input port. self is drawn
 * highlighted. */
void reel_report_graph_svg(reel_html_t *h, const reel_node_t *self);

/* The loss curve of a training log (loss.csv with a header naming "step"
 * and "loss" columns) as an inline <svg> with a log y axis: the range of the
 * per-step loss and its moving average. Returns the number of steps
 * plotted, 0 when the file has none (nothing appended), -1 when it cannot
 * be read (reel_error says why; nothing appended). */
int reel_report_loss_svg(reel_html_t *h, const char *csv_path);

/* How images become display sRGB (the Report's `space`). */
enum { REEL_REPORT_SRGB, REEL_REPORT_YCBCR, REEL_REPORT_LINEAR };

/* The image as display R'G'B' over its display window: 3 planes of w*h
 * floats (malloc'd; free()), 0 outside the data window, converted from
 * `space`; unclamped, so the metrics see what Compare would. what: the port,
 * for errors. NULL with reel_node_error about n. */
float *reel_report_display(const reel_node_t *n, const reel_image_t *im, int space,
                           const char *what, int *w, int *h);
/* The thumbnail of display R'G'B' planes (w x h) at width tw (area average;
 * not enlarged), clamped to [0, 1], encoded as 8-bit "jpeg" (quality) or
 * "png" through a temporary file at tmp_path (removed again), appended to
 * out. Its size in *tw_out, *th_out. 0 / -1 with reel_error. */
int reel_report_thumb(const float *rgb, int w, int h, int tw, const char *format, int quality,
                      const char *tmp_path, reel_buf_t *out, int *tw_out, int *th_out);
/* Appends a whole file (at most max bytes) to out. 0 / -1 with reel_error. */
int reel_report_read_file(const char *path, size_t max, reel_buf_t *out);

extern const char reel_report_css[]; /* inside <style> */
extern const char reel_report_js[];  /* inside <script>: builds the wipes, marks <body> */

#endif
