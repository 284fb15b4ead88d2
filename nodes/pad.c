/* Pad: letterboxes or pads the picture without resampling. To a named
 * format, the input format is centred (on whole pixels) in the new one; by
 * margins, the format grows by {left, top, right, bottom} pixels (negative
 * margins shrink it). Only windows change: the data window moves with the
 * picture and everything outside it stays 0. With origin, the new format
 * starts at 0,0 (what most file formats and nodes expect). */
#include "warp_util.h"

typedef struct {
  int format;
  double margins[4];
  int origin;
} pad_t;

static const reel_param_desc_t params[] = {
    REEL_PENUM(pad_t, format, reel_format_names, "custom",
               "centre the picture in this format (see Reformat); custom: use margins"),
    {"margins", REEL_P_VECTOR, 4, offsetof(pad_t, margins), {0}, NULL, -65536, 65536, NULL,
     "{left, top, right, bottom} in whole pixels added around the format", REEL_PF_STATIC},
    REEL_PBOOL(pad_t, origin, 1, "move the new format's corner to 0,0"),
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to pad"}};

/* The new format and the shift of the picture, from the input format. */
static int layout(reel_node_t *n, const pad_t *p, reel_box_t in, reel_box_t *fmt, int *dx,
                  int *dy) {
  int w, h, m[4];
  for (int i = 0; i < 4; i++) {
    m[i] = (int)p->margins[i];
    if (m[i] != p->margins[i]) {
      reel_node_error(n, REEL_EUSER, "margins are whole pixels, not %g", p->margins[i]);
      return -1;
    }
  }
  if (reel_format_size(p->format, &w, &h) == 0) {
    if (m[0] || m[1] || m[2] || m[3]) {
      reel_node_error(n, REEL_EUSER, "give either format = \"%s\" or margins, not both",
                      reel_format_names[p->format]);
      return -1;
    }
    /* centred on whole pixels; the format's corner is 0,0 */
    *dx = (w - reel_box_w(in)) / 2 - in.x0;
    *dy = (h - reel_box_h(in)) / 2 - in.y0;
    *fmt = (reel_box_t){0, 0, w, h};
    return 0;
  }
  *fmt = (reel_box_t){in.x0 - m[0], in.y0 - m[1], in.x1 + m[2], in.y1 + m[3]};
  if (reel_box_empty(*fmt)) {
    reel_node_error(n, REEL_EUSER, "margins {%d, %d, %d, %d} leave an empty format", m[0], m[1],
                    m[2], m[3]);
    return -1;
  }
  *dx = *dy = 0;
  if (p->origin) {
    *dx = -fmt->x0;
    *dy = -fmt->y0;
    *fmt = (reel_box_t){0, 0, reel_box_w(*fmt), reel_box_h(*fmt)};
  }
  return 0;
}

static int check(reel_node_t *n, const void *pv) {
  const reel_clip_t *in = reel_node_input_clip(n, 0);
  reel_box_t fmt;
  int dx, dy;
  return in ? layout(n, pv, in->display, &fmt, &dx, &dy) : 0;
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  int dx, dy;
  *out = in[0];
  return layout(n, pv, in[0].display, &out->display, &dx, &dy);
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  reel_image_t *src = reel_job_image(j, 0);
  reel_box_t fmt;
  int dx, dy;
  if (!src || layout(j->node, pv, src->display, &fmt, &dx, &dy)) return -1;
  reel_box_t d = src->data;
  if (!reel_box_empty(d)) d = (reel_box_t){d.x0 + dx, d.y0 + dy, d.x1 + dx, d.y1 + dy};
  const char *names[REEL_MAXCH];
  for (int c = 0; c < src->nch; c++) names[c] = src->ch[c];
  reel_image_t *im = reel_image_new(src->cl, src->nch, names, d, fmt);
  if (!im || reel_meta_copy(&im->meta, &src->meta) ||
      (im->mem && reel_cl_copy(src->cl, src->mem, 0, im->mem, 0, reel_image_bytes(im)))) {
    reel_image_unref(im);
    return -1;
  }
  *out = &im->v;
  return 0;
}

const reel_node_desc_t reel_node_pad = {
    .name = "Pad",
    .version = 1,
    .summary = "Letterbox or pad to a format or by margins (windows only, no resampling)",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(pad_t),
    .check = check,
    .clip = clip,
    .eval = eval,
};
