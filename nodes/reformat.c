/* Reformat: resizes the picture to a named format or to width x height.
 * The input format (display window) maps onto the new one: fit keeps the
 * aspect ratio inside it (letterbox or pillarbox), fill keeps it while
 * covering the format (the overhang is cropped), distort stretches each
 * axis. Separable resampling with box (area), bilinear, bicubic (Keys) or
 * Lanczos-3, the support widened by the downscale factor (antialiasing);
 * pixel centres at +0.5 (as OpenCV's resize). */
#include "warp_util.h"

#include <math.h>

typedef struct {
  int format, width, height, resize, filter;
  double cubic_a;
  int clip;
} reformat_t;

enum { FIT, FILL, DISTORT };
static const char *const resize_names[] = {"fit", "fill", "distort", NULL};
static const char *const filter_names[] = {"box", "bilinear", "bicubic", "lanczos3", NULL};
static const reel_filter_t filters[] = {REEL_FILTER_BOX, REEL_FILTER_BILINEAR, REEL_FILTER_BICUBIC,
                                        REEL_FILTER_LANCZOS3};

static const reel_param_desc_t params[] = {
    REEL_PENUM(reformat_t, format, reel_format_names, "custom",
               "PAL 720x576, HD 1920x1080, 2K_DCP 2048x1080, 2K_FULL 2048x1556 (full "
               "aperture), UHD 3840x2160, 4K_DCP 4096x2160, 4K_FULL 4096x3112; custom: width "
               "and height"),
    {"width", REEL_P_INT, 1, offsetof(reformat_t, width), {0}, NULL, 0, 65536, NULL,
     "width of a custom format", REEL_PF_STATIC},
    {"height", REEL_P_INT, 1, offsetof(reformat_t, height), {0}, NULL, 0, 65536, NULL,
     "height of a custom format", REEL_PF_STATIC},
    REEL_PENUM(reformat_t, resize, resize_names, "fit",
               "fit: whole picture inside, aspect kept (letterbox/pillarbox); fill: format "
               "covered, aspect kept, overhang cropped; distort: each axis stretched"),
    REEL_PENUM(reformat_t, filter, filter_names, "lanczos3",
               "box (area average), bilinear, bicubic (Keys, parameter cubic_a) or lanczos3; "
               "widened by the downscale factor"),
    REEL_PNUM(reformat_t, cubic_a, -0.5, -1, 0,
              "Keys' cubic parameter: -0.5 is Catmull-Rom (default), -0.75 matches OpenCV"),
    REEL_PBOOL(reformat_t, clip, 1,
               "keep only pixels inside the new format (else the data window may overhang it)"),
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to resize"}};

static int out_size(reel_node_t *n, const reformat_t *p, int *w, int *h) {
  if (reel_format_size(p->format, w, h) == 0) {
    if (p->width || p->height) {
      reel_node_error(n, REEL_EUSER, "give either format = \"%s\" or width and height, not both",
                      reel_format_names[p->format]);
      return -1;
    }
    return 0;
  }
  if (p->width <= 0 || p->height <= 0) {
    reel_node_error(n, REEL_EUSER, "give a format (\"HD\", \"2K_FULL\", ...) or width and height");
    return -1;
  }
  *w = p->width;
  *h = p->height;
  return 0;
}

static int check(reel_node_t *n, const void *pv) {
  int w, h;
  return out_size(n, pv, &w, &h);
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  int w, h;
  *out = in[0];
  if (out_size(n, pv, &w, &h)) return -1;
  out->display = (reel_box_t){0, 0, w, h};
  return 0;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const reformat_t *p = pv;
  reel_image_t *src = reel_job_image(j, 0), *im;
  int W, H;
  if (!src || out_size(j->node, p, &W, &H)) return -1;
  reel_box_t in = src->display, fmt = {0, 0, W, H};
  if (reel_box_empty(in)) {
    reel_node_error(j->node, REEL_EUSER, "the input's format is empty: nothing to resize");
    return -1;
  }
  double sx = (double)W / reel_box_w(in), sy = (double)H / reel_box_h(in);
  if (p->resize == FIT) sx = sy = fmin(sx, sy);
  if (p->resize == FILL) sx = sy = fmax(sx, sy);
  /* centre the input format on the new one */
  double tx = (W - sx * reel_box_w(in)) / 2 - sx * in.x0;
  double ty = (H - sy * reel_box_h(in)) / 2 - sy * in.y0;
  reel_filter_t f = filters[p->filter];
  double grow = reel_filter_reach(f, fmax(1, fmax(1 / sx, 1 / sy)));
  reel_mat3_t fwd = {{sx, 0, tx, 0, sy, ty, 0, 0, 1}};
  reel_box_t data = reel_geom_bbox(&fwd, src->data, grow, reel_geom_bound(fmt));
  if (p->clip) data = reel_box_intersect(data, fmt);
  if (reel_warp_resample(j, src, sx, sy, tx, ty, f, p->cubic_a, data, fmt, &im)) return -1;
  *out = &im->v;
  return 0;
}

const reel_node_desc_t reel_node_reformat = {
    .name = "Reformat",
    .version = 1,
    .summary = "Resize to a named format or width x height (fit, fill or distort)",
    .doc = "Output pixel (x, y) samples the input at ((x + 0.5 - tx) / s, (y + 0.5 - ty) / s), "
           "the input format centred on the new one. Samples outside the input's data window "
           "are 0, so a picture resized from a format-sized data window fades at its edges "
           "over the filter's radius.",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(reformat_t),
    .kernels = "warp",
    .check = check,
    .clip = clip,
    .eval = eval,
};
